#!/usr/bin/env node
/**
 * `npm run fuzz -- <target|all> [--seconds N] [--seed S] [--runs N]`: feeds a target fast-check inputs
 * until the time budget (default 60 s) or the run count is spent. A broken invariant prints fast-check's
 * report (seed, path and the shrunk input) and exits 1; inputs slower than --slow-ms (default 5000) or
 * growing the RSS by more than --rss-mb (default 500) are failures too. Replay with the printed seed.
 */
import { InvariantViolation, runTarget } from './harness.js';
import { TARGETS, targetNamed } from './targets/index.js';

function usage(): never {
  process.stderr.write(`usage: npm run fuzz -- <target|all> [--seconds N] [--seed S] [--runs N] [--slow-ms MS] [--rss-mb MB]\ntargets: ${TARGETS.map((t) => t.name).join(', ')}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const name = argv[0];
if (name === undefined || name.startsWith('-')) usage();
const opt = (flag: string): number | undefined => {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) usage();
  return v;
};
const runs = opt('--runs');
const seconds = opt('--seconds') ?? (runs === undefined ? 60 : undefined);
const seed = opt('--seed') ?? Date.now() % 2 ** 31;
const slowMs = opt('--slow-ms') ?? 5000;
const rssMb = opt('--rss-mb') ?? 500;
const targets = name === 'all' ? TARGETS : [targetNamed(name) ?? usage()];

let leaked: unknown = null;
process.on('unhandledRejection', (e) => {
  leaked = e;
});

let failed = false;
for (const target of targets) {
  const budget = seconds === undefined ? undefined : seconds / targets.length;
  process.stdout.write(`${target.name}: ${target.description}\n  seed ${seed}${budget !== undefined ? `, ${budget.toFixed(1)} s` : `, ${runs} inputs`}\n`);
  try {
    const summary = await runTarget(target, {
      seed,
      numRuns: runs,
      seconds: budget,
      onInput(_outcome, ms, growth) {
        if (ms > slowMs) throw new InvariantViolation(`${target.name}: one input took ${ms.toFixed(0)} ms (limit ${slowMs})`);
        if (growth > rssMb) throw new InvariantViolation(`${target.name}: one input grew the RSS by ${growth.toFixed(0)} MB (limit ${rssMb})`);
        if (leaked !== null) throw new InvariantViolation(`${target.name}: an unhandled rejection: ${(leaked as Error)?.stack ?? String(leaked)}`);
      },
    });
    process.stdout.write(`  ${summary.runs} inputs: ${summary.ok} results, ${summary.userErrors} UserErrors\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(`  FAILED\n${(e as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
