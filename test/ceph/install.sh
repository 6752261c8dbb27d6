#!/usr/bin/env bash
# Installs the Debian packages the S3-compatibility suite needs for its throwaway Ceph cluster
# (monitor, OSD, radosgw, the ceph/radosgw-admin CLIs) plus curl, which ceph-rgw-up.sh uses to
# wait for the gateway. Safe to run again: when everything is present it does nothing, and it
# refreshes the package lists only when apt cannot find one of the packages without doing so.
# Output is kept to errors; the exit status tells whether it worked.
set -euo pipefail

PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test/ceph/install.sh: needs root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# A candidate version shows up only when the package lists are there (fresh containers ship
# without them), so a missing candidate is the sign an update is needed.
has_candidate() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  [ -n "$c" ] && [ "$c" != '(none)' ]
}
for p in "${missing[@]}"; do
  if ! has_candidate "$p"; then
    "${SUDO[@]}" apt-get update -qq
    break
  fi
done

# -qq keeps apt quiet; dpkg's own "Selecting/Unpacking/Setting up" lines go to /dev/null too,
# but they are kept in a log shown if the install fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >"$log" 2>&1; then
  # Lists present but stale (a mirror dropped the version they name): refresh once and retry.
  if "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >"$log" 2>&1; then
    exit 0
  fi
  cat "$log" >&2
  echo "test/ceph/install.sh: apt-get install ${missing[*]} failed" >&2
  exit 1
fi
