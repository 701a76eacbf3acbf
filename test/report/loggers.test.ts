/** fabric.loggers: TensorBoard event files and metrics.csv, read back by independent parsers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../src/report/loggers/crc32c.js';
import { eventFileBytes } from '../../src/report/loggers/tensorboard.js';
import { metricsCsv } from '../../src/report/loggers/csv.js';
import { binPath } from '../helpers/paths.js';

/** CRC-32C bit by bit (no table), the reference for the table-driven one. */
function crcSlow(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (d: Uint8Array) => {
  const c = crcSlow(d);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

interface Field { field: number; wire: number; value: number | bigint | Uint8Array }
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  const varint = () => {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      x |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return x;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) { out.push({ field, wire, value: view.getFloat64(i, true) }); i += 8; }
    else if (wire === 5) { out.push({ field, wire, value: view.getFloat32(i, true) }); i += 4; }
    else if (wire === 2) { const n = Number(varint()); out.push({ field, wire, value: buf.subarray(i, i + n) }); i += n; }
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

/** The events of a TFRecord file: each record's CRCs checked, each Event decoded to step + scalars. */
function readEvents(bytes: Uint8Array): { step: number; version?: string; scalars: Record<string, number> }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  let off = 0;
  while (off < bytes.length) {
    const len = Number(view.getBigUint64(off, true));
    assert.equal(view.getUint32(off + 8, true), masked(bytes.subarray(off, off + 8)), 'length CRC');
    const data = bytes.subarray(off + 12, off + 12 + len);
    assert.equal(view.getUint32(off + 12 + len, true), masked(data), 'data CRC');
    off += 16 + len;
    const ev: { step: number; version?: string; scalars: Record<string, number> } = { step: 0, scalars: {} };
    for (const f of fields(data)) {
      if (f.field === 2) ev.step = Number(f.value);
      if (f.field === 3) ev.version = new TextDecoder().decode(f.value as Uint8Array);
      if (f.field === 5) {
        for (const v of fields(f.value as Uint8Array)) {
          const parts = fields(v.value as Uint8Array);
          const tag = new TextDecoder().decode(parts.find((p) => p.field === 1)!.value as Uint8Array);
          ev.scalars[tag] = parts.find((p) => p.field === 2)!.value as number;
        }
      }
    }
    out.push(ev);
  }
  return out;
}

test('CRC-32C: the standard check value and the bitwise reference', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
  assert.equal(crc32c(data), crcSlow(data));
});

test('an event file: the version event, then scalars per step, every CRC right', () => {
  const bytes = eventFileBytes([{ step: 0, wallTime: 1.5, scalars: { 'mnist/accuracy': 0.25, 'average/loss': 2.5 } }, { step: 3, wallTime: 2, scalars: { x: -1 } }], 1);
  const evs = readEvents(bytes);
  assert.equal(evs.length, 3);
  assert.equal(evs[0]!.version, 'brain.Event:2');
  assert.deepEqual(evs[1], { step: 0, scalars: { 'mnist/accuracy': 0.25, 'average/loss': 2.5 } });
  assert.deepEqual(evs[2], { step: 3, scalars: { x: -1 } });
  assert.equal(metricsCsv([{ step: 0, scalars: { 'a/x': 1, b: 2 } }, { step: 1, scalars: { b: 3 } }]), 'a/x,b,step\n1,2,0\n,3,1\n');
});

test('the demo logs its accuracies to TensorBoard (default) and to metrics.csv (csv_logger)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loggers-'));
  try {
    const run = (extra: string[], sub: string) => {
      const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo', `path.log_dir=${join(dir, sub)}`, `hydra.run.dir=${join(dir, sub)}`, ...extra], { encoding: 'utf8', cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(readFileSync(join(dir, sub, 'program_report.json'), 'utf8')) as Record<string, { accuracy: number; loss: number }>;
    };
    const report = run([], 'tb');
    const files = readdirSync(join(dir, 'tb')).filter((f) => f.startsWith('events.out.tfevents.'));
    assert.equal(files.length, 1);
    const evs = readEvents(readFileSync(join(dir, 'tb', files[0]!)));
    const scalars = evs[1]!.scalars;
    for (const task of ['mnist', 'fashion_mnist', 'average']) {
      assert.equal(scalars[`${task}/accuracy`], Math.fround(report[task]!.accuracy), task);
      assert.equal(scalars[`${task}/loss`], Math.fround(report[task]!.loss), task);
    }
    const report2 = run(['fabric/loggers=csv_logger'], 'csv');
    const csv = readFileSync(join(dir, 'csv', 'metrics.csv'), 'utf8').trim().split('\n');
    const head = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    assert.equal(head.at(-1), 'step');
    assert.equal(Number(row[head.indexOf('mnist/accuracy')]), report2.mnist!.accuracy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
