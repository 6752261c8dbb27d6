#!/usr/bin/env bash
# Stops the cluster ceph-rgw-up.sh started in $CEPH_DIR (same default), and only it: the PIDs
# come from $CEPH_DIR/pids and are stopped in reverse order of start (gateway, OSD, monitor).
# Each gets SIGTERM and up to 10 s to exit before SIGKILL. A PID whose command line no longer
# names this cluster's ceph.conf belongs to some other process by now and is left alone.
# CEPH_RGW_PURGE=1 also removes $CEPH_DIR (config, logs, monitor store).
set -uo pipefail

D=${CEPH_DIR:-${TMPDIR:-/tmp}/stowage-ceph-rgw}
if [ ! -f "$D/pids" ]; then
  echo "nothing to stop: no $D/pids"
  [ "${CEPH_RGW_PURGE:-0}" = 1 ] && rm -rf "$D"
  exit 0
fi

# True while PID $1 is still one of this cluster's daemons.
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$D/ceph.conf"; }

for pid in $(tac "$D/pids"); do
  ours "$pid" || continue
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 20); do
    ours "$pid" || break
    sleep 0.5
  done
  ours "$pid" && kill -9 "$pid" 2>/dev/null
done
rm -f "$D/pids"
[ "${CEPH_RGW_PURGE:-0}" = 1 ] && rm -rf "$D"
echo stopped
