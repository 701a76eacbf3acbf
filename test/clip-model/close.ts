import assert from 'node:assert/strict';

/**
 * Asserts |actual - expected| ≤ atol + rtol·|expected| element-wise (numpy.allclose), reporting the worst
 * element. Defaults: the fixtures' float32 tolerance (relative 1e-5, absolute a little above float32
 * rounding of O(1) values).
 */
export function assertClose(actual: ArrayLike<number> | undefined, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 2e-5): void {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
