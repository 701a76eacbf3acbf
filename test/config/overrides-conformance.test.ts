/**
 * The override parser against Hydra 1.3.2's own answers: every parse-mode case in
 * ../shared/conformance/hydra/cases (every field), and every override string the compose cases and the
 * bulk corpus use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { needsShared, sharedPath } from '../helpers/paths.js';
import {
  ChoiceSweep,
  Glob,
  IntervalSweep,
  OverrideParseError,
  ParsedDict,
  QuotedString,
  RangeSweep,
  parseOverride,
  type Override,
} from '../../src/config/overrides/index.js';
import { Float, formatFloat, isDict, type ConfigValue } from '../../src/config/values.js';

/** A parsed value in the cases' tagged form: `{int: 1}`, `{quoted: {text, quote}}`, `{choice_sweep: ...}`. */
function tag(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof QuotedString) return { quoted: { text: v.text, quote: v.quote } };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { int: Number(v) };
  if (v instanceof Float) return { float: Number.isFinite(v.value) ? v.value : formatFloat(v.value) };
  if (typeof v === 'string') return { str: v };
  if (Array.isArray(v)) return { list: v.map(tag) };
  if (v instanceof ParsedDict) return { dict: v.entries.map(([k, x]) => [tag(k), tag(x)]) };
  if (v instanceof ChoiceSweep)
    return { choice_sweep: { list: v.list.map(tag), simple_form: v.simpleForm, shuffle: v.shuffle, tags: [...v.tags].sort() } };
  if (v instanceof RangeSweep)
    return { range_sweep: { start: tag(v.start), stop: tag(v.stop), step: tag(v.step), shuffle: v.shuffle, tags: [...v.tags].sort() } };
  if (v instanceof IntervalSweep) return { interval_sweep: { start: tag(v.start), end: tag(v.end), tags: [...v.tags].sort() } };
  if (v instanceof Glob) return { glob: { include: v.include, exclude: v.exclude } };
  throw new Error(`cannot tag ${String(v)}`);
}

/** Config data in the same tagged form (dicts as key/value pairs, keys as strings). */
function tagConfig(v: ConfigValue): unknown {
  if (Array.isArray(v)) return { list: v.map(tagConfig) };
  if (isDict(v)) return { dict: Object.entries(v).map(([k, x]) => [{ str: k }, tagConfig(x)]) };
  return tag(v);
}

/** Expected dict keys are typed; ours become strings in config data. */
function keysAsStrings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keysAsStrings);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('dict' in o && Array.isArray(o.dict))
      return { dict: (o.dict as [unknown, unknown][]).map(([k, x]) => [{ str: keyText(k) }, keysAsStrings(x)]) };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, keysAsStrings(x)]));
  }
  return v;
}
function keyText(k: unknown): string {
  if (k === null) return 'null';
  const [[kind, val]] = Object.entries(k as Record<string, unknown>);
  return kind === 'bool' ? String(val) : kind === 'float' ? formatFloat(Number(val)) : String(val);
}

function describe(o: Override): Record<string, unknown> {
  const out: Record<string, unknown> = {
    input: o.input,
    key_or_group: o.keyOrGroup,
    package: o.package,
    type: o.type,
    value_type: o.valueType,
    is_sweep: o.isSweep(),
    is_hydra_override: o.isHydraOverride(),
    key_element: o.keyElement,
    value: tag(o.value),
  };
  if (o.valueType === 'ELEMENT') {
    out.value_as_str = o.valueAsStr();
    out.converted_value = tagConfig(o.convertedValue());
  }
  return out;
}

function readCmd(dir: string): Record<string, unknown> {
  return parseYaml(readFileSync(join(dir, 'cmd.txt'), 'utf8')) as Record<string, unknown>;
}

const casesDir = () => sharedPath('conformance', 'hydra', 'cases');

test('parse-mode cases match Hydra field by field', needsShared(), () => {
  const parseCases = readdirSync(casesDir()).filter((c) => existsSync(join(casesDir(), c, 'cmd.txt')) && readCmd(join(casesDir(), c)).mode === 'parse');
  assert.ok(parseCases.length >= 5, `found ${parseCases.length} parse cases`);
  let checked = 0;
  for (const c of parseCases) {
    const expected = parseYaml(readFileSync(join(casesDir(), c, 'expected.yaml'), 'utf8'), { version: '1.1' }) as Array<Record<string, unknown>>;
    for (const exp of expected) {
      const input = exp.input as string;
      const where = `case ${c}: ${JSON.stringify(input)}`;
      if ('error' in exp) {
        const err = exp.error as { error_class: string; error_message: string };
        assert.equal(err.error_class, 'hydra.errors.OverrideParseException', where);
        assert.throws(
          () => parseOverride(input),
          (e: unknown) => e instanceof OverrideParseError && e.hydraMessage === err.error_message && e.message.startsWith(err.error_message),
          where,
        );
        checked++;
        continue;
      }
      const o = parseOverride(input);
      const got = describe(o);
      for (const field of ['input', 'key_or_group', 'package', 'type', 'value_type', 'is_sweep', 'is_hydra_override', 'key_element', 'value', 'value_as_str']) {
        if (field in exp) assert.deepEqual(got[field], exp[field], `${where} ${field}`);
      }
      if ('converted_value' in exp) assert.deepEqual(got.converted_value, keysAsStrings(exp.converted_value), `${where} converted_value`);
      if ('sweep_values' in exp && Array.isArray(exp.sweep_values)) {
        const sv = o.sweepValues();
        assert.deepEqual(sv.map((x) => tag(x.element)), exp.sweep_values, `${where} sweep_values`);
        assert.deepEqual(sv.map((x) => x.text), exp.sweep_values_str, `${where} sweep_values_str`);
      }
      if ('sweep_values_sorted_str' in exp) {
        assert.deepEqual(o.sweepValues().map((x) => x.text).sort(), exp.sweep_values_sorted_str, `${where} sweep_values_sorted_str`);
      }
      if ('sweep_values_error' in exp) assert.throws(() => o.sweepValues(), where);
      checked++;
    }
  }
  assert.ok(checked >= 60, `checked ${checked} overrides`);
});

test('every override used by the compose cases and the bulk corpus parses (or fails as Hydra did)', needsShared(), () => {
  const inputs = new Map<string, string>(); // override -> where
  for (const c of readdirSync(casesDir())) {
    const dir = join(casesDir(), c);
    if (!existsSync(join(dir, 'cmd.txt'))) continue;
    const cmd = readCmd(dir);
    if (cmd.mode !== 'compose') continue;
    const overrides = cmd.overrides as string[];
    const errFile = join(dir, 'expected_error.txt');
    const err = existsSync(errFile) ? readFileSync(errFile, 'utf8') : '';
    if (err.includes('hydra.errors.OverrideParseException')) {
      // The case fails in the parser: the first override that does not parse gives Hydra's message.
      const message = err.split('=== error_message\n')[1].split('\n=== ')[0].replace(/\n$/, '');
      const bad = overrides.find((s) => {
        try {
          parseOverride(s);
          return false;
        } catch {
          return true;
        }
      });
      assert.ok(bad !== undefined, `case ${c}: expected a parse error`);
      assert.throws(() => parseOverride(bad), (e: unknown) => e instanceof OverrideParseError && e.hydraMessage === message, `case ${c}`);
      continue;
    }
    for (const s of overrides) inputs.set(s, `case ${c}`);
  }
  const bulk = sharedPath('conformance', 'hydra', 'bulk', 'fusion_bench_all_options.public.jsonl');
  for (const line of readFileSync(bulk, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    for (const s of (JSON.parse(line) as { overrides: string[] }).overrides) inputs.set(s, 'bulk');
  }
  assert.ok(inputs.size > 100, `collected ${inputs.size} overrides`);
  for (const [s, where] of inputs) {
    const o = parseOverride(s);
    assert.equal(o.input, s, where);
    // Group choices and values round-trip through Hydra's text form.
    if (o.valueType === 'ELEMENT') assert.equal(parseOverride(`${o.keyElement}=${o.valueAsStr()}`).valueAsStr(), o.valueAsStr(), `${where}: ${s}`);
  }
  const ta = parseOverride('modelpool=CLIPVisionModelPool/clip-vit-base-patch32_svhn_and_mnist');
  assert.equal(ta.keyOrGroup, 'modelpool');
  assert.equal(ta.convertedValue(), 'CLIPVisionModelPool/clip-vit-base-patch32_svhn_and_mnist');
});
