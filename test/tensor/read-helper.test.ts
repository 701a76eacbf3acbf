/**
 * The merge's second reader (src/tensor/io/read-helper.ts): reads posted as shared jobs land exactly
 * where and as the plain reads would, whichever thread runs them; more jobs than one posting holds,
 * buffers outside the shared memory, failed reads (retried on the calling thread, whose error wins)
 * and a closed helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadBatch, type FileRead } from '../../src/tensor/io/read-batch.js';
import { ReadHelper } from '../../src/tensor/io/read-helper.js';
import { JOB_BYTES, MAX_JOBS } from '../../src/tensor/io/read-helper-protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-read-helper-'));
const SIZE = 3 * JOB_BYTES + 12345;
const content = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) content[i] = (i * 2654435761) >>> 24;
const path = join(dir, 'data.bin');
writeFileSync(path, content);

/** A plain read of `into.byteLength` bytes at `position`, failing like a reader does on a short file. */
function fileRead(fd: number, position: number, into: Uint8Array): FileRead {
  return {
    fd,
    position,
    into,
    readHere: () => {
      const got = readSync(fd, into, 0, into.byteLength, position);
      if (got !== into.byteLength) throw new Error(`short read at ${position}: ${got} of ${into.byteLength}`);
    },
  };
}

function withHelper(shared: SharedArrayBuffer, body: (h: ReadHelper, fd: number) => void): void {
  const h = ReadHelper.start(shared);
  assert.ok(h !== null, 'a helper thread starts');
  const fd = openSync(path, 'r');
  try {
    body(h, fd);
  } finally {
    h.close();
    closeSync(fd);
  }
}

test('reads through the helper equal the file, across more jobs than one posting holds', () => {
  const shared = new SharedArrayBuffer(2 * SIZE + MAX_JOBS * 2 * 64);
  withHelper(shared, (h, fd) => {
    const batch = new ReadBatch(h);
    // one read spanning several 1 MiB jobs, at an odd offset
    const whole = new Uint8Array(shared, 7, SIZE - 100);
    batch.read(fileRead(fd, 100, whole));
    // then 1.5 postings' worth of small reads, each at its own place
    const small = MAX_JOBS + MAX_JOBS / 2;
    const at = 7 + SIZE;
    const pieces = Array.from({ length: small }, (_, j) => ({ pos: (j * 7919) % (SIZE - 64), into: new Uint8Array(shared, at + j * 64, 1 + (j % 64)) }));
    for (const p of pieces) batch.read(fileRead(fd, p.pos, p.into));
    const order: number[] = [];
    batch.then(() => order.push(1));
    batch.then(() => order.push(2));
    batch.run();
    assert.deepEqual(whole, content.subarray(100));
    for (const p of pieces) assert.deepEqual(p.into, content.subarray(p.pos, p.pos + p.into.byteLength));
    assert.deepEqual(order, [1, 2], 'steps run after the reads, in the order queued');
  });
});

test('the helper thread takes part: within a bounded number of batches it runs jobs', () => {
  const shared = new SharedArrayBuffer(SIZE);
  withHelper(shared, (h, fd) => {
    const batch = new ReadBatch(h);
    const into = new Uint8Array(shared, 0, SIZE);
    // not a timing assertion: the helper only has to wake once in up to 2000 batches of 4 jobs
    for (let round = 0; round < 2000 && h.helperJobs === 0; round++) {
      into.fill(0);
      batch.read(fileRead(fd, 0, into));
      batch.run();
      assert.deepEqual(into, content);
    }
    assert.ok(h.helperJobs > 0, 'the helper ran some of the jobs');
  });
});

test('a buffer outside the shared memory is read on the calling thread', () => {
  withHelper(new SharedArrayBuffer(1024), (h, fd) => {
    const batch = new ReadBatch(h);
    const plain = new Uint8Array(5000);
    batch.read(fileRead(fd, 4096, plain));
    batch.run();
    assert.deepEqual(plain, content.subarray(4096, 9096));
  });
});

test('a read past the end fails with the calling thread\'s own error, and the batch is empty afterwards', () => {
  const shared = new SharedArrayBuffer(2 * JOB_BYTES);
  withHelper(shared, (h, fd) => {
    const batch = new ReadBatch(h);
    const ok = new Uint8Array(shared, 0, 1000);
    const past = new Uint8Array(shared, 4096, JOB_BYTES + 10);
    batch.read(fileRead(fd, 0, ok));
    batch.read(fileRead(fd, SIZE - JOB_BYTES, past)); // its second job runs off the end
    let stepRan = false;
    batch.then(() => (stepRan = true));
    assert.throws(() => batch.run(), /short read at/);
    assert.equal(stepRan, false, 'no step runs after a failed read');
    assert.deepEqual(ok, content.subarray(0, 1000), 'the good read landed');
    batch.run(); // nothing queued any more
  });
});

test('after close() every read runs on the calling thread, with the same result', () => {
  const shared = new SharedArrayBuffer(SIZE);
  withHelper(shared, (h, fd) => {
    h.close();
    h.close();
    const batch = new ReadBatch(h);
    const into = new Uint8Array(shared, 0, SIZE);
    batch.read(fileRead(fd, 0, into));
    batch.run();
    assert.deepEqual(into, content);
  });
});

test('write-behind: writes land at their positions whether the helper runs them or they are taken back', () => {
  const shared = new SharedArrayBuffer(4 * JOB_BYTES);
  const src = new Uint8Array(shared);
  src.set(content.subarray(0, src.length));
  const h = ReadHelper.start(shared);
  assert.ok(h !== null);
  const out = join(dir, 'written.bin');
  const fd = openSync(out, 'w+');
  try {
    // pieces written out of order, each settled before the next starts (as the writer does), some at once
    const parts = [[3 * JOB_BYTES, JOB_BYTES], [0, 1000], [1000, 2 * JOB_BYTES], [1000 + 2 * JOB_BYTES, JOB_BYTES - 1000]] as const;
    parts.forEach(([at, len], i) => {
      assert.equal(h.startWrite(fd, src.subarray(at, at + len), at), true);
      if (i % 2 === 1) h.settleWrite();
    });
    h.settleWrite();
    h.settleWrite(); // nothing in flight: no-op
    const back = new Uint8Array(src.length);
    assert.equal(readSync(fd, back, 0, back.length, 0), back.length);
    assert.deepEqual(back, src);
    assert.equal(h.startWrite(fd, new Uint8Array(10), 0), false, 'bytes outside the shared memory: the caller writes them');
  } finally {
    h.close();
    closeSync(fd);
  }
});

test('write-behind: a write that fails on the helper is written again on the calling thread, whose error is thrown', () => {
  const shared = new SharedArrayBuffer(JOB_BYTES);
  const h = ReadHelper.start(shared);
  assert.ok(h !== null);
  const fd = openSync(path, 'r'); // not writable: EBADF on either thread
  try {
    assert.equal(h.startWrite(fd, new Uint8Array(shared, 0, 4096), 0), true);
    assert.throws(() => h.settleWrite(), (e: NodeJS.ErrnoException) => e.code === 'EBADF');
    h.settleWrite(); // settled: nothing more to throw
  } finally {
    h.close();
    closeSync(fd);
  }
});

test('write-behind: a write the helper took and failed is redone here, not waited on forever', { timeout: 120_000 }, () => {
  // A failed write once read as TAKEN, and the merging thread waited for it without end. The helper
  // has to take the write before it is settled: spend a little CPU between the two (no sleeping), and
  // repeat until the helper's counter shows it ran one; every settle must throw the real EBADF.
  const shared = new SharedArrayBuffer(JOB_BYTES);
  const h = ReadHelper.start(shared);
  assert.ok(h !== null);
  const fd = openSync(path, 'r'); // not writable
  const busy = new Float64Array(4096);
  try {
    for (let round = 0; round < 2000 && h.helperJobs === 0; round++) {
      assert.equal(h.startWrite(fd, new Uint8Array(shared, 0, 4096), 0), true);
      for (let i = 0; i < 50 * (round + 1) && i < 200_000; i++) busy[i & 4095] = busy[(i * 7) & 4095]! + i;
      assert.throws(() => h.settleWrite(), (e: NodeJS.ErrnoException) => e.code === 'EBADF');
    }
    assert.ok(h.helperJobs > 0, 'the helper took one of the writes');
  } finally {
    h.close();
    closeSync(fd);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
