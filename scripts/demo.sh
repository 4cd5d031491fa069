#!/usr/bin/env bash
# `npm run demo`, the README's main job on a fresh machine: the test bed (dockerd, Swarm,
# images), dependencies, the build, then faasctl itself sets up the platform — PostgreSQL
# as a Swarm service, the schema, the runtime image — and checks it with doctor.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/testbed.sh up
eval "$(bash scripts/testbed.sh env)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build

faasctl() { node bin/faasctl.cjs "$@"; }
faasctl up --swarm-init --postgres-image "$FAASCTL_POSTGRES_IMAGE"
faasctl doctor
