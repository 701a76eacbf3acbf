import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

/** Runs the CLI's main() in this process, in a fresh temp cwd, with only PATH and `env` in its environment. */
export async function runMain(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'fb-cli-'));
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) => new Writable({ write(c, _e, cb) { f(String(c)); cb(); } });
  try {
    const status = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env: { PATH: process.env.PATH ?? '', ...env }, cwd });
    return { status, stdout, stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
