#!/usr/bin/env bash
# `npm test`: the test bed and the build (scripts/prepare.sh), then the unit, integration and
# e2e suites against the real engine and a throwaway PostgreSQL. Extra args go to vitest.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
exec npx vitest run "$@"
