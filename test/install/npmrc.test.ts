/**
 * An install must need the npm registry only. onnxruntime-node's install script downloads its CUDA provider
 * unless told to skip; the project's .npmrc tells it, and npm (10 and 11) hands .npmrc settings to install
 * scripts as npm_config_<key> variables. This runs the real script with exactly those variables (and any
 * download pointed at a dead proxy, so a regression fails here instead of fetching hundreds of MB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

/** .npmrc's `key=value` lines as npm exports them to scripts. */
function npmrcEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(repoRoot, '.npmrc'), 'utf8').split('\n')) {
    const m = /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) env[`npm_config_${m[1]!.replace(/-/g, '_')}`] = m[2]!;
  }
  return env;
}

const script = join(repoRoot, 'node_modules', 'onnxruntime-node', 'script', 'install.js');

test('.npmrc makes onnxruntime-node\'s install script skip its download', { skip: existsSync(script) ? false : 'onnxruntime-node is not installed' }, () => {
  const env = npmrcEnv();
  assert.equal(env.npm_config_onnxruntime_node_install, 'skip');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_|^ONNXRUNTIME_NODE_INSTALL/i.test(k)));
  const dead = 'http://127.0.0.1:9';
  const r = spawnSync(process.execPath, [script], {
    cwd: join(repoRoot, 'node_modules', 'onnxruntime-node'),
    encoding: 'utf8',
    env: { ...clean, ...env, GLOBAL_AGENT_HTTP_PROXY: dead, GLOBAL_AGENT_HTTPS_PROXY: dead, HTTPS_PROXY: dead, HTTP_PROXY: dead },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /download/i);
});
