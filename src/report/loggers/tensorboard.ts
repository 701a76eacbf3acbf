/**
 * TensorBoard event files, as Lightning's TensorBoardLogger leaves them, so `tensorboard --logdir` shows
 * a run's accuracy and loss: a TFRecord stream (length, masked CRC of the length, an `Event` protobuf,
 * masked CRC of it) whose first event names the file version and whose others hold scalar summaries.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { maskedCrc32c } from './crc32c.js';

class Proto {
  private readonly parts: number[] = [];

  private varint(v: number | bigint): void {
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n;
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }

  key(field: number, wire: number): this {
    this.varint((field << 3) | wire);
    return this;
  }

  int64(field: number, v: number): this {
    this.key(field, 0).varint(Math.trunc(v));
    return this;
  }

  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.key(field, 1).parts.push(...b);
    return this;
  }

  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.key(field, 5).parts.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    this.parts.push(...data);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** `Event { wall_time = 1; step = 2; file_version = 3 | summary = 5 }`. */
function event(wallTime: number, step: number, body: (p: Proto) => void): Uint8Array {
  const p = new Proto().double(1, wallTime).int64(2, step);
  body(p);
  return p.done();
}

/** `Summary { repeated Value value = 1 }`, `Value { tag = 1; simple_value = 2 }`. */
function scalarSummary(scalars: Record<string, number>): Uint8Array {
  const s = new Proto();
  for (const [tag, v] of Object.entries(scalars)) s.bytes(1, new Proto().string(1, tag).float(2, v).done());
  return s.done();
}

function record(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  const len = out.subarray(0, 8);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(len), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** The bytes of an event file holding one scalar event per step. */
export function eventFileBytes(steps: readonly { step: number; scalars: Record<string, number>; wallTime: number }[], fileTime: number): Uint8Array {
  const records = [record(event(fileTime, 0, (p) => p.string(3, 'brain.Event:2')))];
  for (const s of steps) records.push(record(event(s.wallTime, s.step, (p) => p.bytes(5, scalarSummary(s.scalars)))));
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let off = 0;
  for (const r of records) {
    out.set(r, off);
    off += r.length;
  }
  return out;
}

let counter = 0;

/** Writes `events.out.tfevents.<time>.<host>.<pid>.<n>` into `dir` (the name TensorBoard's writers use); returns its path. */
export function writeEventFile(dir: string, steps: readonly { step: number; scalars: Record<string, number> }[]): string {
  const now = Date.now() / 1000;
  const path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${counter++}`);
  writeFileAtomic(path, eventFileBytes(steps.map((s) => ({ ...s, wallTime: now })), now));
  return path;
}
