import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WRITE_CHUNK, writeFully } from '../../src/util/write-fully.js';

test('writeFully writes a buffer larger than one write chunk whole and in order, from a subarray view', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-write-fully-'));
  try {
    const n = 2 * WRITE_CHUNK + 12345;
    const backing = new Uint8Array(n + 7);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 2654435761) >>> 24;
    const view = backing.subarray(7); // not at offset 0 of its buffer
    const path = join(dir, 'out.bin');
    const fd = openSync(path, 'w');
    try {
      writeFully(fd, new Uint8Array([1, 2, 3]));
      writeFully(fd, view);
    } finally {
      closeSync(fd);
    }
    const got = readFileSync(path);
    assert.equal(got.length, n + 3);
    assert.deepEqual([...got.subarray(0, 3)], [1, 2, 3]);
    assert.ok(Buffer.from(view.buffer, view.byteOffset, view.byteLength).equals(got.subarray(3)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
