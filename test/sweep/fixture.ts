/**
 * A tiny world for sweep tests: three toy models in safetensors (a base and two fine-tuned ones), a config
 * directory with a model pool over them, and a CliIO that records stdout and stderr.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import type { CliIO } from '../../src/cli/main.js';
import { main } from '../../src/cli/main.js';

export interface World {
  root: string;
  configDir: string;
  sweepDir: string;
}

function writeModel(dir: string, value: number): string {
  mkdirSync(dir, { recursive: true });
  writeSafetensorsSync(join(dir, 'model.safetensors'), stateDictFromArrays({ 'w.weight': { shape: [2, 2], data: [value, value, value, value] }, 'b.bias': { shape: [2], data: [value, -value] } }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'toy' }));
  return dir;
}

/** Creates the world; `extra` adds config files (path relative to the config dir → YAML text). */
export function makeWorld(extra: Record<string, string> = {}): World {
  const root = mkdtempSync(join(tmpdir(), 'fb-sweep-'));
  const base = writeModel(join(root, 'models', 'base'), 1);
  const a = writeModel(join(root, 'models', 'a'), 2);
  const b = writeModel(join(root, 'models', 'b'), 4);
  const configDir = join(root, 'conf');
  mkdirSync(join(configDir, 'modelpool'), { recursive: true });
  writeFileSync(
    join(configDir, 'modelpool', 'toy.yaml'),
    `_target_: fusion_bench.modelpool.BaseModelPool\nmodels:\n  _pretrained_: ${base}\n  a: ${a}\n  b: ${b}\n`,
  );
  for (const [p, text] of Object.entries(extra)) {
    mkdirSync(join(configDir, p, '..'), { recursive: true });
    writeFileSync(join(configDir, p), text);
  }
  return { root, configDir, sweepDir: join(root, 'sweep') };
}

export function removeWorld(w: World): void {
  rmSync(w.root, { recursive: true, force: true });
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command in-process with the world's config dir and sweep dir. */
export async function fusionBench(w: World, argv: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: CliIO = { stdout, stderr, env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: w.root, ...env }, cwd: w.root };
  const code = await main(['--config-dir', w.configDir, ...argv], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
