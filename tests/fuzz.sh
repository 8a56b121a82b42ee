#!/usr/bin/env bash
# Bounded fuzzing of every Go fuzz target, one after another, for CI.
#
#   tests/fuzz.sh                  each target for 20s
#   FUZZTIME=2m tests/fuzz.sh      longer
#   FUZZTIME=2000x tests/fuzz.sh   2000 inputs a target (make test: a count
#                                  has no deadline for Go 1.26's fuzz
#                                  coordinator to race on a loaded machine)
#   tests/fuzz.sh ./kernel         only one package's targets
#
# Plain `go test` already runs each target's seed corpus; this explores
# beyond it. A crash fails the run and leaves the input under the package's
# testdata/fuzz/FuzzX/ (commit it: it becomes a seed). The last progress
# line of each target (execs, new interesting inputs) is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-20s}
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(./kernel ./kernelspec ./cellwatch ./gateway)
fi

failed=()
for pkg in "${pkgs[@]}"; do
  targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  for target in $targets; do
    echo "==> $pkg $target ($fuzztime)"
    log=$(mktemp)
    if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >"$log" 2>&1; then
      grep -E '^fuzz: elapsed' "$log" | tail -n 1 || true
    else
      cat "$log"
      failed+=("$pkg $target")
    fi
    rm -f "$log"
  done
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]}"
  exit 1
fi
echo "fuzzing: no failures"
