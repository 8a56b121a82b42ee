#!/usr/bin/env bash
# Installs the examples kernelspec "cloudline-examples" (display name
# "Python 3 (cloudline, example thresholds)"): the cloudline kernel wrapping
# the project's virtualenv Python, with thresholds lowered so that every
# example notebook shows its advice within seconds.
#
#   examples/install.sh                 # into .venv (what `make lab` does)
#   examples/install.sh --prefix DIR    # into DIR/share/jupyter/kernels
#   CLOUDLINE=path/to/cloudline examples/install.sh   # another build
#
# Needs bin/cloudline (make build) and .venv (make setup).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.venv"
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
	--prefix=*) prefix="${1#--prefix=}"; shift ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "examples/install.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

cloudline="${CLOUDLINE:-$root/bin/cloudline}" # CLOUDLINE: another build (tests)
python="$root/.venv/bin/python"
[ -x "$cloudline" ] || { echo "examples/install.sh: $cloudline is missing: run 'make build' first" >&2; exit 1; }
[ -x "$python" ] || { echo "examples/install.sh: .venv is missing: run 'make setup' first" >&2; exit 1; }

# memory_fraction: the share of this machine's memory limit (RAM, or the
# cgroup's memory.max when lower) that makes about 200 MiB, so that the
# memory-pressure example fires on a 400 MiB buffer whatever the machine.
limit=0
if [ -r /proc/meminfo ]; then
	limit=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
fi
if [ -r /sys/fs/cgroup/memory.max ]; then
	cg=$(cat /sys/fs/cgroup/memory.max)
	if [ "$cg" != max ] && { [ "$limit" -eq 0 ] || [ "$cg" -lt "$limit" ]; }; then
		limit=$cg
	fi
fi
memory_fraction=$(awk -v l="$limit" 'BEGIN {
	f = (l > 0) ? 200 * 1024 * 1024 / l : 0.02
	if (f > 0.5) f = 0.5
	if (f < 0.0001) f = 0.0001
	printf "%.4f", f }')

"$cloudline" install --prefix "$prefix" \
	--name cloudline-examples \
	--display-name "Python 3 (cloudline, example thresholds)" \
	--python "$python" \
	--set training_time=3s \
	--set live_after=1s \
	--set dataset_size=4MB \
	--set "memory_fraction=$memory_fraction" \
	--set "sensitive_paths=data/patients/*" \
	--set stable_runs=2 \
	--set cooldown=0s
