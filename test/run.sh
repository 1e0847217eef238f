#!/usr/bin/env bash
# Runs every compiled test file with node:test: the spec reporter for people, then the
# one-line summary for CI. Extra arguments narrow the run, e.g. `test/run.sh build/test/unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(build/test)
mapfile -t targets < <(find "${roots[@]}" -name '*.test.js' | sort)
exec node --test --test-concurrency=2 --test-timeout=120000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./test/summary-reporter.mjs --test-reporter-destination=stdout \
  "${targets[@]}"
