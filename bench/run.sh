#!/usr/bin/env bash
# `npm run bench [storage|db|files]`: builds, brings up the testbed components the benchmark needs,
# and prints our figures next to a baseline measured in the same run. The testbed stays up
# (stop it with `bash test/testbed/testbed.sh down`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
# GNU time measures the baselines' peak RSS.
dpkg -s time >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
bash test/testbed/testbed.sh up
node dist/bench/main.js "$@"
