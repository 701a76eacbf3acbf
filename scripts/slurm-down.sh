#!/usr/bin/env bash
# Stops what scripts/slurm-up.sh started, by the PIDs it recorded (slurmd, slurmctld, munged).
set -uo pipefail
STATE="${FUSION_BENCH_SLURM_STATE:-/tmp/fusion-bench-slurm}"
for d in slurmd slurmctld munged; do
  f="$STATE/$d.pid"
  [ -s "$f" ] || continue
  pid="$(head -1 "$f")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "slurm-down: stopped $d ($pid)" >&2
  fi
  rm -f "$f"
done
echo "not running: stopped by scripts/slurm-down.sh" > "$STATE/status"
