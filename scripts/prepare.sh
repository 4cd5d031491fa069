#!/usr/bin/env bash
# Shared prelude of `npm test` and `npm run demo` (source it): the test bed (dockerd, Swarm,
# images; quick when already up), its image names in the environment, dependencies when
# missing or stale, and the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/testbed.sh up
eval "$(bash scripts/testbed.sh env)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
