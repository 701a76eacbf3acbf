/**
 * onnxruntime's usage telemetry stays off unless the user asked for it (src/onnx/telemetry.ts): a process
 * that creates sessions — on its main thread, or only in the GEMM worker thread — leaves no device id,
 * no event database and no /tmp/mat-debug-<pid>.log behind. Each case runs in a fresh node process with
 * ORT_DISABLE_TELEMETRY unset and its home in a temp folder, as onnxruntime decides once per process.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keepOnnxRuntimeQuiet } from '../../src/onnx/telemetry.js';

const here = dirname(fileURLToPath(import.meta.url));
const runtimeUrl = pathToFileURL(join(here, '..', '..', 'src', 'onnx', 'runtime.js')).href;
const builderUrl = pathToFileURL(join(here, '..', '..', 'src', 'onnx', 'graph-builder.js')).href;
const modelUrl = pathToFileURL(join(here, '..', '..', 'src', 'onnx', 'model.js')).href;
const gemmUrl = pathToFileURL(join(here, '..', '..', 'src', 'method', 'linalg', 'ort-gemm.js')).href;

/** A session on the main thread: y = x + x. */
const mainThreadSession = `
const { ort } = await import(${JSON.stringify(runtimeUrl)});
const { GraphBuilder } = await import(${JSON.stringify(builderUrl)});
const { DataType } = await import(${JSON.stringify(modelUrl)});
const g = new GraphBuilder('twice');
const x = g.input('x', DataType.FLOAT, [2]);
g.output(g.node('Add', [x, x]), 'y', DataType.FLOAT, [2]);
const s = await ort.InferenceSession.create(g.build());
const out = await s.run({ x: new ort.Tensor('float32', new Float32Array([1, 2]), [2]) });
if (out.y.data[1] !== 4) throw new Error('wrong sum');
await s.release();
`;

/** Sessions only in the GEMM worker thread (a product big enough to go there). */
const workerThreadSession = `
const { ortMatmul, ortGemmStatus } = await import(${JSON.stringify(gemmUrl)});
const n = 128;
const a = new Float64Array(n * n).fill(1);
const c = ortMatmul(a, a, n, n, n);
if (c === null) throw new Error('GEMM worker off: ' + ortGemmStatus());
if (c[0] !== n) throw new Error('wrong product');
`;

interface Trace {
  readonly pid: number;
  readonly setting: string | undefined;
  /** Telemetry files the process left: its /tmp/mat-debug-<pid>.log, anything under Microsoft/ in its home. */
  readonly left: string[];
}

function runChild(t: { after(fn: () => void): void }, body: string): Trace {
  const home = mkdtempSync(join(tmpdir(), 'fb-ort-telemetry-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
  delete env.ORT_DISABLE_TELEMETRY;
  const script = `${body}\nprocess.stdout.write(JSON.stringify({ pid: process.pid, setting: process.env.ORT_DISABLE_TELEMETRY }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const { pid, setting: seen } = JSON.parse(r.stdout) as { pid: number; setting?: string };
  const left: string[] = [];
  for (const dir of new Set(['/tmp', tmpdir()])) {
    const log = join(dir, `mat-debug-${pid}.log`);
    if (existsSync(log)) {
      left.push(log);
      t.after(() => rmSync(log, { force: true }));
    }
  }
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (relative(home, p).includes('Microsoft')) left.push(p);
    }
  };
  walk(home);
  return { pid, setting: seen, left };
}

test('a session on the main thread leaves no telemetry behind, and the process says so in its environment', (t) => {
  const r = runChild(t, mainThreadSession);
  assert.equal(r.setting, '1');
  assert.deepEqual(r.left, []);
});

test('sessions only in the GEMM worker thread leave no telemetry behind either', (t) => {
  const r = runChild(t, workerThreadSession);
  assert.equal(r.setting, '1');
  assert.deepEqual(r.left, []);
});

test("a user's own setting is kept, whatever it is; unset becomes 1", () => {
  // Not checked by creating a session with telemetry allowed: that test would report to Microsoft from
  // every clone with a network. (Without the setting, the cases above do leave files: checked by hand.)
  for (const value of ['0', '1', 'false', '']) {
    const env: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: value };
    keepOnnxRuntimeQuiet(env);
    assert.equal(env.ORT_DISABLE_TELEMETRY, value);
  }
  const env: NodeJS.ProcessEnv = {};
  keepOnnxRuntimeQuiet(env);
  assert.equal(env.ORT_DISABLE_TELEMETRY, '1');
});

test('onnxruntime-node is loaded only through src/onnx/runtime.ts (type imports aside)', () => {
  const src = join(here, '..', '..', '..', 'src');
  const offenders: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(join('onnx', 'runtime.ts'))) {
        const text = readFileSync(p, 'utf8');
        if (/^import (?!type\b)[^;]*from 'onnxruntime-node'|import\('onnxruntime-node'\)|require\('onnxruntime-node'\)/m.test(text)) offenders.push(relative(src, p));
      }
    }
  };
  walk(src);
  assert.deepEqual(offenders, []);
});
