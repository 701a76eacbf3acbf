import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ort } from '../../src/onnx/runtime.js';
import { ProtoWriter, joinEncoded } from '../../src/onnx/proto.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType } from '../../src/onnx/model.js';

const bytes = (w: ProtoWriter) => [...joinEncoded(w.finish())];

test('protobuf wire encoding: varints, negative int64, floats, strings', () => {
  assert.deepEqual(bytes(new ProtoWriter().int(1, 300)), [0x08, 0xac, 0x02]);
  assert.deepEqual(bytes(new ProtoWriter().int(3, 0)), [0x18, 0x00]);
  // int64 -1 is ten bytes of two's complement.
  assert.deepEqual(bytes(new ProtoWriter().int(1, -1)), [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().int(1, 2 ** 40)), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  assert.deepEqual(bytes(new ProtoWriter().float(2, 1.5)), [0x15, 0x00, 0x00, 0xc0, 0x3f]);
  assert.deepEqual(bytes(new ProtoWriter().string(1, 'hé')), [0x0a, 0x03, 0x68, 0xc3, 0xa9]);
  assert.deepEqual(bytes(new ProtoWriter().packedInts(8, [1, -2 + 2, 150])), [0x42, 0x04, 0x01, 0x00, 0x96, 0x01]);
  const inner = new ProtoWriter().int(1, 5).finish();
  assert.deepEqual(bytes(new ProtoWriter().message(7, inner).int(2, 1)), [0x3a, 0x02, 0x08, 0x05, 0x10, 0x01]);
  assert.throws(() => new ProtoWriter().int(1, 2 ** 60), RangeError);
});

test('large payloads are referenced, not copied, until joined', () => {
  const big = new Uint8Array(10_000).fill(7);
  const enc = new ProtoWriter().int(1, 1).bytes(9, big).int(2, 3).finish();
  assert.ok(enc.chunks.includes(big));
  assert.equal(enc.length, 2 + 3 + 10_000 + 2);
  const joined = joinEncoded(enc);
  assert.equal(joined.length, enc.length);
  assert.deepEqual([...joined.subarray(0, 5)], [0x08, 0x01, 0x4a, 0x90, 0x4e]);
  assert.equal(joined[5 + 9_999], 7);
});

test('a built graph runs on onnxruntime: Gemm with transB, Reshape with -1, symbolic batch', async () => {
  const g = new GraphBuilder('t');
  const x = g.input('x', DataType.FLOAT, ['batch', 3]);
  const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2 out, 3 in]
  const b = Float32Array.from([0.5, -1]);
  const y = g.node('Gemm', [x, g.weight('w', w, [2, 3]), g.weight('b', b, [2])], { transB: 1, alpha: { f: 2 } });
  const z = g.node('Reshape', [y, g.int64s('shape', [-1])]);
  g.output(z, 'z', DataType.FLOAT, ['n']);
  g.output(g.node('Shape', [x]), 'shape', DataType.INT64, [2]);
  const s = await ort.InferenceSession.create(g.build(), { logSeverityLevel: 3 });
  try {
    const input = Float32Array.from([1, 0, -1, 2, 2, 2]);
    const r = await s.run({ x: new ort.Tensor('float32', input, [2, 3]) });
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let o = 0; o < 2; o++) {
        let acc = 0;
        for (let k = 0; k < 3; k++) acc += input[i * 3 + k]! * w[o * 3 + k]!;
        expected.push(2 * acc + b[o]!);
      }
    }
    assert.deepEqual([...(r.z!.data as Float32Array)], expected);
    assert.deepEqual([...(r.shape!.data as BigInt64Array)], [2n, 3n]);
  } finally {
    await s.release();
  }
});

test('the builder rejects reused value names and mis-sized weights', () => {
  const g = new GraphBuilder('t');
  g.input('x', DataType.FLOAT, [1]);
  assert.throws(() => g.input('x', DataType.FLOAT, [1]), /used twice/);
  assert.throws(() => g.weight('w', new Float32Array(5), [2, 3]), /5 values/);
});
