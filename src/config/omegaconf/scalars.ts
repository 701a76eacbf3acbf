import { type Scalar, Float } from '../values.js';

/**
 * PyYAML 1.1 implicit typing of plain scalars as OmegaConf's loader configures it: PyYAML's resolvers
 * minus `timestamp`, plus OmegaConf's wider float rule (`1e-3` without a dot is a float).
 */
const BOOL_RE = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const PYYAML_FLOAT_RE =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const OMEGACONF_FLOAT_RE =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INT_RE = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const TIMESTAMP_RE =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

export type YamlTag = 'str' | 'bool' | 'int' | 'float' | 'null' | 'merge' | 'value' | 'timestamp';

/** The tag PyYAML gives a plain scalar. `forDump` uses the dumper's resolver (PyYAML's own: with timestamps, without OmegaConf's float rule). */
export function resolvePlainTag(text: string, forDump = false): YamlTag {
  if (text === '') return 'null';
  const c = text[0]!;
  if ('yYnNtTfFoO'.includes(c) && BOOL_RE.test(text)) return 'bool';
  if ('-+0123456789.'.includes(c)) {
    if (PYYAML_FLOAT_RE.test(text)) return 'float';
    if (!forDump && OMEGACONF_FLOAT_RE.test(text)) return 'float';
    if (INT_RE.test(text)) return 'int';
    if (forDump && TIMESTAMP_RE.test(text)) return 'timestamp';
    return 'str';
  }
  if (c === '<' && text === '<<') return 'merge';
  if ('~nN'.includes(c) && NULL_RE.test(text)) return 'null';
  if (c === '=' && text === '=') return 'value';
  return 'str';
}

/** PyYAML's construct_yaml_int. */
export function constructInt(text: string): number | bigint {
  let v = text.replace(/_/g, '');
  let sign = 1n;
  if (v[0] === '-') sign = -1n;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  let big: bigint;
  if (v === '0') big = 0n;
  else if (v.startsWith('0b')) big = BigInt('0b' + v.slice(2));
  else if (v.startsWith('0x')) big = BigInt('0x' + v.slice(2));
  else if (v[0] === '0') big = BigInt('0o' + v.slice(1));
  else if (v.includes(':')) {
    big = 0n;
    for (const part of v.split(':')) big = big * 60n + BigInt(part);
  } else big = BigInt(v);
  big *= sign;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** PyYAML's construct_yaml_float. */
export function constructFloat(text: string): Float {
  let v = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  if (v === '.inf') return new Float(sign * Infinity);
  if (v === '.nan') return new Float(NaN);
  if (v.includes(':')) {
    let x = 0;
    for (const part of v.split(':')) x = x * 60 + Number(part);
    return new Float(sign * x);
  }
  const x = Number(v);
  if (Number.isNaN(x)) throw new Error(`could not convert string to float: '${text}'`);
  return new Float(sign * x);
}

export function constructBool(text: string): boolean {
  const v = text.toLowerCase();
  return v === 'yes' || v === 'true' || v === 'on';
}

/** The value of a plain scalar under OmegaConf's loader; throws for `=` (PyYAML has no constructor for it). */
export function constructPlain(text: string): Scalar {
  switch (resolvePlainTag(text)) {
    case 'bool':
      return constructBool(text);
    case 'float':
      return constructFloat(text);
    case 'int':
      return constructInt(text);
    case 'null':
      return null;
    case 'value':
      throw new Error("could not determine a constructor for the tag 'tag:yaml.org,2002:value'");
    default:
      return text;
  }
}

const PY_WS = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu;
const PY_INT_RE = /^[+-]?\p{Nd}(?:_?\p{Nd})*$/u;
const PY_FLOAT_RE = /^[+-]?(?:(?:\p{Nd}(?:_?\p{Nd})*(?:\.(?:\p{Nd}(?:_?\p{Nd})*)?)?|\.\p{Nd}(?:_?\p{Nd})*)(?:[eE][+-]?\p{Nd}(?:_?\p{Nd})*)?|inf|infinity|nan)$/iu;

/** Python's `int(s)` succeeds (OmegaConf's `is_int`). */
export function pyIsInt(s: string): boolean {
  return PY_INT_RE.test(s.replace(PY_WS, ''));
}

/** Python's `float(s)` succeeds (OmegaConf's `is_float`). */
export function pyIsFloat(s: string): boolean {
  return PY_FLOAT_RE.test(s.replace(PY_WS, ''));
}

/** The strings OmegaConf's dumper quotes because YAML 1.1 readers could take them for booleans. */
export const YAML_BOOL_TYPES: ReadonlySet<string> = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE',
  'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF',
]);
