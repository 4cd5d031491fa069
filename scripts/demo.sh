#!/usr/bin/env bash
# `npm run demo`, the README's main job on a fresh machine: the test bed and the build
# (scripts/prepare.sh), then faasctl sets up the platform itself — Swarm mode, the runtime
# image, PostgreSQL as a Swarm service, the schema — checks it with doctor, and deploys and
# invokes the examples as a demo user. Safe to run again.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"

faasctl() { node bin/faasctl.cjs "$@"; }
faasctl up --swarm-init --postgres-image "$FAASCTL_POSTGRES_IMAGE"
faasctl doctor

# The demo account: its password comes from FAASCTL_PASSWORD, created on the first run only.
export FAASCTL_PASSWORD="${FAASCTL_PASSWORD:-demo-password}"
faasctl user show demo >/dev/null 2>&1 || faasctl user create demo
faasctl login demo

# deploy, or a new version when the function exists (update answers "unchanged" for the same code)
deploy() {
  local name; name="$(basename "$1" .py)"
  if faasctl fn show "$name" >/dev/null 2>&1; then faasctl fn update "$name" "$1"; else faasctl fn deploy "$1"; fi
}
for example in sum fib_madhat csv_stats log_summary; do
  deploy "examples/$example.py"
  echo "\$ faasctl fn invoke $example --data-file examples/$example.input.json" >&2
  faasctl fn invoke "$example" --data-file "examples/$example.input.json"
done

# A directory with requirements.txt naming a local package: installed into the function's own
# image (content-addressed: the second run reuses it), no package index needed.
if faasctl fn show wordfreq >/dev/null 2>&1; then faasctl fn update wordfreq examples/wordfreq; else faasctl fn deploy examples/wordfreq; fi
echo '$ faasctl fn invoke wordfreq --data-file examples/wordfreq.input.json' >&2
faasctl fn invoke wordfreq --data-file examples/wordfreq.input.json

# Warm: two replicas answer over HTTP instead of a job per call; then 1000 inputs in bulk.
echo '$ faasctl fn scale sum 2' >&2
faasctl fn scale sum 2
echo '$ faasctl fn invoke sum --data-file examples/sum.input.json' >&2
faasctl fn invoke sum --data-file examples/sum.input.json
inputs="$(mktemp)"; trap 'rm -f "$inputs"' EXIT
for i in $(seq 1 1000); do echo "{\"numbers\": [$i, 2, 3]}"; done > "$inputs"
echo '$ faasctl fn invoke sum --bulk inputs.jsonl | tail -2' >&2
faasctl fn invoke sum --bulk "$inputs" | tail -2
faasctl fn scale sum 0
faasctl request list --limit 8
