/**
 * Hydra's override functions (`hydra/_internal/grammar/grammar_functions.py`): casts, sweeps and helpers,
 * called the way Hydra's `Functions.eval` calls them — Python argument binding, then a type check of
 * each bound argument against the annotation, with Python's error messages.
 */
import { Float } from '../values.js';
import {
  PyError,
  isPyInt,
  normInt,
  pyFloatFromInt,
  pyFloatFromString,
  pyIntFromFloat,
  pyIntFromString,
  pyLt,
  pySorted,
  pyTruthy,
  pyTypeName,
  reprTuple,
} from './python.js';
import { ChoiceSweep, Glob, IntervalSweep, ParsedDict, QuotedString, RangeSweep, isSweep, type FunctionValue } from './types.js';
import { formatFloat } from '../values.js';

type V = FunctionValue;

interface Annotation {
  display: string;
  accepts(v: V): boolean;
}

interface Param {
  name: string;
  kind: 'positional' | 'varargs' | 'keyword';
  optional: boolean;
  type: Annotation;
}

interface FunctionDef {
  params: Param[];
  call(args: Map<string, V | V[]>): V;
}

const isNum = (v: V): boolean => typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof Float;
const isPrimitive = (v: V): boolean => isNum(v) || typeof v === 'string';

const CAST_T: Annotation = {
  display: 'Optional[Union[str, int, float, bool, List[Any], Dict[str, Any], QuotedString, Sweep]]',
  accepts: (v) => v === null || isPrimitive(v) || Array.isArray(v) || v instanceof ParsedDict || v instanceof QuotedString || isSweep(v),
};
const CHOICE_T: Annotation = {
  display: 'Union[str, int, float, bool, Dict[Any, Any], List[Any], ChoiceSweep]',
  accepts: (v) => isPrimitive(v) || Array.isArray(v) || v instanceof ParsedDict || v instanceof ChoiceSweep,
};
const NUM_T: Annotation = { display: 'Union[int, float]', accepts: isNum };
const OPT_NUM_T: Annotation = { display: 'Optional[Union[int, float]]', accepts: (v) => v === null || isNum(v) };
const TAG_T: Annotation = { display: 'Union[str, Sweep]', accepts: (v) => typeof v === 'string' || isSweep(v) };
const OPT_SWEEP_T: Annotation = { display: 'Optional[Sweep]', accepts: (v) => v === null || isSweep(v) };
const SORT_T: Annotation = {
  display: 'Union[str, int, bool, float, list, dict, ChoiceSweep, RangeSweep]',
  accepts: (v) => isPrimitive(v) || Array.isArray(v) || v instanceof ParsedDict || v instanceof ChoiceSweep || v instanceof RangeSweep,
};
const OPT_CHOICE_RANGE_T: Annotation = {
  display: 'Optional[Union[ChoiceSweep, RangeSweep]]',
  accepts: (v) => v === null || v instanceof ChoiceSweep || v instanceof RangeSweep,
};
const OPT_LIST_T: Annotation = { display: 'Optional[List[Any]]', accepts: (v) => v === null || Array.isArray(v) };
const BOOL_T: Annotation = { display: 'bool', accepts: (v) => typeof v === 'boolean' };
const GLOB_T: Annotation = { display: 'Union[List[str], str]', accepts: (v) => typeof v === 'string' || Array.isArray(v) };
const OPT_GLOB_T: Annotation = { display: 'Optional[Union[str, List[str]]]', accepts: (v) => v === null || typeof v === 'string' || Array.isArray(v) };

const pos = (name: string, type: Annotation, optional = false): Param => ({ name, kind: 'positional', optional, type });
const varargs = (type: Annotation): Param => ({ name: 'args', kind: 'varargs', optional: true, type });
const kw = (name: string, type: Annotation): Param => ({ name, kind: 'keyword', optional: true, type });

const arg = (a: Map<string, V | V[]>, name: string, dflt: V = null): V => (a.has(name) ? (a.get(name) as V) : dflt);
const rest = (a: Map<string, V | V[]>): V[] => (a.get('args') as V[] | undefined) ?? [];

// ---- casts

type Cast = (v: V) => V;

function normalizeCast(args: V[], value: V): V {
  if (args.length > 0 && value !== null) throw new PyError('TypeError', 'cannot use both position and named arguments');
  if (value !== null) return value;
  if (args.length === 0) throw new PyError('TypeError', 'No positional args or value specified');
  if (args.length === 1) return args[0];
  return listToSimpleChoice(args);
}

function listToSimpleChoice(args: V[]): ChoiceSweep {
  for (const a of args) if (isSweep(a) || a instanceof Glob) throw new PyError('AssertionError', '');
  return new ChoiceSweep(args.slice(), true);
}

function castContainers(v: V, self: Cast): V | undefined {
  if (v instanceof QuotedString) return self(v.text);
  if (v instanceof ParsedDict) return new ParsedDict(v.entries.map(([k, x]) => [k, self(x)] as [typeof k, V]) as ParsedDict['entries']);
  if (Array.isArray(v)) return v.map(self);
  if (v instanceof ChoiceSweep) {
    const list = v.list.map((x) => {
      const c = self(x);
      if (c === null || !(isPrimitive(c) || Array.isArray(c) || c instanceof ParsedDict)) throw new PyError('AssertionError', '');
      return c;
    });
    return new ChoiceSweep(list, v.simpleForm);
  }
  return undefined;
}

function castRange(v: RangeSweep, fn: Cast): RangeSweep {
  if (fn !== castInt && fn !== castFloat) throw new PyError('ValueError', 'Range can only be cast to int or float');
  return new RangeSweep(fn(v.start), fn(v.stop), fn(v.step));
}

function castInterval(v: IntervalSweep, fn: Cast): IntervalSweep {
  const out = new IntervalSweep(fn(v.start), fn(v.end));
  out.tags = new Set(v.tags);
  return out;
}

function assertPrimitive(v: V): void {
  if (!isPrimitive(v)) throw new PyError('AssertionError', '');
}

export const castInt: Cast = (v) => {
  const c = castContainers(v, castInt);
  if (c !== undefined) return c;
  if (v instanceof RangeSweep) return castRange(v, castInt);
  if (v instanceof IntervalSweep) return castInterval(v, castInt);
  assertPrimitive(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isPyInt(v)) return v;
  if (v instanceof Float) return pyIntFromFloat(v.value);
  return pyIntFromString(v as string);
};

export const castFloat: Cast = (v) => {
  const c = castContainers(v, castFloat);
  if (c !== undefined) return c;
  if (v instanceof RangeSweep) return castRange(v, castFloat);
  if (v instanceof IntervalSweep) return castInterval(v, castFloat);
  assertPrimitive(v);
  return new Float(toFloat(v));
};

export const castStr: Cast = (v) => {
  const c = castContainers(v, castStr);
  if (c !== undefined) return c;
  if (v instanceof RangeSweep) return castRange(v, castStr);
  if (v instanceof IntervalSweep) throw new PyError('ValueError', 'Intervals cannot be cast to str');
  assertPrimitive(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Float) return formatFloat(v.value);
  return String(v);
};

export const castBool: Cast = (v) => {
  const c = castContainers(v, castBool);
  if (c !== undefined) return c;
  if (v instanceof RangeSweep) return castRange(v, castBool);
  if (v instanceof IntervalSweep) throw new PyError('ValueError', 'Intervals cannot be cast to bool');
  if (typeof v === 'string') {
    if (v.toLowerCase() === 'false') return false;
    if (v.toLowerCase() === 'true') return true;
    throw new PyError('ValueError', `Cannot cast '${v}' to bool`);
  }
  return pyTruthy(v);
};

/** Python's float(x) of a bool, int, float or str. */
function toFloat(v: V): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isPyInt(v)) return pyFloatFromInt(v);
  if (v instanceof Float) return v.value;
  return pyFloatFromString(v as string);
}

const castDef = (fn: Cast): FunctionDef => ({
  params: [varargs(CAST_T), kw('value', CAST_T)],
  call: (a) => fn(normalizeCast(rest(a), arg(a, 'value'))),
});

// ---- arithmetic on Python numbers (for sort() of ranges)

function num(v: V): number | bigint | Float {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isPyInt(v) || v instanceof Float) return v;
  throw new PyError('TypeError', `bad operand type for abs(): '${pyTypeName(v)}'`);
}

function add(a: V, b: V): V {
  const x = num(a);
  const y = num(b);
  if (x instanceof Float || y instanceof Float) return new Float(Number(x instanceof Float ? x.value : x) + Number(y instanceof Float ? y.value : y));
  return normInt(BigInt(x) + BigInt(y));
}
function neg(a: V): V {
  const x = num(a);
  return x instanceof Float ? new Float(-x.value) : normInt(-BigInt(x));
}
function abs(a: V): V {
  const x = num(a);
  return x instanceof Float ? new Float(Math.abs(x.value)) : normInt(BigInt(x) < 0n ? -BigInt(x) : BigInt(x));
}
const sub = (a: V, b: V): V => add(a, neg(b));

// ---- sweeps and helpers

function choice(args: V[]): ChoiceSweep {
  if (args.length === 0) throw new PyError('ValueError', 'empty choice is not legal');
  if (args.length === 1 && args[0] instanceof ChoiceSweep) {
    const first = args[0];
    if (first.simpleForm) {
      first.simpleForm = false;
      return first;
    }
    throw new PyError('ValueError', 'nesting choices is not supported');
  }
  return new ChoiceSweep(args.slice());
}

function copySweep<S extends ChoiceSweep | RangeSweep>(s: S): S {
  const out = (s instanceof ChoiceSweep ? new ChoiceSweep(s.list, s.simpleForm, s.shuffle) : new RangeSweep(s.start, s.stop, s.step, s.shuffle)) as S;
  out.tags = s.tags;
  return out;
}

function sortSweep(sweep: ChoiceSweep | RangeSweep, reverse: boolean): ChoiceSweep | RangeSweep {
  const s = copySweep(sweep);
  if (s instanceof ChoiceSweep) {
    s.list = pySorted(s.list, reverse);
    return s;
  }
  if (!reverse) {
    if (pyLt(s.stop, s.start)) {
      const start = add(s.stop, abs(s.step));
      const stop = add(s.start, abs(s.step));
      s.start = start;
      s.stop = stop;
      s.step = neg(s.step);
    }
  } else if (pyLt(s.start, s.stop)) {
    const start = sub(s.stop, abs(s.step));
    const stop = sub(s.start, abs(s.step));
    s.start = start;
    s.stop = stop;
    s.step = neg(s.step);
  }
  return s;
}

function sort(args: V[], sweep: V, list: V, reverse: boolean): V {
  if (list !== null) return sort([list], null, null, reverse);
  if (sweep !== null) return sortSweep(sweep as ChoiceSweep | RangeSweep, reverse);
  if (args.length === 1) {
    const a = args[0];
    if (a instanceof ChoiceSweep || a instanceof RangeSweep) return sortSweep(a, reverse);
    if (Array.isArray(a)) return pySorted(a, reverse);
    if (!isSweep(a) && !(a instanceof Glob)) return a;
    throw new PyError('TypeError', `Invalid arguments: ${reprTuple(args)}`);
  }
  for (const a of args) if (!isPrimitive(a)) throw new PyError('TypeError', `Invalid arguments: ${reprTuple(args)}`);
  if (args.length === 0) throw new PyError('ValueError', 'empty sort input');
  return sortSweep(listToSimpleChoice(args), reverse);
}

/** Fisher-Yates with Math.random: Hydra shuffles with Python's unseeded `random.shuffle`. */
export function shuffled<T>(values: readonly T[]): T[] {
  const a = values.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function shuffle(args: V[], sweep: V, list: V): V {
  if (list !== null) return shuffle([list], null, null);
  if (sweep !== null) return shuffle([sweep], null, null);
  if (args.length === 1) {
    const a = args[0];
    if (a instanceof ChoiceSweep || a instanceof RangeSweep) {
      const s = copySweep(a);
      s.shuffle = true;
      return s;
    }
    if (Array.isArray(a)) return shuffled(a);
    return [a];
  }
  const c = listToSimpleChoice(args);
  c.shuffle = true;
  return c;
}

function tag(args: V[], sweep: V): V {
  if (args.length < 1) throw new PyError('ValueError', 'Not enough arguments to tag, must take at least a sweep');
  if (sweep !== null) return tag([...args, sweep], null);
  const last = args[args.length - 1];
  if (!isSweep(last)) throw new PyError('ValueError', 'Last argument to tag() must be a choice(), range() or interval(), got NoneType');
  const tags = new Set<string>();
  for (const t of args.slice(0, -1)) {
    if (typeof t !== 'string') throw new PyError('ValueError', `tag arguments type must be string, got ${pyTypeName(t)}`);
    tags.add(t);
  }
  last.tags = tags;
  return last;
}

function toFloatArg(v: V): Float {
  return new Float(toFloat(v));
}

const FUNCTIONS: Record<string, FunctionDef> = {
  int: castDef(castInt),
  str: castDef(castStr),
  bool: castDef(castBool),
  float: castDef(castFloat),
  choice: { params: [varargs(CHOICE_T)], call: (a) => choice(rest(a)) },
  range: {
    params: [pos('start', NUM_T), pos('stop', OPT_NUM_T, true), pos('step', NUM_T, true)],
    call: (a) => {
      let start = arg(a, 'start');
      let stop = arg(a, 'stop');
      if (stop === null) {
        stop = start;
        start = 0;
      }
      return new RangeSweep(start, stop, arg(a, 'step', 1));
    },
  },
  interval: {
    params: [pos('start', NUM_T), pos('end', NUM_T)],
    call: (a) => new IntervalSweep(toFloatArg(arg(a, 'start')), toFloatArg(arg(a, 'end'))),
  },
  tag: { params: [varargs(TAG_T), kw('sweep', OPT_SWEEP_T)], call: (a) => tag(rest(a), arg(a, 'sweep')) },
  sort: {
    params: [varargs(SORT_T), kw('sweep', OPT_CHOICE_RANGE_T), kw('list', OPT_LIST_T), kw('reverse', BOOL_T)],
    call: (a) => sort(rest(a), arg(a, 'sweep'), arg(a, 'list'), arg(a, 'reverse', false) as boolean),
  },
  shuffle: {
    params: [varargs(SORT_T), kw('sweep', OPT_CHOICE_RANGE_T), kw('list', OPT_LIST_T)],
    call: (a) => shuffle(rest(a), arg(a, 'sweep'), arg(a, 'list')),
  },
  glob: {
    params: [pos('include', GLOB_T), pos('exclude', OPT_GLOB_T, true)],
    call: (a) => {
      const inc = arg(a, 'include');
      const exc = arg(a, 'exclude');
      return new Glob(Array.isArray(inc) ? inc : [inc], exc === null ? [] : Array.isArray(exc) ? exc : [exc]);
    },
  },
};

/** Thrown for Hydra's own HydraException inside a function call (reported as "HydraException while ..."). */
export class UnknownFunction extends PyError {}

/**
 * Hydra's `Functions.eval`: unquote top-level quoted strings, bind like `inspect.Signature.bind`, check
 * each bound argument's type, call.
 */
export function callFunction(name: string, args: V[], kwargs: Map<string, V>): V {
  const def = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (def === undefined) {
    const available = Object.keys(FUNCTIONS).sort().join(',');
    throw new UnknownFunction('HydraException', `Unknown function '${name}'\nAvailable: ${available}\n`);
  }
  const unquote = (v: V): V => (v instanceof QuotedString ? v.text : v);
  const bound = bind(
    def.params,
    args.map(unquote),
    new Map([...kwargs].map(([k, v]) => [k, unquote(v)])),
  );
  for (const [pname, value] of bound) {
    const p = def.params.find((x) => x.name === pname)!;
    if (p.kind === 'varargs') {
      (value as V[]).forEach((v, i) => {
        if (!p.type.accepts(v))
          throw new PyError('TypeError', `mismatch type argument ${pname}[${i}]: ${pyTypeName(v)} is incompatible with ${p.type.display}`);
      });
    } else if (!p.type.accepts(value as V)) {
      throw new PyError('TypeError', `mismatch type argument ${pname}: ${pyTypeName(value)} is incompatible with ${p.type.display}`);
    }
  }
  return def.call(bound);
}

/** `inspect.Signature.bind` for the parameter shapes used here (positional-or-keyword, *args, keyword-only). */
function bind(params: Param[], args: V[], kwargs: Map<string, V>): Map<string, V | V[]> {
  const out = new Map<string, V | V[]>();
  const remaining = new Map(kwargs);
  let pi = 0;
  let ai = 0;
  for (; ai < args.length; ai++) {
    const p = params[pi];
    if (p === undefined || p.kind === 'keyword') throw new PyError('TypeError', 'too many positional arguments');
    if (p.kind === 'varargs') {
      out.set(p.name, args.slice(ai));
      ai = args.length;
      pi++;
      break;
    }
    if (remaining.has(p.name)) throw new PyError('TypeError', `multiple values for argument '${p.name}'`);
    out.set(p.name, args[ai]);
    pi++;
  }
  for (; pi < params.length; pi++) {
    const p = params[pi];
    if (p.kind === 'varargs') continue;
    if (remaining.has(p.name)) {
      out.set(p.name, remaining.get(p.name)!);
      remaining.delete(p.name);
    } else if (!p.optional) {
      throw new PyError('TypeError', `missing a required argument: '${p.name}'`);
    }
  }
  if (remaining.size > 0) throw new PyError('TypeError', `got an unexpected keyword argument '${remaining.keys().next().value}'`);
  return out;
}
