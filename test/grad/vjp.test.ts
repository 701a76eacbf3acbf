/**
 * Every backward rule of src/grad/vjp.ts against central finite differences: in float64 where
 * onnxruntime's CPU provider has a double kernel for the op, else in float32 (see FD in fd.ts).
 */
import { test } from 'node:test';
import { DataType } from '../../src/onnx/model.js';
import { checkGradients, type GradCase } from './fd.js';

const cases: GradCase[] = [
  { name: 'Add (broadcast)', precision: 'double', inputs: [{ dims: [2, 3, 4] }, { dims: [3, 1] }], build: (g, [a, b]) => g.node('Add', [a!, b!]) },
  { name: 'Sub (broadcast)', precision: 'double', inputs: [{ dims: [2, 3] }, { dims: [3] }], build: (g, [a, b]) => g.node('Sub', [a!, b!]) },
  { name: 'Mul (broadcast)', precision: 'double', inputs: [{ dims: [2, 3] }, { dims: [2, 1] }], build: (g, [a, b]) => g.node('Mul', [a!, b!]) },
  { name: 'Mul (same input twice)', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Mul', [a!, a!]) },
  { name: 'Div (broadcast)', precision: 'double', inputs: [{ dims: [2, 3] }, { dims: [3], positive: true }], build: (g, [a, b]) => g.node('Div', [a!, b!]) },
  { name: 'Sum', precision: 'double', inputs: [{ dims: [2, 3] }, { dims: [3] }, { dims: [1] }], build: (g, xs) => g.node('Sum', xs) },
  { name: 'Identity', precision: 'double', inputs: [{ dims: [4] }], build: (g, [a]) => g.node('Identity', [a!]) },
  { name: 'Neg', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Neg', [a!]) },
  { name: 'Exp', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Exp', [a!]) },
  { name: 'Log', precision: 'double', inputs: [{ dims: [2, 3], positive: true }], build: (g, [a]) => g.node('Log', [a!]) },
  { name: 'Sqrt', precision: 'double', inputs: [{ dims: [2, 3], positive: true }], build: (g, [a]) => g.node('Sqrt', [a!]) },
  { name: 'Reciprocal', precision: 'double', inputs: [{ dims: [2, 3], positive: true }], build: (g, [a]) => g.node('Reciprocal', [a!]) },
  { name: 'Sigmoid', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Sigmoid', [a!]) },
  { name: 'Tanh', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Tanh', [a!]) },
  { name: 'Relu', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Relu', [a!]) },
  { name: 'Erf', precision: 'float', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Erf', [a!]) },
  { name: 'Cast (float to float)', precision: 'float', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('Cast', [a!], { to: DataType.FLOAT }) },
  { name: 'Softmax (last axis)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('Softmax', [a!], { axis: -1 }) },
  { name: 'Softmax (axis 1)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('Softmax', [a!], { axis: 1 }) },
  { name: 'LogSoftmax', precision: 'double', inputs: [{ dims: [2, 5] }], build: (g, [a]) => g.node('LogSoftmax', [a!], { axis: -1 }) },
  { name: 'Reshape', precision: 'double', inputs: [{ dims: [2, 6] }], build: (g, [a]) => g.node('Reshape', [a!, g.int64s('s', [3, -1])]) },
  { name: 'Transpose', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('Transpose', [a!], { perm: [1, 2, 0] }) },
  { name: 'Unsqueeze + Squeeze', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => {
    const u = g.node('Unsqueeze', [a!, g.int64s('ax', [0, 2])]);
    return [u, g.node('Squeeze', [g.node('Mul', [u, u]), g.int64s('ax', [0])])];
  } },
  { name: 'Expand', precision: 'double', inputs: [{ dims: [3, 1] }], build: (g, [a]) => g.node('Expand', [a!, g.int64s('s', [2, 3, 4])]) },
  { name: 'Concat', precision: 'double', inputs: [{ dims: [2, 2] }, { dims: [2, 3] }], build: (g, [a, b]) => g.node('Concat', [a!, b!], { axis: 1 }) },
  { name: 'Split (both outputs used)', precision: 'double', inputs: [{ dims: [2, 5] }], build: (g, [a]) => g.nodeOutputs('Split', [a!, g.int64s('s', [2, 3])], { axis: 1 }, { outputs: 2 }) },
  { name: 'Split (one output unused)', precision: 'double', inputs: [{ dims: [5, 2] }], build: (g, [a]) => g.nodeOutputs('Split', [a!, g.int64s('s', [1, 4])], { axis: 0 }, { outputs: 2 })[1]! },
  { name: 'Slice', precision: 'double', inputs: [{ dims: [4, 5] }], build: (g, [a]) => g.node('Slice', [a!, g.int64s('b', [1, 0]), g.int64s('e', [3, 4]), g.int64s('ax', [0, 1])]) },
  { name: 'Gather (axis 0, repeated index)', precision: 'double', inputs: [{ dims: [3, 4] }], build: (g, [a]) => g.node('Gather', [a!, g.int64s('i', [0, 2, 2, 1], [2, 2])], { axis: 0 }) },
  { name: 'Gather (axis 1, scalar index)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('Gather', [a!, g.int64s('i', [1], [])], { axis: 1 }) },
  { name: 'Gather (axis 1, one index)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('Gather', [a!, g.int64s('i', [0], [1])], { axis: 1 }) },
  { name: 'GatherND (batch_dims 1)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('GatherND', [a!, g.int64s('i', [1, 2], [2, 1])], { batch_dims: 1 }) },
  { name: 'GatherND (batch_dims 0)', precision: 'double', inputs: [{ dims: [3, 4] }], build: (g, [a]) => g.node('GatherND', [a!, g.int64s('i', [1, 2, 1], [3, 1])]) },
  { name: 'Where', precision: 'double', inputs: [{ dims: [2, 3] }, { dims: [3] }, { dims: [2, 3], constant: true }], build: (g, [a, b, c], t) => g.node('Where', [g.node('Greater', [c!, g.constant('z', t, [0])]), a!, b!]) },
  { name: 'ReduceSum (axis 1)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('ReduceSum', [a!, g.int64s('ax', [1])], { keepdims: 0 }) },
  { name: 'ReduceSum (all)', precision: 'double', inputs: [{ dims: [2, 3] }], build: (g, [a]) => g.node('ReduceSum', [a!], { keepdims: 1 }) },
  { name: 'ReduceMean (axes 0, 2)', precision: 'double', inputs: [{ dims: [2, 3, 4] }], build: (g, [a]) => g.node('ReduceMean', [a!], { axes: [0, 2], keepdims: 1 }) },
  { name: 'MatMul (2-D)', precision: 'double', inputs: [{ dims: [3, 4] }, { dims: [4, 2] }], build: (g, [a, b]) => g.node('MatMul', [a!, b!]) },
  { name: 'MatMul (batched)', precision: 'double', inputs: [{ dims: [2, 2, 3, 4] }, { dims: [2, 2, 4, 5] }], build: (g, [a, b]) => g.node('MatMul', [a!, b!]) },
  { name: 'MatMul (broadcast)', precision: 'double', inputs: [{ dims: [2, 3, 4] }, { dims: [4, 5] }], build: (g, [a, b]) => g.node('MatMul', [a!, b!]) },
  { name: 'Gemm (transB, bias)', precision: 'double', inputs: [{ dims: [3, 4] }, { dims: [5, 4] }, { dims: [5] }], build: (g, [a, b, c]) => g.node('Gemm', [a!, b!, c!], { transB: 1 }) },
  { name: 'Gemm (transA, alpha, beta, column bias)', precision: 'double', inputs: [{ dims: [4, 3] }, { dims: [4, 5] }, { dims: [3, 1] }], build: (g, [a, b, c]) => g.node('Gemm', [a!, b!, c!], { transA: 1, alpha: { f: 0.5 }, beta: { f: 2 } }) },
  { name: 'Gemm (both transposed)', precision: 'double', inputs: [{ dims: [4, 3] }, { dims: [5, 4] }], build: (g, [a, b]) => g.node('Gemm', [a!, b!], { transA: 1, transB: 1 }) },
  { name: 'Gemm (neither transposed)', precision: 'double', inputs: [{ dims: [3, 4] }, { dims: [4, 5] }], build: (g, [a, b]) => g.node('Gemm', [a!, b!]) },
  { name: 'LayerNormalization', precision: 'double', inputs: [{ dims: [3, 5] }, { dims: [5] }, { dims: [5] }], build: (g, [x, s, b]) => g.node('LayerNormalization', [x!, s!, b!], { axis: -1, epsilon: { f: 1e-5 } }) },
  { name: 'LayerNormalization (two axes)', precision: 'double', inputs: [{ dims: [2, 3, 4] }, { dims: [3, 4] }, { dims: [3, 4] }], build: (g, [x, s, b]) => g.node('LayerNormalization', [x!, s!, b!], { axis: 1, epsilon: { f: 1e-5 } }) },
  { name: 'Conv (patches)', precision: 'float', inputs: [{ dims: [2, 3, 4, 4] }, { dims: [5, 3, 2, 2] }, { dims: [5] }], build: (g, [x, w, b]) => g.node('Conv', [x!, w!, b!], { kernel_shape: [2, 2], strides: [2, 2] }) },
];

for (const c of cases) {
  test(`VJP of ${c.name} = central differences (${c.precision})`, async () => {
    await checkGradients(c);
  });
}
