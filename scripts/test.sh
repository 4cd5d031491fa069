#!/usr/bin/env bash
# `npm test`: brings up the test bed (dockerd, Swarm, images; quick when already up),
# installs dependencies when missing, builds, and runs the unit, integration and e2e
# suites against the real engine and a throwaway PostgreSQL. Extra args go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/testbed.sh up
eval "$(bash scripts/testbed.sh env)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
exec npx vitest run "$@"
