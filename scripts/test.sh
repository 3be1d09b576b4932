#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every test file with node's test runner.
# Extra arguments select test files (default: all of test/**/*.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
