#!/usr/bin/env bash
# Installs the npm dependencies (when missing or stale) and compiles the project into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf dist
npm run --silent build
