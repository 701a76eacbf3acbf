/**
 * Matrix products on onnxruntime (its multithreaded float32/float64 Gemm kernels), for the products of
 * RegMean that are too large for JavaScript loops: Gᵢ·Wᵢᵀ per model in float32 (as fusion_bench's
 * torch.matmul), and the trailing updates of the float64 Cholesky solve (src/method/linalg/solve.ts).
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType, type DataTypeCode } from '../../onnx/model.js';
import { createSession, sessionOptions } from '../../models/clip/session.js';
import type { RowGemm } from '../linalg/solve.js';

function gemmModel(type: DataTypeCode, withC: boolean): Uint8Array {
  const g = new GraphBuilder(withC ? 'c_minus_a_bt' : 'a_bt');
  const a = g.input('a', type, ['m', 'k']);
  const b = g.input('b', type, ['n', 'k']);
  const inputs = [a, b];
  if (withC) inputs.push(g.input('c', type, ['m', 'n']));
  const y = g.node('Gemm', inputs, withC ? { transB: 1, alpha: { f: -1 }, beta: { f: 1 } } : { transB: 1 });
  g.output(y, 'y', type, ['m', 'n']);
  return g.build();
}

export class OrtGemm {
  private constructor(private readonly f32: ort.InferenceSession, private readonly f64: ort.InferenceSession) {}

  static async create(executionProviders?: readonly string[]): Promise<OrtGemm> {
    const opts = sessionOptions(executionProviders ? { executionProviders } : {});
    const f32 = await createSession(gemmModel(DataType.FLOAT, false), opts);
    try {
      return new OrtGemm(f32, await createSession(gemmModel(DataType.DOUBLE, true), opts));
    } catch (e) {
      await f32.release();
      throw e;
    }
  }

  /** A·Bᵀ in float32 for A (m×k), B (n×k). */
  async abt32(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<Float32Array> {
    const r = await this.f32.run({ a: new ort.Tensor('float32', a, [m, k]), b: new ort.Tensor('float32', b, [n, k]) });
    return r.y!.data as Float32Array;
  }

  /** C − A·Bᵀ in float64: the solver's RowGemm. */
  readonly rowGemm: RowGemm = async (a, b, c, m, k, n) => {
    const r = await this.f64.run({ a: new ort.Tensor('float64', a, [m, k]), b: new ort.Tensor('float64', b, [n, k]), c: new ort.Tensor('float64', c, [m, n]) });
    return r.y!.data as Float64Array;
  };

  async dispose(): Promise<void> {
    await this.f32.release();
    await this.f64.release();
  }
}
