#!/usr/bin/env bash
# `npm run test:cluster`: the test bed and the build (scripts/prepare.sh), the 3-node cluster
# (scripts/cluster.sh up; quick when it is already up), then the vitest project `cluster`.
# The cluster stays up afterwards (`bash scripts/cluster.sh down` removes it). Extra args go to vitest.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
bash scripts/cluster.sh up
export FAASCTL_CLUSTER_TESTS=1
exec npx vitest run --project cluster "$@"
