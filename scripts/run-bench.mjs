#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.js), or the ones named on the command line. Each prints JSON.
// The long ones (minutes to tens of minutes, gigabytes of generated models) run only when named or with
// --all, so that a plain `npm run bench` finishes in a few minutes.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const LONG = ['adamerging-step', 'clip-vision-train', 'compare', 'merge-floor', 'regmean', 'svd'];
const dir = new URL('../dist/bench/', import.meta.url).pathname;
const args = process.argv.slice(2);
const runAll = args.includes('--all');
const wanted = args.filter((a) => a !== '--all');
const all = readdirSync(dir).filter((f) => f.endsWith('.js'));
const isLong = (f) => LONG.includes(f.replace(/\.js$/, ''));
const names = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all.filter((f) => runAll || !isLong(f));
if (!wanted.length && !runAll) {
  const skipped = all.filter(isLong).map((f) => f.replace(/\.js$/, ''));
  if (skipped.length) process.stderr.write(`run-bench: not running the long benchmarks ${skipped.join(', ')}: name them (npm run bench -- compare) or pass --all\n`);
}
for (const f of names) {
  const r = spawnSync(process.execPath, ['--expose-gc', dir + f], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
