#!/usr/bin/env bash
# The main job on embedded defaults: installs what is missing, then runs the demo.
# Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx --no-install cse-autoloss demo "$@"
