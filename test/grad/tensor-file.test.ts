/**
 * Merging-weight files: .pt (torch.save layout, allow-listed reader), .npy and .safetensors round trips,
 * the .npy bytes through the tests' independent reader, the .pt pickle through Python's own pickle
 * machinery with stand-ins for torch (where python3 exists), and files that are not plain tensors refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { readTensorFile, writeTensorFile } from '../../src/grad/io/tensor-file.js';
import { readZip, writeZip } from '../../src/grad/io/zip.js';
import { readNpy } from '../helpers/npy.js';

const data = Float32Array.from([0.3, -1.5, 2.25, 1e-8, 0.1, 7, -0.001, 3.5, 0, 1]);

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fb-tensor-file-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const ext of ['.pt', '.npy', '.safetensors']) {
  test(`${ext}: a [2, 5] and a [10] float32 tensor round-trip exactly`, () => {
    withDir((dir) => {
      for (const shape of [[2, 5], [10]]) {
        const p = join(dir, `w${shape.length}${ext}`);
        writeTensorFile(p, data, shape);
        const back = readTensorFile(p);
        assert.deepEqual(back.shape, shape);
        assert.deepEqual(Array.from(back.data), Array.from(data));
      }
    });
  });
}

test('.npy output is read by an independent .npy reader', () => {
  withDir((dir) => {
    const p = join(dir, 'w.npy');
    writeTensorFile(p, data, [2, 5]);
    const a = readNpy(p);
    assert.equal(a.dtype, '<f4');
    assert.deepEqual(a.shape, [2, 5]);
    assert.deepEqual(Array.from(a.data as Float32Array), Array.from(data));
  });
});

test('.pt is a torch.save zip: data.pkl, data/0 (64-byte aligned, the raw float32 bytes), version', () => {
  withDir((dir) => {
    const p = join(dir, 'w.pt');
    writeTensorFile(p, data, [2, 5]);
    const file = readFileSync(p);
    const records = readZip(file);
    assert.deepEqual([...records.keys()], ['archive/data.pkl', 'archive/data/0', 'archive/version']);
    assert.deepEqual(Buffer.from(records.get('archive/data/0')!), Buffer.from(data.buffer));
    assert.equal(Buffer.from(records.get('archive/version')!).toString(), '3\n');
    const at = file.indexOf(Buffer.from(data.buffer));
    assert.equal(at % 64, 0, 'storage data aligned to 64 bytes');
  });
});

const PY = `
import pickle, sys, zipfile, collections, struct
calls = []
class Storage: pass
class Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            def rebuild(storage, offset, size, stride, requires_grad, hooks):
                calls.append((offset, size, stride, requires_grad, type(hooks).__name__))
                return storage
            return rebuild
        if (module, name) == ('torch', 'FloatStorage'):
            return Storage
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        raise pickle.UnpicklingError(module + '.' + name)
    def persistent_load(self, pid):
        calls.append(tuple(x if not isinstance(x, type) else x.__name__ for x in pid))
        return pid[2]
z = zipfile.ZipFile(sys.argv[1])
u = Unpickler(z.open('archive/data.pkl'))
key = u.load()
raw = z.read('archive/data/' + key)
print(repr(calls))
print(list(struct.unpack('<%df' % (len(raw) // 4), raw))[:3])
`;

test('.pt pickle as Python unpickles it: _rebuild_tensor_v2(FloatStorage "0" on cpu, 0, size, stride, False, OrderedDict())', (t) => {
  const probe = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 is not available');
    return;
  }
  withDir((dir) => {
    const p = join(dir, 'w.pt');
    writeTensorFile(p, data, [2, 5]);
    const r = spawnSync('python3', ['-c', PY, p], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [calls, head] = r.stdout.trim().split('\n');
    assert.equal(calls, "[('storage', 'Storage', '0', 'cpu', 10), (0, (2, 5), (5, 1), False, 'OrderedDict')]");
    assert.deepEqual(JSON.parse(head!).map((x: number) => Math.fround(x)), Array.from(data.subarray(0, 3)));
  });
});

/** A torch.save-style zip around a hand-written pickle. */
function ptWith(pkl: Buffer, storage = Buffer.from(data.buffer)): Uint8Array {
  return writeZip([{ name: 'x/data.pkl', data: pkl }, { name: 'x/data/0', data: storage }]);
}

test('.pt: an nn.Parameter (torch._utils._rebuild_parameter, as fusion_bench saves task-wise weights) is read as its tensor', () => {
  withDir((dir) => {
    const inner = Buffer.from(readZip(readFileSync((() => {
      const p = join(dir, 'plain.pt');
      writeTensorFile(p, data, [10]);
      return p;
    })())).get('archive/data.pkl')!);
    // proto 2 … <tensor> STOP  →  _rebuild_parameter(<tensor>, True, OrderedDict())
    const body = inner.subarray(2, inner.length - 1);
    const pkl = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('ctorch._utils\n_rebuild_parameter\n(', 'latin1'), body, Buffer.from([0x88]), Buffer.from('ccollections\nOrderedDict\n)RtR.', 'latin1')]);
    const p = join(dir, 'param.pt');
    writeFileSync(p, ptWith(pkl));
    const back = readTensorFile(p);
    assert.deepEqual(back.shape, [10]);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  });
});

test('.pt files calling anything but the tensor rebuilders, and broken files, are UserErrors', () => {
  withDir((dir) => {
    const evil = join(dir, 'evil.pt');
    writeFileSync(evil, ptWith(Buffer.from("\x80\x02cos\nsystem\n(X\x05\x00\x00\x00touchtR.", 'latin1')));
    assert.throws(() => readTensorFile(evil), (e: unknown) => e instanceof UserError && /os\.system is not allowed/.test(e.message) && /only tensor data/.test(e.message));
    const junk = join(dir, 'junk.pt');
    writeFileSync(junk, 'not a zip');
    assert.throws(() => readTensorFile(junk), (e: unknown) => e instanceof UserError && /junk\.pt/.test(e.message));
    assert.throws(() => readTensorFile(join(dir, 'missing.npy')), (e: unknown) => e instanceof UserError && /cannot be read/.test(e.message));
    assert.throws(() => writeTensorFile(join(dir, 'w.json'), data, [10]), (e: unknown) => e instanceof UserError && /\.pt, \.npy or \.safetensors/.test(e.message));
  });
});
