#!/usr/bin/env bash
# `npm test`: the test bed and the build (scripts/prepare.sh), `npm run lint`, the unit, integration and e2e
# suites against the real engine and a throwaway PostgreSQL, then the cluster suite on the
# 3-node Swarm (scripts/cluster.sh up; it stays up, `bash scripts/cluster.sh down` removes it).
# The cluster runs alone, after the rest: node-loss timings must not share the CPUs with e2e runs.
# Extra args go to vitest (one run, every project, the cluster's included).
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
# The shape first (lint, format, layer rules): seconds, and a failure says what to fix.
npm run --silent lint
bash scripts/cluster.sh up
export FAASCTL_CLUSTER_TESTS=1
if [ $# -gt 0 ]; then exec npx vitest run "$@"; fi
npx vitest run --project unit
# The rest waits on the engine and PostgreSQL far more than it computes: three files at once
# (vitest's default here is one, a core less than the machine's two). Each file has its own
# database and so its own installation, and what a test checks on the engine is scoped to it
# (test/helpers/leftovers.ts).
npx vitest run --project integration --project e2e --project faults --maxWorkers=3 --minWorkers=1
exec npx vitest run --project cluster
