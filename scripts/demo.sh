#!/usr/bin/env bash
# `npm run demo`, the README's main job on a fresh machine: the test bed and the build
# (scripts/prepare.sh), then faasctl sets up the platform itself — Swarm mode, the runtime
# image, PostgreSQL as a Swarm service, the schema — and checks it with doctor.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"

faasctl() { node bin/faasctl.cjs "$@"; }
faasctl up --swarm-init --postgres-image "$FAASCTL_POSTGRES_IMAGE"
faasctl doctor
