/**
 * The command-line contract of ../shared/conformance/hydra/README.md: every compose case and every bulk
 * composition runs through the real `fusion-bench` binary (`--cfg job|all [--resolve]`) in a fresh
 * working directory, and its stdout must equal Hydra's output as data; error cases must fail with one
 * clear message and no JavaScript stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { binPath, needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { main } from '../../src/cli/main.js';
import { assertCaseCount, assertSameConfig, listCases, parseErrorReport, readBulk, readCase } from '../helpers/conformance.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  cwd: string;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('FUSION_BENCH_') || k === 'HYDRA_FULL_ERROR' || k === 'HYDRA_MAIN_MODULE') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'fb-conf-')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd, env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      rmSync(cwd, { recursive: true, force: true });
      resolve({ status, stdout, stderr, cwd });
    });
  });
}

/** The same command in this process (main() with captured streams): the bulk corpus is 111 × 2 runs. */
async function runInProcess(args: string[], env: Record<string, string>): Promise<Run> {
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'fb-conf-')));
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { f(String(chunk)); cb(); } });
  try {
    const status = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env: cleanEnv(env), cwd });
    return { status, stdout, stderr, cwd };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function assertCleanFailure(r: Run, what: string, expectedMessage?: string): void {
  assert.notEqual(r.status, 0, `${what}: expected a non-zero exit\nstdout:\n${r.stdout}`);
  assert.ok(r.stderr.trim().length > 0, `${what}: expected a message on stderr`);
  assert.doesNotMatch(r.stderr, /^\s+at .+\(.*:\d+:\d+\)$/m, `${what}: stderr has a JavaScript stack trace:\n${r.stderr}`);
  if (expectedMessage) {
    // Hydra's first line of the message carries the substance ("Could not override 'foo'.", ...)
    const first = expectedMessage.split('\n')[0].replace(/<CONFIG_DIR>/g, '').trim();
    const masked = first.split(/\s+/).filter((w) => !w.includes('<')).join(' ');
    assert.ok(r.stderr.replace(/\s+/g, ' ').includes(masked.replace(/\s+/g, ' ')), `${what}: stderr lacks Hydra's message '${first}':\n${r.stderr}`);
  }
}

const casesDir = sharedDir ? sharedPath('conformance', 'hydra', 'cases') : null;
const cases = casesDir ? listCases(casesDir).map(readCase).filter((c) => c.mode === 'compose') : [];
if (casesDir !== null) test('the compose cases are there', () => assertCaseCount('CLI conformance', cases.length, 40));

for (const c of cases) {
  test(`case ${c.id}: ${c.description}`, { ...needsShared(), concurrency: true }, async () => {
    const base = ['--config-path', c.configPath!, ...(c.configName ? ['--config-name', c.configName] : []), '--cfg', c.hydra ? 'all' : 'job'];
    const r = await runCli([...base, ...c.overrides], c.env);
    if (c.files['expected_error.txt']) {
      const report = parseErrorReport(c.files['expected_error.txt']);
      assertCleanFailure(r, `case ${c.id}`, report.error_message || report.cause_message);
      return;
    }
    assert.equal(r.status, 0, `case ${c.id} failed:\n${r.stderr}`);
    assertSameConfig(r.stdout, c.files['expected.yaml'], { configDir: c.configPath!, cwd: r.cwd });
    if (c.resolve) {
      const rr = await runCli([...base, '--resolve', ...c.overrides], c.env);
      if (c.files['expected_resolve_error.txt']) {
        assertCleanFailure(rr, `case ${c.id} --resolve`);
      } else {
        assert.equal(rr.status, 0, `case ${c.id} --resolve failed:\n${rr.stderr}`);
        assertSameConfig(rr.stdout, c.files['expected_resolved.yaml'], { configDir: c.configPath!, cwd: rr.cwd });
      }
    }
  });
}

test('bulk compositions over fusion_bench\'s tree, through the CLI\'s main()', { ...needsShared(), timeout: 600_000 }, async () => {
  const records = readBulk(sharedPath('conformance', 'hydra', 'bulk', 'fusion_bench_all_options.public.jsonl'));
  const configDir = sharedPath('conformance', 'hydra', 'fusion_bench');
  assert.ok(records.length > 100);
  const failures: string[] = [];
  const queue = [...records.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [i, rec] = next;
      const what = `bulk #${i} ${rec.config_name} ${rec.overrides.join(' ')}`;
      const args = ['--config-path', configDir, '--config-name', rec.config_name, '--cfg', 'job', ...rec.overrides];
      try {
        const r = await runInProcess(args, {});
        if (rec.error !== null) {
          assertCleanFailure(r, what);
          continue;
        }
        assert.equal(r.status, 0, `${what} failed:\n${r.stderr}`);
        assertSameConfig(r.stdout, rec.unresolved!, { configDir, cwd: r.cwd });
        if (rec.resolved !== null || rec.resolve_error !== null) {
          const rr = await runInProcess([...args, '--resolve'], {});
          if (rec.resolve_error !== null) assertCleanFailure(rr, `${what} --resolve`);
          else {
            assert.equal(rr.status, 0, `${what} --resolve failed:\n${rr.stderr}`);
            assertSameConfig(rr.stdout, rec.resolved!, { configDir, cwd: rr.cwd });
          }
        }
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message.slice(0, 600)}`);
      }
    }
  };
  await worker();
  assert.deepEqual(failures, []);
});
