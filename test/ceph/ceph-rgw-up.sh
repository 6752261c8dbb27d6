#!/usr/bin/env bash
# Starts a disposable single-node Ceph cluster for tests: one monitor, one OSD keeping its data in
# memory (memstore, nothing written to disk, everything gone on stop), no manager, and a radosgw
# (beast frontend) answering S3 on 127.0.0.1:$RGW_PORT. Written against Debian 12's Ceph 16.2
# (pacific); `bash test/ceph/install.sh` installs what it needs.
#
# Every daemon runs in the foreground under this script's control, so its exact PID is known; the
# PIDs go to $CEPH_DIR/pids (monitor, OSD, gateway, one a line) and ceph-rgw-down.sh stops those
# and nothing else. Several clusters can run side by side when each has its own CEPH_DIR and ports.
#
# Environment (all optional):
#   CEPH_DIR       working directory: config, monitor store, logs, pids
#                  (default: $TMPDIR/stowage-ceph-rgw, /tmp/stowage-ceph-rgw without TMPDIR)
#   RGW_PORT       S3 port (default 7480)
#   MON_PORT       monitor port, legacy v1 protocol (default 6789)
#   MON_V2_PORT    monitor port, msgr2 protocol (default 3300)
#   S3_ACCESS_KEY  access key of the S3 user created at the end
#   S3_SECRET_KEY  its secret
# On success the last line of output reads: rgw up on http://127.0.0.1:PORT access=... secret=...
set -euo pipefail

D=${CEPH_DIR:-${TMPDIR:-/tmp}/stowage-ceph-rgw}
PORT=${RGW_PORT:-7480}
MON_V1=${MON_PORT:-6789}
MON_V2=${MON_V2_PORT:-3300}
AK=${S3_ACCESS_KEY:-TESTACCESSKEY}
SK=${S3_SECRET_KEY:-TESTSECRETKEY1234567890}
MON_ADDRS="[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]"

for bin in ceph-mon ceph-osd radosgw ceph radosgw-admin monmaptool curl; do
  command -v "$bin" >/dev/null || { echo "$bin not found: run bash test/ceph/install.sh" >&2; exit 1; }
done
# A pids file means a cluster from this directory may still be running; never start over it.
if [ -f "$D/pids" ]; then echo "$D/pids exists: run ceph-rgw-down.sh first" >&2; exit 1; fi
rm -rf "$D"
mkdir -p "$D"/{mon,osd,rgw,log,run}
# Any other failing step: say which one, since most of their output goes to the logs.
trap 'echo "ceph-rgw-up.sh: line $LINENO failed (exit $?); see $D/log" >&2' ERR
FSID=$(cat /proc/sys/kernel/random/uuid)

# Notes on the settings below:
# - cephx is off everywhere: the cluster is local and thrown away, and it saves handing out keys.
# - radosgw asks the monitor for "secure" mode on msgr2 by default, which cannot be negotiated with
#   authentication off (it logs get_initial_auth_request returned -13 and waits forever), so
#   clients are allowed "crc" as well.
# - One OSD holds everything: pools of size 1, eight placement groups, no autoscaler (which needs
#   a manager), and CRUSH choosing among OSDs rather than hosts. The warnings a production
#   cluster would raise about that are silenced.
# - memstore keeps objects in RAM, capped at 2 GiB.
# - Logs, pid files and admin sockets go under $D so nothing lands in /var.
cat >"$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon initial members = a
mon host = $MON_ADDRS
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 10
osd objectstore = memstore
memstore device bytes = 2147483648
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
run dir = $D/run
admin socket = $D/run/\$name.asok
[mon.a]
mon data = $D/mon
# The monitor commits changes every second by default; bring-up makes about fourteen of them
# (pool creations and "application enable"s), so 0.1 s here saves over ten seconds.
paxos propose interval = 0.1
[osd.0]
osd data = $D/osd
[client.rgw.a]
# tcp_nodelay=1: without it every request after the first on a kept-alive connection (as the
# AWS SDK makes them) waited ~45 ms for Nagle's algorithm.
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw thread pool size = 32
rgw data = $D/rgw
rgw dns name = localhost
CONF

C=(-c "$D/ceph.conf")
# The ceph CLI retries a missing monitor forever unless told otherwise.
ceph_() { timeout 20 ceph "${C[@]}" --connect-timeout 10 "$@"; }
# Runs a daemon with -f (stay in the foreground) as a background job of this script, so $! is the
# daemon itself rather than a parent that forks and exits, and records that PID.
# The malloc settings keep memory a daemon frees for its next allocations (one arena, no trimming,
# no mmap for chunks up to 32 MiB). Without them, memstore and radosgw take fresh pages from the
# kernel for every object they receive; on VMs whose page faults cost ~15 µs each, a 64 MiB PUT
# then spent most of its time, and most of its jitter, in faults (32,000 of them in the OSD).
start() {
  local name=$1
  shift
  MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 \
    nohup "$@" -f >"$D/log/$name.stdout" 2>&1 </dev/null &
  echo $! >>"$D/pids"
}

# Monitor: a one-member monitor map, an empty store, then the daemon.
timeout 20 monmaptool --create --addv a "$MON_ADDRS" --fsid "$FSID" "$D/monmap" >/dev/null
timeout 60 ceph-mon "${C[@]}" -i a --mkfs --monmap "$D/monmap" >/dev/null
start mon ceph-mon "${C[@]}" -i a
for _ in $(seq 1 120); do ceph_ -s >/dev/null 2>&1 && break; sleep 0.25; done
ceph_ -s >/dev/null

# OSD: allocate an id and format its (in-memory) store.
OSD=$(ceph_ osd create)
timeout 60 ceph-osd "${C[@]}" -i "$OSD" --mkfs >"$D/log/osd-mkfs.out" 2>&1

# Before starting it, place the OSD in the CRUSH map and create the pools radosgw would otherwise
# create lazily: its bucket index, data and multipart pools (the first CreateBucket, PutObject and
# multipart upload each stalled ~2 s while it did). The ceph CLI runs one command per line of
# stdin, which takes a second where seven separate calls take five (each pays for starting
# Python and connecting). None of these is required: radosgw creates missing pools itself.
{
  echo "osd crush add osd.$OSD 1.0 host=$(hostname -s) root=default"
  for pool in default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
    echo "osd pool create $pool 8 8"
    echo "osd pool application enable $pool rgw"
  done
} | ceph_ >"$D/log/setup-commands.out" 2>&1 || true

start osd ceph-osd "${C[@]}" -i "$OSD"
for _ in $(seq 1 120); do ceph_ osd stat 2>/dev/null | grep -q "1 up" && break; sleep 0.25; done
ceph_ osd stat | grep -q "1 up" || { echo "osd did not come up; see $D/log" >&2; exit 1; }

# Gateway: start it, wait for its anonymous ListBuckets answer, then create the S3 user.
start rgw radosgw "${C[@]}" -n client.rgw.a
ok=0
for _ in $(seq 1 360); do
  curl -sf -m 2 "http://127.0.0.1:$PORT/" >/dev/null && { ok=1; break; }
  sleep 0.25
done
[ $ok = 1 ] || { echo "radosgw did not answer on 127.0.0.1:$PORT; see $D/log" >&2; exit 1; }
timeout 60 radosgw-admin "${C[@]}" user create --uid=tester --display-name=tester \
  --access-key="$AK" --secret="$SK" >"$D/log/user.json"
echo "rgw up on http://127.0.0.1:$PORT access=$AK secret=$SK"
