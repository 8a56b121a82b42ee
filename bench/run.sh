#!/usr/bin/env bash
# The side-by-side benchmark: plain ipykernel vs cloudline (issue 5).
#
#   bash bench/run.sh [--quick] [--profile DIR]
#
# Assumes `make setup` ran (.venv); (re)builds bin/cloudline. The
# cloudline kernelspec is installed into a throwaway Jupyter dir, so the
# user's own kernels and history are never touched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
py=.venv/bin/python
if [ ! -x "$py" ]; then
  echo "bench: $py missing: run make setup first" >&2
  exit 1
fi
# Rebuilt every time (a no-op when nothing changed) so a stale binary is
# never measured; an existing one is kept if the tree does not build.
if ! go build -o bin/cloudline ./cmd/cloudline; then
  [ -x bin/cloudline ] || exit 1
  echo "bench: go build failed: measuring the existing bin/cloudline" >&2
fi

tmp=$(mktemp -d -t cloudline-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export JUPYTER_PATH="$tmp/share/jupyter"
export JUPYTER_DATA_DIR="$tmp/data"
export JUPYTER_RUNTIME_DIR="$tmp/runtime"
export XDG_STATE_HOME="$tmp/state"
export XDG_RUNTIME_DIR="$tmp/xdg-runtime"
export CLOUDLINE_LOG_LEVEL=${CLOUDLINE_LOG_LEVEL:-warn}
mkdir -p "$JUPYTER_DATA_DIR" "$JUPYTER_RUNTIME_DIR" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

bin/cloudline install --prefix "$tmp" --python "$py" --name cloudline-bench >/dev/null

# The floor: a bare byte relay between frontend and kernel (bench/relay).
# It declares CURVE: it copies the encrypted bytes, and jupyter_client
# provisions keys only for a kernelspec that declares it.
go build -o bin/relay ./bench/relay
mkdir -p "$JUPYTER_PATH/kernels/relay-bench"
cat >"$JUPYTER_PATH/kernels/relay-bench/kernel.json" <<EOF
{"argv": ["$root/bin/relay", "-f", "{connection_file}", "--", "$root/$py", "-m", "ipykernel_launcher",
  "-f", "{child_connection_file}"],
 "display_name": "relay (benchmark floor)", "language": "python",
 "metadata": {"supported_encryption": ["curve"]}}
EOF

# The plain ipykernel warns at every start that TCP is unencrypted: not news here.
"$py" bench/bench.py --cloud cloudline-bench --relay relay-bench --binary bin/cloudline "$@" \
  2> >(grep -v --line-buffered 'running over TCP without encryption' >&2)
