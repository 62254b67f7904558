#!/usr/bin/env bash
# `npm test`: installs what it needs (npm and Debian packages), brings up the real testbed
# (3-node Galera, GlusterFS over FUSE, Ceph RGW), lints, runs the whole suite and takes the
# testbed down again. LIFEBOAT_KEEP_TESTBED=1 leaves it running for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

bash test/setup.sh
npx biome check .
bash test/testbed/testbed.sh up
if [ "${LIFEBOAT_KEEP_TESTBED:-0}" != 1 ]; then
  trap 'bash test/testbed/testbed.sh down' EXIT
fi

log=$(mktemp)
status=0
npx ava "$@" 2>&1 | tee "$log" || status=$?
# The drills cut links, kill and partition Galera nodes: alone, after everything else (skipped
# when the command names its own test files).
if [ $# -eq 0 ]; then
  npx ava --config ava-drills.config.mjs 2>&1 | tee -a "$log" || status=$?
fi
# ava prints one line per test: ✔ passed, ✘ [fail]: failed (its own totals omit passes when something fails).
passed=$(grep -c '✔' "$log" || true)
failed=$(grep -c '✘' "$log" || true)
rm -f "$log"
echo "ava: ${passed} passed, ${failed} failed"
echo "npm test took $(($(date +%s) - started)) s"
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
