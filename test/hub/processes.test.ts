import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hfHubDownload } from '../../src/hub/download.js';
import { repoRoot } from '../helpers/paths.js';
import { startFakeHub, type FakeHub } from '../helpers/hub-server.js';
import { CLIP, freshEnvFor, makeFixture, sha256, type Fixture } from './fixtures.js';

let fx: Fixture;
let hub: FakeHub;
before(async () => {
  fx = makeFixture();
  hub = await startFakeHub({ root: fx.root });
});
after(async () => {
  await hub.close();
  fx.cleanup();
});

/** Starts download-child in its own process, compiled (.js) or through tsx (.ts) like this file. */
function child(args: object): { proc: ChildProcess; lines: string[]; nextLine: () => Promise<string>; exited: Promise<number | null> } {
  const self = fileURLToPath(import.meta.url);
  const isTs = self.endsWith('.ts');
  const script = join(self, '..', isTs ? 'download-child.ts' : 'download-child.js');
  const argv = isTs ? ['--import', 'tsx', script, JSON.stringify(args)] : [script, JSON.stringify(args)];
  const proc = spawn(process.execPath, argv, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => {
    const l = lines.shift();
    if (l !== undefined) resolve(l);
    else waiters.push(resolve);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, nextLine, exited };
}

const freshEnv = (extra: Record<string, string | undefined> = {}) => freshEnvFor(fx, hub.url, extra);

test('two processes downloading the same file at once produce one intact blob, fetched once', async () => {
  const env = freshEnv();
  hub.faults.throttle = { chunkBytes: 16_384, delayMs: 15 };
  try {
    const a = child({ repoId: CLIP, filename: 'model.safetensors', env, waitForGo: true });
    const b = child({ repoId: CLIP, filename: 'model.safetensors', env, waitForGo: true });
    assert.equal(await a.nextLine(), 'ready');
    assert.equal(await b.nextLine(), 'ready');
    const mark = hub.requests.length;
    a.proc.stdin?.write('go\n');
    b.proc.stdin?.write('go\n');
    const [ra, rb] = [JSON.parse(await a.nextLine()), JSON.parse(await b.nextLine())];
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
    assert.ok(ra.path && ra.path === rb.path, JSON.stringify([ra, rb]));
    const etag = sha256(fx.files.weights as Buffer);
    assert.equal(sha256(readFileSync(ra.path)), etag);
    const storage = join(env.HF_HOME, 'hub', 'models--openai--clip-vit-base-patch32');
    assert.deepEqual(readdirSync(join(storage, 'blobs')), [etag], 'one blob, no temp files');
    const reqs = hub.requests.slice(mark);
    assert.equal(reqs.filter((r) => r.method === 'HEAD').length, 2, 'both asked for the metadata');
    assert.equal(reqs.filter((r) => r.server === 'cdn' && r.method === 'GET').length, 1, 'the lock let only one of them download');
  } finally {
    hub.faults.throttle = null;
  }
});

test('a process killed mid-download leaves no finished file, and its stale lock does not block the next download', async () => {
  // a long read timeout: however slowly this test gets to it, the child is still waiting when it is killed
  const env = { ...freshEnv(), HF_HUB_DOWNLOAD_TIMEOUT: '3600' };
  const storage = join(env.HF_HOME, 'hub', 'models--openai--clip-vit-base-patch32');
  const etag = sha256(fx.files.weights as Buffer);
  const sent = 50_000;
  // The server sends `sent` bytes and then holds the connection, silent: the child cannot finish, and the
  // test knows exactly how much it can have written before it is killed.
  hub.faults.stallAfterBytes = sent;
  try {
    const c = child({ repoId: CLIP, filename: 'model.safetensors', env });
    assert.equal(await c.nextLine(), 'ready');
    // Wait (without a deadline: the test runner's timeout is the only one) until all of it is on disk.
    let exited = false;
    void c.exited.then(() => (exited = true));
    for (;;) {
      assert.ok(!exited, 'the child exited before it was killed');
      const blobs = join(storage, 'blobs');
      const temps = existsSync(blobs) ? readdirSync(blobs).filter((f) => f.endsWith('.incomplete')) : [];
      if (temps.some((f) => statSync(join(blobs, f)).size === sent)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    c.proc.kill('SIGKILL');
    await c.exited;
  } finally {
    hub.faults.stallAfterBytes = null;
  }
  const left = readdirSync(join(storage, 'blobs'));
  assert.ok(!left.includes(etag), 'no blob under the final name');
  assert.ok(left.every((f) => f.endsWith('.incomplete')));
  assert.ok(existsSync(join(env.HF_HOME, 'hub', '.locks', 'models--openai--clip-vit-base-patch32', `${etag}.lock`)), 'the dead process left its lock');
  const mark = hub.requests.length;
  const said: string[] = [];
  const path = await hfHubDownload({ repoId: CLIP, filename: 'model.safetensors', env, progressStream: { write: (s: string) => said.push(s) } });
  assert.deepEqual(said.filter((s) => s.includes('waiting for another process')), [], 'the lock of a dead process is broken at once, without waiting');
  assert.equal(sha256(readFileSync(path)), etag);
  const cdnGet = hub.requests.slice(mark).find((r) => r.server === 'cdn' && r.method === 'GET');
  assert.equal(cdnGet?.range, `bytes=${sent}-`, "the dead process's partial download was resumed where it stopped");
  assert.deepEqual(readdirSync(join(storage, 'blobs')), [etag], 'its temp file was taken over');
});
