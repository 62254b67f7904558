#!/usr/bin/env bash
# `npm run bench [-- [--quick] [--rounds N] [--out FILE] [storage|db|files|staging|detect|recovery …]]`: builds, brings up
# the testbed, runs the benchmarks (all by default) and writes their figures to one JSON file. The
# testbed stays up (stop it with `bash test/testbed/testbed.sh down`).
# `npm run bench -- --compare A.json B.json` compares two runs (no testbed needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
for arg in "$@"; do
  if [ "$arg" = --compare ]; then exec node dist/bench/main.js "$@"; fi
done
# GNU time measures CPU seconds and peak RSS of every side's process tree; restic is a baseline
# of the files benchmark; strace counts the staging sync's connections to Production.
dpkg -s time restic strace >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time restic strace >/dev/null; }
bash test/testbed/testbed.sh up
node dist/bench/main.js "$@"
