#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the launcher tests and benchmarks (as root; no systemd):
# installs Debian's slurm-wlm and munge when missing, writes a minimal slurm.conf for this host with its
# state under $FUSION_BENCH_SLURM_STATE (default /tmp/fusion-bench-slurm), starts munged (as the munge
# user), slurmctld and slurmd by hand, and waits until the node is idle. scripts/slurm-down.sh stops them.
# Exit status 0: Slurm answers; non-zero: it could not start (the reason is in $STATE/status and on stderr).
set -uo pipefail

STATE="${FUSION_BENCH_SLURM_STATE:-/tmp/fusion-bench-slurm}"
CONF=/etc/slurm/slurm.conf
MARK='# written by fusion-bench scripts/slurm-up.sh'
mkdir -p "$STATE"

fail() {
  echo "slurm-up: $*" >&2
  echo "not running: $*" > "$STATE/status"
  exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (it installs packages and starts munged, slurmctld and slurmd)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  echo "slurm-up: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -q && apt-get install -y -q --no-install-recommends slurm-wlm munge; } >"$STATE/apt.log" 2>&1 \
    || fail "apt-get install slurm-wlm munge failed (see $STATE/apt.log)"
  installed=1
fi

HOST="$(hostname -s)"
# The daemons listen on loopback only, so the host name must resolve to it.
if ! getent ahostsv4 "$HOST" | grep -q '^127\.'; then
  echo "127.0.0.1 $HOST" >> /etc/hosts
fi

# --- munge: its key is owned by the munge user, and munged must run as that user
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
# munged's own PID file (a daemon: pgrep may also see its parent on the way out)
record_munged() {
  if [ -s /run/munge/munged.pid ]; then head -1 /run/munge/munged.pid > "$STATE/munged.pid"
  else pgrep -n -u munge -x munged > "$STATE/munged.pid"; fi
}
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged --force || fail "munged did not start"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null 2>&1 || fail "munge does not answer"
  record_munged
elif [ "${installed:-0}" = 1 ]; then
  # the package's install started it: ours to stop as well
  record_munged
fi

# --- slurm.conf: ours, or left alone when someone else's is there
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  echo "slurm-up: $CONF exists and is not ours: using it as it is" >&2
else
  CPUS="$(nproc)"
  MEM_MB="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d"
  cat > "$STATE/slurm.conf" <<CONF_EOF
$MARK (state under $STATE)
ClusterName=fusionbench
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
# cgroup process tracking fails silently here (jobs end COMPLETED without running)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=5
MinJobAge=300
# small, so that the tests see a sweep split into several arrays
MaxArraySize=4
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF_EOF
  changed=1
  cmp -s "$STATE/slurm.conf" "$CONF" && changed=0
  cp "$STATE/slurm.conf" "$CONF"
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! alive "$STATE/slurmctld.pid"; then
  setsid slurmctld -c -f "$CONF" </dev/null >"$STATE/slurmctld.out" 2>&1 || fail "slurmctld did not start (see $STATE/slurmctld.log)"
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping 2>/dev/null | grep -q UP || fail "slurmctld does not answer (see $STATE/slurmctld.log)"
if [ "${changed:-0}" = 1 ]; then scontrol reconfigure 2>/dev/null || true; fi
if ! alive "$STATE/slurmd.pid"; then
  setsid slurmd -f "$CONF" </dev/null >"$STATE/slurmd.out" 2>&1 || fail "slurmd did not start (see $STATE/slurmd.log)"
fi

# --- wait until the node takes jobs
state=""
for i in $(seq 150); do
  state="$(sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -1)"
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    down*|drain*|drained*|fail*) scontrol update nodename="$HOST" state=resume 2>/dev/null ;;
  esac
  sleep 0.2
done
case "$state" in
  idle|mixed|allocated|completing) ;;
  *) fail "node $HOST is '$state', not idle (see $STATE/slurmd.log)" ;;
esac
echo "running: node $HOST is $state" > "$STATE/status"
echo "slurm-up: Slurm is up (node $HOST: $state; state in $STATE)" >&2
