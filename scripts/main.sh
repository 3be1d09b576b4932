#!/usr/bin/env bash
# The main job on embedded defaults: installs what is missing, then runs the demo search
# (a reg-mode loss search with a short FCOS training as the proxy task, on a generated mnist-det
# dataset; journal and report in runs/demo, or $CSE_DEMO_OUT). A second run continues or re-reports the
# same run folder. Extra arguments go to `cse-autoloss search`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${CSE_DEMO_OUT:-runs/demo}"
resume=()
[ -f "$out/journal.sqlite" ] && resume=(--resume)
exec npx --no-install cse-autoloss search --demo --out "$out" "${resume[@]}" "$@"
