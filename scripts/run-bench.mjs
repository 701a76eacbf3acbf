#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.js), or the ones named on the command line. Each prints JSON.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('../dist/bench/', import.meta.url).pathname;
const wanted = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith('.js'));
const names = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
for (const f of names) {
  const r = spawnSync(process.execPath, ['--expose-gc', dir + f], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
