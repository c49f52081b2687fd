#!/usr/bin/env bash
# Starts a single-node SLURM cluster on localhost (Debian's slurm-wlm + munge), for the sweep tests and for
# trying `sparrow sweep --backend slurm` on one machine. Needs root (CI and the dev machines run as root).
#
#   tools/slurm/start-local-slurm.sh          # install if missing, configure, start; idempotent
#   tools/slurm/start-local-slurm.sh --stop   # stop the daemons it started
#
# Configuration: one node "localhost" with this machine's CPUs and memory, partition "debug" (default), no
# accounting database, ProctrackType=proctrack/linuxproc and TaskPlugin=task/none (no cgroups or systemd needed,
# so it works inside containers). Daemons run in the background; logs go to /var/log/slurm/.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
RUN=/run/slurm

stop_slurm() {
  for name in slurmd slurmctld; do
    if [ -f "$RUN/$name.pid" ]; then kill "$(cat "$RUN/$name.pid")" 2>/dev/null || true; rm -f "$RUN/$name.pid"; fi
  done
}

if [ "${1:-}" = "--stop" ]; then
  stop_slurm
  if [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
  exit 0
fi

if [ "$(id -u)" != 0 ]; then echo "start-local-slurm.sh: needs root" >&2; exit 1; fi

missing=""
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing Debian packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $missing
fi

# munge: a key and a running daemon.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge; chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null

# slurm.conf for this one machine.
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
[ "$mem" -lt 1000 ] && mem=1000
mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" "$LOGS" "$RUN"
cat > "$CONF_DIR/slurm.conf" <<EOF
# Written by sparrow's tools/slurm/start-local-slurm.sh: a single-node cluster on localhost.
ClusterName=sparrow-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerParameters=sched_interval=2
MessageTimeout=30
KillWait=30
MinJobAge=300
DefMemPerCPU=1000
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
# No cgroup.conf: with linuxproc/task-none nothing uses cgroups (22.05 has no CgroupPlugin=disabled).

if ! scontrol ping 2>/dev/null | grep -q "UP"; then
  stop_slurm
  slurmctld -c -f "$CONF_DIR/slurm.conf"
  for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q "UP" && break; sleep 0.2; done
fi
if ! pgrep -x slurmd >/dev/null; then
  slurmd -N localhost -f "$CONF_DIR/slurm.conf"  # the node is "localhost" whatever the hostname
fi
for _ in $(seq 150); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null | head -1)
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 0.2
done
scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
sinfo -h -o "%P %a %D %T" | head -1
state=$(sinfo -h -n localhost -o %T | head -1)
case "$state" in
  idle*|mixed*|allocated*) echo "single-node SLURM is up (node localhost: $state)" ;;
  *) echo "SLURM did not come up (node state '$state'); see $LOGS/" >&2; exit 1 ;;
esac
