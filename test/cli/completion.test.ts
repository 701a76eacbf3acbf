/**
 * Shell completion in the real shells: the script that `-sc install=…` prints is loaded into bash (and zsh
 * and fish where installed), its completion function is called as the shell would call it, and what it
 * offers is read back. `fusion-bench` on PATH is a shim running this checkout's bin.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from '../helpers/paths.js';

let dir: string;
let env: NodeJS.ProcessEnv;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-complete-'));
  const shim = join(dir, 'fusion-bench');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} "$@"\n`);
  chmodSync(shim, 0o755);
  env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir };
});
after(() => rmSync(dir, { recursive: true, force: true }));

function has(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}
const skipUnless = (shell: string) => (has(shell) ? false : `${shell} is not installed (apt-get install ${shell})`);

/** What bash offers for `line` (cursor at its end): COMPREPLY after calling the completion function. */
function bash(line: string): string[] {
  // COMP_WORDS as bash splits them (at COMP_WORDBREAKS, `=` included); the function reads COMP_LINE/COMP_POINT
  const script = `
eval "$(fusion-bench -sc install=bash)"
COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}
read -r -a COMP_WORDS <<< "\${COMP_LINE//=/ = }"; COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_fusion_bench_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script, 'bash', line], { encoding: 'utf8', env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: values after = complete (= is a word break), with only the part bash replaces', { skip: skipUnless('bash') }, () => {
  assert.deepEqual(bash('fusion-bench method=task_ar'), ['task_arithmetic']);
  assert.ok(bash('fusion-bench method=').includes('dare/ties_merging'), 'options in sub-folders, as method=dare/ties_merging');
});

test('bash: modelpool=<TAB> offers the pools, which all live in a sub-folder', { skip: skipUnless('bash') }, () => {
  const pools = bash('fusion-bench modelpool=');
  assert.ok(pools.includes('CLIPVisionModelPool/clip-vit-base-patch32_TA8'), pools.join(' '));
  assert.deepEqual(bash('fusion-bench modelpool=CLIPVisionModelPool/clip-vit-base-patch32_svhn'), ['CLIPVisionModelPool/clip-vit-base-patch32_svhn_and_mnist']);
});

test('bash: completion goes on after a sweep value', { skip: skipUnless('bash') }, () => {
  const keys = bash('fusion-bench -m method=task_arithmetic method.scaling_factor=0.1,0.3 method.');
  assert.ok(keys.includes('method.scaling_factor='), keys.join(' '));
  assert.ok(bash('fusion-bench -m method=task_arithmetic,ties_merging modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8 tas').includes('taskpool='));
});

test('bash: groups are offered by their top name (method=, not method/dare=)', { skip: skipUnless('bash') }, () => {
  const all = bash('fusion-bench ');
  assert.ok(all.includes('method=') && all.includes('modelpool='), all.join(' '));
  assert.deepEqual(all.filter((w) => /^[a-z_]+\/.*=$/.test(w)), [], 'no sub-folder offered as a group');
});

test('bash: flags and their values', { skip: skipUnless('bash') }, () => {
  assert.deepEqual(bash('fusion-bench --config-n'), ['--config-name']);
  assert.deepEqual(bash('fusion-bench --cfg j'), ['job']);
  assert.ok(bash('fusion-bench -sc install=').includes('zsh'));
  assert.deepEqual(bash('fusion-bench --config-name de'), ['demo', 'demo_adamerging']);
  assert.deepEqual(bash('fusion-bench -cn '), ['demo', 'demo_adamerging', 'fabric_model_fusion', 'model_fusion']);
  assert.deepEqual(bash('fusion-bench --config-dir '), [], 'a folder: nothing from the config');
  assert.ok(bash('fusion-bench --config-name demo model').includes('modelpool.models.mnist='), 'keys of the config named on the line');
});

test('zsh: the script loads and its function offers whole words, keys without a trailing space', { skip: skipUnless('zsh') }, () => {
  // compadd is zsh's completion builtin, usable only under the line editor: here it prints what it gets
  const script = `
compdef() { :; }
compadd() { local nospace=0; while [[ $1 == -* && $1 != -- ]]; do if [[ $1 == -S ]]; then nospace=1; shift; fi; shift; done; shift; for w in "$@"; do print -r -- "$nospace $w"; done }
eval "$(fusion-bench -sc install=zsh)"
words=(\${(z)1}); CURRENT=\${#words}; [[ $1 == *' ' ]] && { words+=(''); CURRENT=\${#words}; }
_fusion_bench`;
  const zsh = (line: string) => {
    const r = spawnSync('zsh', ['-f', '-c', script, 'zsh', line], { encoding: 'utf8', env, cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(zsh('fusion-bench method=task_ar'), ['0 method=task_arithmetic']);
  assert.ok(zsh('fusion-bench method=task_arithmetic method.sc').includes('1 method.scaling_factor='));
  assert.ok(zsh('fusion-bench modelpool=').includes('0 modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8'));
});

test('fish: complete -C offers the values of a group and the keys', { skip: skipUnless('fish') }, () => {
  const fish = (line: string) => {
    const r = spawnSync('fish', ['--no-config', '-c', `fusion-bench -sc install=fish | source; complete -C${JSON.stringify(line).replace(/\$/g, '\\$')}`], { encoding: 'utf8', env, cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(fish('fusion-bench method=task_ar'), ['method=task_arithmetic']);
  assert.ok(fish('fusion-bench modelpool=').includes('modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8'));
  assert.ok(fish('fusion-bench -m method=task_arithmetic method.scaling_factor=0.1,0.3 method.').includes('method.scaling_factor='));
});
