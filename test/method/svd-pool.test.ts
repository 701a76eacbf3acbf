/**
 * The SVD pool (src/method/linalg/svd-pool.ts): jobs run by a worker give the same bits as the
 * sequential path (svdThin / polarWithValues on this thread; TSV-M and Iso-CTS with the pool off), and
 * a worker that exits mid-job, is terminated, or stops responding costs speed, never a result or a hang.
 * The matrices are large enough that products go through onnxruntime (ort-gemm.ts) in both threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matmul, polarWithValues, svdThin, transpose } from '../../src/method/linalg/dense.js';
import { configureSvdPool, polarAll, svdPoolStats, svdPoolStatus, svdPoolWorkers, svdThinAll } from '../../src/method/linalg/svd-pool.js';
import { isoCtsMatrix, tsvMatrix } from '../../src/method/svd-merging.js';
import { mulberry32 } from './helpers.js';

const [M, N, T] = [200, 160, 4];

function taskVectors(seed: number, m = M, n = N): Float32Array[] {
  const r = mulberry32(seed);
  return Array.from({ length: T }, () => Float32Array.from({ length: m * n }, () => r() - 0.5));
}

function assertSameBits(got: Float64Array | Float32Array, want: Float64Array | Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `${what}: not bit-identical`);
}

/** The sequential path's SVDs, written out as svd-merging.ts had them before the pool. */
function sequentialSvds(tvs: readonly Float32Array[], keep: number, project?: Float64Array, c = 0) {
  return tvs.map((tv) => {
    const w = Float64Array.from(tv);
    if (project !== undefined) {
      const proj = matmul(project, matmul(transpose(project, M, c), w, c, M, N), M, c, N);
      for (let j = 0; j < w.length; j++) w[j] = w[j]! - proj[j]!;
    }
    return svdThin(w, M, N, 0, keep);
  });
}

test('svdThinAll and polarAll in a worker: bit-identical to svdThin and polarWithValues on this thread', () => {
  configureSvdPool({ threads: 2, workersOnly: true, waitFloorMs: 60_000 });
  const before = svdPoolStats().workerJobs;
  const tvs = taskVectors(1);
  const got = svdThinAll(tvs, M, N, 40);
  const want = sequentialSvds(tvs, 40);
  got.forEach((d, i) => {
    assertSameBits(d.u, want[i]!.u, `u ${i}`);
    assertSameBits(d.s, want[i]!.s, `s ${i}`);
    assertSameBits(d.vt, want[i]!.vt, `vt ${i}`);
  });
  // with a subspace projected out first (Iso-CTS's residuals)
  const basis = svdThin(Float64Array.from(tvs[0]!), M, N, 0, 30);
  const p = new Float64Array(M * 30);
  for (let i = 0; i < M; i++) for (let j = 0; j < 30; j++) p[i * 30 + j] = basis.u[i * basis.k + j]!;
  const gotP = svdThinAll(tvs, M, N, 20, { project: { p, c: 30 } });
  const wantP = sequentialSvds(tvs, 20, p, 30);
  gotP.forEach((d, i) => assertSameBits(d.u, wantP[i]!.u, `projected u ${i}`));
  const mats = [{ a: Float64Array.from(tvs[1]!), m: M, n: N }, { a: Float64Array.from(tvs[2]!), m: N, n: M }];
  polarAll(mats).forEach((pf, i) => assertSameBits(pf, polarWithValues(mats[i]!.a, mats[i]!.m, mats[i]!.n).p, `polar ${i}`));
  assert.equal(svdPoolStats().workerJobs - before, 2 * T + 2, 'every job ran in the worker');
  assert.equal(svdPoolStatus(), '');
});

test('TSV-M and Iso-CTS with the pool (caller and worker sharing jobs): the same bits as with the pool off', () => {
  const tvs = taskVectors(2);
  configureSvdPool({ threads: 1 });
  const tsvSeq = tsvMatrix(tvs, M, N);
  const isoSeq = isoCtsMatrix(tvs, M, N, 0.5, 'w');
  for (const workersOnly of [true, false]) {
    configureSvdPool({ threads: 2, workersOnly, waitFloorMs: 60_000 });
    assertSameBits(tsvMatrix(tvs, M, N), tsvSeq, `TSV-M (workersOnly ${workersOnly})`);
    assertSameBits(isoCtsMatrix(tvs, M, N, 0.5, 'w'), isoSeq, `Iso-CTS (workersOnly ${workersOnly})`);
    configureSvdPool({ threads: 1 });
    const isoWideSeq = isoCtsMatrix(tvs, N, M, 0.5, 'w'); // m < n: residuals in the common complement
    configureSvdPool({ threads: 2, workersOnly, waitFloorMs: 60_000 });
    assertSameBits(isoCtsMatrix(tvs, N, M, 0.5, 'w'), isoWideSeq, `Iso-CTS ${N}×${M} (workersOnly ${workersOnly})`);
    assert.equal(svdPoolStatus(), '');
  }
});

test('a worker that exits while holding a job: the job is recomputed here, the pool switches off, same bits', () => {
  const tvs = taskVectors(3);
  const want = sequentialSvds(tvs, 40);
  configureSvdPool({ threads: 2, workersOnly: true, waitFloorMs: 60_000, fault: 'exit' });
  const got = svdThinAll(tvs, M, N, 40);
  got.forEach((d, i) => assertSameBits(d.u, want[i]!.u, `u ${i}`));
  assert.match(svdPoolStatus(), /exited/);
  // later batches run on this thread
  svdThinAll(tvs, M, N, 40).forEach((d, i) => assertSameBits(d.vt, want[i]!.vt, `vt ${i} after`));
});

test('a worker terminated between batches: the next batch runs here, same bits', async () => {
  const tvs = taskVectors(4);
  const want = sequentialSvds(tvs, 40);
  configureSvdPool({ threads: 2, workersOnly: false, waitFloorMs: 60_000 });
  const [w] = svdPoolWorkers();
  assert.ok(w !== undefined);
  await w.terminate();
  svdThinAll(tvs, M, N, 40).forEach((d, i) => assertSameBits(d.u, want[i]!.u, `u ${i}`));
  assert.match(svdPoolStatus(), /exited/);
});

test('a worker that stops responding while holding a job: the caller gives up on it after the wait, same bits', () => {
  const tvs = taskVectors(5);
  const want = sequentialSvds(tvs, 40);
  configureSvdPool({ threads: 2, workersOnly: true, waitFloorMs: 50, fault: 'hang' });
  svdThinAll(tvs, M, N, 40).forEach((d, i) => assertSameBits(d.s, want[i]!.s, `s ${i}`));
  assert.match(svdPoolStatus(), /did not finish a job/);
  configureSvdPool({ threads: 2, workersOnly: false, waitFloorMs: 10_000 });
});
