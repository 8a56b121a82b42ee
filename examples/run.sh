#!/usr/bin/env bash
# Runs every example notebook headless, as a user would with "Run All":
# papermill on the examples kernelspec (examples/install.sh), each notebook
# under its own name (JPY_SESSION_NAME, as JupyterLab sets it), in a private
# Jupyter environment and history. 05-stable-model runs twice (its note
# needs two runs). What it leaves in OUTDIR (default artifacts/examples):
#
#   NAME.ipynb      each notebook as saved with its outputs and notes
#   history.txt     `cloudline history` of these runs
#   state/          the history itself (cloudline history --file state/cloudline/history.jsonl)
#
#   examples/run.sh [OUTDIR]          # what `make examples` runs
#
# The notebooks in examples/ stay without outputs: they are what a user
# opens. Needs bin/cloudline (make build) and .venv (make setup).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$root/artifacts/examples}" && cd "${1:-$root/artifacts/examples}" && pwd)"
py="$root/.venv/bin/python"
cloudline="${CLOUDLINE:-$root/bin/cloudline}"
[ -x "$py" ] || { echo "examples/run.sh: .venv is missing: run 'make setup' first" >&2; exit 1; }

rm -rf "$out/jupyter" "$out/state" "$out/work" "$out"/*.ipynb
for d in share/jupyter data config runtime ipython xdg-runtime; do mkdir -p "$out/jupyter/$d"; done
chmod 700 "$out/jupyter/xdg-runtime"
mkdir -p "$out/state" "$out/work"
export JUPYTER_PATH="$out/jupyter/share/jupyter" JUPYTER_DATA_DIR="$out/jupyter/data" \
	JUPYTER_CONFIG_DIR="$out/jupyter/config" JUPYTER_RUNTIME_DIR="$out/jupyter/runtime" \
	IPYTHONDIR="$out/jupyter/ipython" XDG_RUNTIME_DIR="$out/jupyter/xdg-runtime" \
	XDG_STATE_HOME="$out/state"
CLOUDLINE="$cloudline" bash "$root/examples/install.sh" --prefix "$out/jupyter" >/dev/null

run() { # run NAME: one papermill run into OUTDIR/NAME
	echo "==> $1"
	JPY_SESSION_NAME="$1" "$py" -m papermill --no-progress-bar -k cloudline-examples \
		--cwd "$out/work" "$root/examples/$1" "$out/$1"
}
for nb in "$root"/examples/*.ipynb; do
	name="$(basename "$nb")"
	run "$name"
	if [ "$name" = 05-stable-model.ipynb ]; then run "$name"; fi
done
"$cloudline" history --last 0 --file "$out/state/cloudline/history.jsonl" | tee "$out/history.txt"
echo "saved notebooks and history.txt in $out"
