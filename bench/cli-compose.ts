/**
 * Cold-process time of `fusion-bench --cfg job` composing fabric_model_fusion with the TA8 model pool:
 * the start-up cost every command pays before any work. Prints JSON.
 * Usage: node dist/bench/cli-compose.js [runs=15]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'fusion-bench.js');
const runs = Number(process.argv[2] ?? 15);
const args = [bin, '--config-name', 'fabric_model_fusion', '--cfg', 'job', 'modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8', 'method=task_arithmetic'];

function once(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return ms;
}

const bare = [] as number[];
const compose = [] as number[];
for (let i = 0; i < runs; i++) {
  bare.push(once(['-e', '0']));
  compose.push(once(args));
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min_ms: +s[0].toFixed(1), median_ms: +s[Math.floor(s.length / 2)].toFixed(1), p90_ms: +s[Math.floor(s.length * 0.9)].toFixed(1) };
};
const c = stats(compose);
const b = stats(bare);
console.log(
  JSON.stringify(
    {
      bench: 'cli-compose',
      command: 'fusion-bench --config-name fabric_model_fusion --cfg job modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8 method=task_arithmetic',
      runs,
      compose: c,
      node_startup: b,
      // the floor: an empty node process; what we add on top of it is ours
      overhead_over_node_ms: +(c.median_ms - b.median_ms).toFixed(1),
      target_ms: 150,
    },
    null,
    2,
  ),
);
