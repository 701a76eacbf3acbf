/**
 * Random and hostile overrides: the parser must answer every one quickly with an Override or an
 * OverrideParseError (and the Override's methods with a value or an OverrideValueError) — never another
 * exception, a stack overflow, or a hang. Seeded: set OVERRIDES_FUZZ_SEED to replay a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverrideParseError, OverrideValueError, parseOverride } from '../../src/config/overrides/index.js';
import { mulberry32 } from '../../src/util/prng.js';

const SEED = Number(process.env.OVERRIDES_FUZZ_SEED ?? 20240102);


/** Parses and exercises an override; returns the milliseconds it took. Fails on any unexpected exception. */
function exercise(input: string, label: string): number {
  const t0 = performance.now();
  try {
    const o = parseOverride(input);
    for (const use of [() => o.valueAsStr(), () => o.convertedValue(), () => o.sweepValues(['a', 'b', 'ab'])]) {
      try {
        use();
      } catch (e) {
        if (!(e instanceof OverrideValueError)) throw e;
      }
    }
  } catch (e) {
    if (!(e instanceof OverrideParseError)) {
      assert.fail(`${label}: ${JSON.stringify(input.length > 200 ? input.slice(0, 200) + '…' : input)} threw ${(e as Error)?.stack ?? String(e)}`);
    }
    assert.ok(e.column >= 0 && e.column <= [...input].length, `${label}: column ${e.column}`);
    assert.ok(e.message.startsWith(e.hydraMessage.split('\n')[0]), label);
  }
  return performance.now() - t0;
}

const PIECES = [
  '=', ',', '[', ']', '{', '}', '(', ')', ':', "'", '"', '\\', ' ', '\t', '$', '${', '}', '@', '~', '+', '++', '-', '.', '/', '_',
  'a', 'Z', '0', '1', '1_0', '1e3', '.5', 'inf', 'nan', 'true', 'null', 'choice(', 'range(', 'sort(', 'shuffle(', 'tag(', 'interval(',
  'glob(', 'int(', 'float(', 'str(', 'bool(', 'reverse=', 'list=', 'é', '\u{1F600}', '\n', '\u0000', '#', '%', '*', '?', '|', '\\,',
  '\\ ', "\\'", '${a.b}', "'q'", '"d"', 'x.y', 'a/b', '1.', '-1', '+inf',
];

function randomInput(next: () => number): string {
  const keys = ['x', '+x', '++x', '~x', 'a.b', 'g@p', 'a/b', 'hydra.x', '', '~'];
  let s = keys[Math.floor(next() * keys.length)] + (next() < 0.9 ? '=' : '');
  const n = Math.floor(next() * 24);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

test(`random overrides only ever give an Override or an OverrideParseError (seed ${SEED})`, () => {
  const next = mulberry32(SEED);
  let slowest = 0;
  let errors = 0;
  const N = 4000;
  for (let i = 0; i < N; i++) {
    const input = randomInput(next);
    try {
      parseOverride(input);
    } catch {
      errors++;
    }
    slowest = Math.max(slowest, exercise(input, `seed ${SEED} #${i}`));
  }
  // The generator must produce both outcomes, or the test proves little.
  assert.ok(errors > N / 10 && errors < N, `${errors} of ${N} failed to parse`);
  assert.ok(slowest < 250, `slowest input took ${slowest.toFixed(1)} ms`);
});

test('hostile inputs: deep nesting, huge inputs, lone quotes and backslashes', () => {
  const big = 200_000;
  const cases: Array<[string, string]> = [
    ['10k [', 'x=' + '['.repeat(10_000)],
    ['10k [ closed', 'x=' + '['.repeat(10_000) + ']'.repeat(10_000)],
    ['10k {', 'x=' + '{a:'.repeat(10_000)],
    ['10k calls', 'x=' + 'choice('.repeat(10_000) + ')'.repeat(10_000)],
    ['10k calls later in a sweep', 'x=1,' + 'int('.repeat(10_000) + '1' + ')'.repeat(10_000)],
    ['unterminated interpolations', 'x=' + '${'.repeat(big)],
    ['lone quote and a long tail', "x='" + 'a'.repeat(big)],
    ['lone double quote', 'x="'],
    ['backslashes', 'x=' + '\\'.repeat(big)],
    ['odd backslashes in quotes', "x='" + '\\'.repeat(1001) + "'"],
    ['huge list', 'x=[' + Array.from({ length: 50_000 }, (_, i) => String(i)).join(',') + ']'],
    ['huge sweep', 'x=' + Array.from({ length: 50_000 }, (_, i) => `v${i}`).join(',')],
    ['huge key', 'a'.repeat(big) + '=1'],
    ['huge dotted key', Array.from({ length: 20_000 }, () => 'a').join('.') + '=1'],
    ['whitespace', 'x=' + ' '.repeat(big)],
    ['unicode', 'x=\u{1F600}\u0301\u200b'],
    ['nul', 'x=a\u0000b'],
    ['newline', 'x=a\nb'],
    ['surrogate half', 'x=\ud800'],
    ['huge range', 'x=range(0,100000000000)'],
    ['huge float range', 'x=range(0,1e9,1e-9)'],
  ];
  for (const [label, input] of cases) {
    const ms = exercise(input, label);
    assert.ok(ms < 2000, `${label}: ${ms.toFixed(0)} ms`);
  }
  // Deep but reasonable nesting still parses.
  const o = parseOverride('x=' + '['.repeat(100) + '1' + ']'.repeat(100));
  assert.equal(o.valueAsStr(), '['.repeat(100) + '1' + ']'.repeat(100));
  assert.throws(() => parseOverride('x=' + '['.repeat(10_000)), (e: unknown) => e instanceof OverrideParseError && /nesting deeper/.test(e.message));
});
