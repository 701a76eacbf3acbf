/**
 * The shortcuts Iso-CTS takes in the SVD kernels, against the long way round and against matrices built
 * with a known answer:
 * - polarWithValues without the eigenvectors of AᵀA's eigenvalues at 1 (stacked singular vectors, many
 *   of them orthonormal already), then a Newton–Schulz step;
 * - svdThinComplement (the common subspace's SVD with the orthogonal complement of its left singular
 *   vectors) and the residual SVDs taken in that complement (svd-pool-jobs.ts' `basis`) instead of
 *   after projecting the common subspace out (`project`).
 * Random, low-rank, repeated-σ and all-zero cases; where singular vectors are not unique the comparison
 * is on the reconstruction U Σ Vᵀ and the projector U Uᵀ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gram, gramT, matmul, matmulT, outsideUnitBand, polarWithValues, svdThin, svdThinComplement, symEig, transpose, type ThinSvd } from '../../src/method/linalg/dense.js';
import { runJob } from '../../src/method/linalg/svd-pool-jobs.js';
import { maxAbsDiff, random } from './linalg-helpers.js';

/** An m×m orthogonal matrix (eigenvectors of a random Gram matrix). */
function orthogonal(m: number, seed: number): Float64Array {
  return symEig(gram(random(m * m, seed), m, m), m).vectors;
}

/** Columns [from, to) of an m×n matrix. */
function cols(a: Float64Array, m: number, n: number, from: number, to: number): Float64Array {
  const w = to - from;
  const out = new Float64Array(m * w);
  for (let i = 0; i < m; i++) for (let j = 0; j < w; j++) out[i * w + j] = a[i * n + from + j]!;
  return out;
}

/** [X Y] of an m×p and an m×q matrix. */
function hcat(x: Float64Array, p: number, y: Float64Array, q: number, m: number): Float64Array {
  const out = new Float64Array(m * (p + q));
  for (let i = 0; i < m; i++) {
    out.set(x.subarray(i * p, (i + 1) * p), i * (p + q));
    out.set(y.subarray(i * q, (i + 1) * q), i * (p + q) + p);
  }
  return out;
}

/** U diag(σ) Wᵀ for U (m×k), W (n×k) given as columns. */
function usv(u: Float64Array, sig: readonly number[], w: Float64Array, m: number, k: number, n: number): Float64Array {
  return matmulT(Float64Array.from(u, (x, i) => x * sig[i % k]!), w, m, k, n);
}

/** U Σ Vᵀ of a thin SVD's first `keep` triplets. */
function reconstruct(d: ThinSvd, m: number, n: number, keep = d.k): Float64Array {
  const us = new Float64Array(m * keep);
  for (let i = 0; i < m; i++) for (let j = 0; j < keep; j++) us[i * keep + j] = d.u[i * d.k + j]! * d.s[j]!;
  return matmul(us, d.vt.subarray(0, keep * n), m, keep, n);
}

function eye(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

test('polar factor of [W Uc] (orthonormal Uc ⊥ W, as Iso-CTS stacks them): without the unit eigenvalues’ vectors, equal to [polar(W) Uc]', () => {
  const m = 150;
  const q = orthogonal(m, 1);
  for (const { c, w, sig, what } of [
    { c: 100, w: 40, sig: Array.from({ length: 40 }, (_, i) => 2 - i / 40), what: 'full-rank W' },
    // repeated singular values (exactly, and one of them 1: a unit eigenvalue outside Uc) and zero columns
    { c: 60, w: 30, sig: Array.from({ length: 30 }, (_, i) => (i < 8 ? 1.5 : i < 14 ? 1 : i < 20 ? 0.25 : 0)), what: 'W of rank 20 with repeats' },
  ]) {
    const n = w + c;
    const uc = cols(q, m, m, 0, c);
    const left = cols(q, m, m, c, c + w); // W's column space, inside Uc's complement
    const right = orthogonal(w, 2);
    const W = usv(left, sig, right, m, w, w);
    const a = hcat(W, w, uc, c, m);
    const rank = sig.filter((s) => s > 0).length;
    const polarW = matmulT(cols(left, m, w, 0, rank), cols(right, w, w, 0, rank), m, rank, w);
    const want = hcat(polarW, w, uc, c, m);
    const picked = outsideUnitBand(symEig(gram(a, m, n), n, 0).values);
    assert.ok(picked.length <= n - c, `${what}: the unit eigenvalues' vectors are left out (${picked.length} of ${n} computed)`);
    const { p, s } = polarWithValues(a, m, n);
    assert.ok(maxAbsDiff(p, want) < 1e-12, `${what}: polar = [polar(W) Uc], off by ${maxAbsDiff(p, want)}`);
    const sWant = [...sig.filter((x) => x > 1), ...new Array<number>(c).fill(1), ...sig.filter((x) => x === 1), ...sig.filter((x) => x < 1)].sort((x, y) => y - x);
    assert.ok(maxAbsDiff(s, sWant) < 1e-12, `${what}: singular values`);
    // the wide form (polar of the transpose) takes the same path
    const t = polarWithValues(transpose(a, m, n), n, m);
    assert.ok(maxAbsDiff(t.p, transpose(want, m, n)) < 1e-12, `${what}: wide form`);
  }
});

test('polar factor with a quarter of AᵀA’s eigenvalues at 1 only to ~1e-10: the Newton–Schulz step makes up for the band', () => {
  // eigenvalues 1 + 1e-10·t (inside the band, not exactly 1) and spread ones: the exact polar factor is U Vᵀ
  const [m, n] = [120, 90];
  const u = cols(orthogonal(m, 3), m, m, 0, n);
  const v = orthogonal(n, 4);
  const sig = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? Math.sqrt(1 + 1e-10 * (i / n - 0.5)) : 0.1 + 3 * (i / n)));
  const a = usv(u, sig, v, m, n, n);
  assert.ok(outsideUnitBand(symEig(gram(a, m, n), n, 0).values).length < n, 'the band path is taken');
  const { p } = polarWithValues(a, m, n);
  assert.ok(maxAbsDiff(p, matmulT(u, v, m, n, n)) < 1e-12, `polar = U Vᵀ, off by ${maxAbsDiff(p, matmulT(u, v, m, n, n))}`);
});

test('svdThinComplement: the same leading triplets as svdThin, and an orthonormal complement of the kept U', () => {
  for (const { m, n, keep, sig, what } of [
    { m: 100, n: 130, keep: 70, sig: null, what: 'random 100×130' },
    { m: 96, n: 96, keep: 60, sig: null, what: 'random square' },
    // rank 50 < keep: the zero σ's directions go to the complement; a repeated σ straddles nothing
    { m: 90, n: 110, keep: 60, sig: Array.from({ length: 90 }, (_, i) => (i < 10 ? 3 : i < 50 ? 1 - i / 100 : 0)), what: 'rank 50' },
  ]) {
    const a = sig === null ? random(m * n, m + n) : usv(cols(orthogonal(m, 5), m, m, 0, m), sig, cols(orthogonal(n, 6), n, n, 0, m), m, m, n);
    const d = svdThinComplement(a, m, n, keep);
    const ref = svdThin(a, m, n, 0, keep);
    const scale = ref.s[0]!;
    assert.ok(maxAbsDiff(d.s, ref.s) < 1e-12 * scale, `${what}: σ`);
    assert.ok(maxAbsDiff(reconstruct(d, m, n), reconstruct(ref, m, n)) < 1e-11 * scale, `${what}: U Σ Vᵀ`);
    const zeros = d.s.filter((x) => x === 0).length;
    assert.equal(d.rest, m - keep + zeros, `${what}: complement size`);
    // complement rows orthonormal and, with the kept non-zero U columns, a basis of ℝᵐ
    assert.ok(maxAbsDiff(gramT(d.complement, d.rest, m), eye(d.rest)) < 1e-12, `${what}: complement orthonormal`);
    const projector = matmul(transpose(d.complement, d.rest, m), d.complement, m, d.rest, m);
    const uut = matmulT(d.u, d.u, m, d.k, m);
    for (let i = 0; i < m * m; i++) projector[i] = projector[i]! + uut[i]!;
    assert.ok(maxAbsDiff(projector, eye(m)) < 1e-12, `${what}: Qᵀ Q + U Uᵀ = I`);
  }
  assert.throws(() => svdThinComplement(random(12, 1), 4, 3, 2), /tall/);
});

/**
 * Task matrices around a common subspace: τ = Uc X + Q⊥ Y with the residual part Q⊥ Y of spectrum `sig`
 * (or random); with `axes`, Uc and Q⊥ are coordinate axes (so that a float32 τ can lie in Uc exactly).
 */
function residualCase(m: number, n: number, c: number, sig: readonly number[] | null, seed: number, axes = false) {
  const q = axes ? eye(m) : orthogonal(m, seed);
  const uc = cols(q, m, m, 0, c);
  const perp = cols(q, m, m, c, m);
  const r = m - c;
  const y = sig === null ? random(r * n, seed + 1) : usv(orthogonal(r, seed + 2), sig, cols(orthogonal(n, seed + 3), n, n, 0, r), r, r, n);
  const tau = matmul(uc, random(c * n, seed + 4), m, c, n);
  const py = matmul(perp, y, m, r, n);
  for (let i = 0; i < tau.length; i++) tau[i] = tau[i]! + py[i]!;
  return { tau: Float32Array.from(tau), uc, complement: transpose(perp, m, r), r };
}

test('residual SVDs in the common subspace’s complement (basis) equal those after projecting it out (project)', () => {
  const [m, n, c, keep] = [120, 150, 80, 12];
  const r = m - c;
  for (const { sig, what, axes } of [
    { sig: null, what: 'random residual' },
    { sig: Array.from({ length: r }, (_, i) => (i < 5 ? 2 : i < 12 ? 1 - i / 50 : 0.1 / (i + 1))), what: 'repeated top σ (a 5-fold cluster inside the kept 12)' },
    { sig: Array.from({ length: r }, (_, i) => (i < 7 ? 1 + i / 10 : 0)), what: 'residual of rank 7 < keep' },
    // in float32, τ is in a rotated Uc only to ~1e-8·‖τ‖ (both ways then keep that noise, each to ~1e-15·‖τ‖)
    { sig: new Array<number>(r).fill(0), what: 'τ inside the common subspace', axes: true },
    { sig: new Array<number>(r).fill(0), what: 'τ inside a rotated common subspace, to float32 rounding' },
  ]) {
    const { tau, uc, complement } = residualCase(m, n, c, sig, 11, axes);
    const norm = Math.sqrt(tau.reduce((acc, x) => acc + x * x, 0));
    const zeroBelow = 1e-12 * norm;
    const viaProject = runJob({ kind: 'svd', a: tau, m, n, keep, zeroBelow, project: { p: uc, c } }) as ThinSvd;
    const viaBasis = runJob({ kind: 'svd', a: tau, m, n, keep, zeroBelow, basis: { q: complement, r } }) as ThinSvd;
    assert.equal(viaBasis.k, keep, `${what}: keep`);
    // backward-stable both ways: within ~ε‖τ‖ of each other, and to 1e-10 relative where the residual is not rounding
    const top = viaProject.s[0]!;
    const tol = top > 1e-6 * norm ? 1e-10 * top : 1e-13 * norm;
    assert.ok(maxAbsDiff(viaBasis.s, viaProject.s) <= tol, `${what}: σ`);
    assert.ok(maxAbsDiff(reconstruct(viaBasis, m, n), reconstruct(viaProject, m, n)) <= tol, `${what}: U Σ Vᵀ`);
    const proj = (d: ThinSvd) => matmulT(d.u, d.u, m, d.k, m);
    if (top > 1e-6 * norm) assert.ok(maxAbsDiff(proj(viaBasis), proj(viaProject)) < 1e-10, `${what}: U Uᵀ`);
    if (axes) assert.ok(viaBasis.s.every((x) => x === 0) && viaBasis.u.every((x) => x === 0) && viaBasis.vt.every((x) => x === 0), `${what}: all zero, no NaN`);
    // U ⊥ Uc: the directions stay outside the common subspace
    assert.ok(maxAbsDiff(matmul(transpose(uc, m, c), viaBasis.u, c, m, keep), new Float64Array(c * keep)) < 1e-12, `${what}: Ucᵀ U = 0`);
  }
});
