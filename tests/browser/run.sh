#!/usr/bin/env bash
# The browser test: JupyterLab (the pinned one in .venv) on 127.0.0.1 with a
# token, in a temporary Jupyter environment with a cloudline kernelspec whose
# thresholds are lowered, driven by Debian's Chromium through playwright-core
# (tests/browser/lab.test.mjs). Screenshots go to artifacts/.
#
#   tests/browser/run.sh                       # what `make test` runs
#   UPDATE_SCREENSHOT=1 tests/browser/run.sh   # also refresh docs/screenshot.png
#
# Needs .venv (make setup), go and node; rebuilds bin/cloudline and installs
# Chromium with apt-get when /usr/bin/chromium is missing and we are root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

say() { echo "tests/browser: $*" >&2; }

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing chromium"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
	fi
	[ -x "$chromium" ] || { say "$chromium is missing (apt-get install chromium)"; exit 1; }
fi
python="$root/.venv/bin/python"
[ -x "$python" ] || { say ".venv is missing: run 'make setup' first"; exit 1; }
[ -f "$root/.venv/share/jupyter/labextensions/@cloudline/labextension/package.json" ] ||
	{ say "the JupyterLab extension is not in .venv: run 'make setup' first"; exit 1; }
# bin/cloudline is rebuilt (a no-op when nothing changed) so the test never
# runs a stale binary; CLOUDLINE=path tests another build as it is.
cloudline="${CLOUDLINE:-}"
if [ -z "$cloudline" ]; then
	cloudline="$root/bin/cloudline"
	go build -o "$cloudline" ./cmd/cloudline
fi
[ -x "$cloudline" ] || { say "$cloudline is missing"; exit 1; }

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cloudline-browser.XXXXXX")"
server_pid=""
cleanup() {
	status=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "$status" != 0 ] && [ -f "$tmp/lab.log" ]; then
		say "JupyterLab log (last 40 lines):"
		tail -n 40 "$tmp/lab.log" >&2
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An environment of our own: nothing of the user's Jupyter set-up or
# history is read or written.
export JUPYTER_PATH="$tmp/share/jupyter"
export JUPYTER_DATA_DIR="$tmp/data"
export JUPYTER_CONFIG_DIR="$tmp/config"
export JUPYTER_RUNTIME_DIR="$tmp/runtime"
export XDG_STATE_HOME="$tmp/state"
export XDG_CACHE_HOME="$tmp/cache"
export XDG_CONFIG_HOME="$tmp/xdg-config"
export IPYTHONDIR="$tmp/ipython"
export MPLCONFIGDIR="$tmp/mpl"
unset JPY_SESSION_NAME
mkdir -p "$JUPYTER_PATH" "$JUPYTER_DATA_DIR" "$JUPYTER_CONFIG_DIR/labconfig" "$JUPYTER_RUNTIME_DIR" \
	"$XDG_STATE_HOME" "$tmp/notebooks" "$root/artifacts"

"$cloudline" install --prefix "$tmp" --name cloudline --display-name "Python 3 (cloudline)" \
	--python "$python" --set training_time=3s --set live_after=1s --set cooldown=0s >/dev/null

# Only our spec and the plain one in the launcher (whatever else .venv
# holds); no calls out (news, update checks, the PyPI extension manager), no
# announcement toast over the notebook; window.jupyterapp for the test to
# read output metadata.
cat >"$JUPYTER_CONFIG_DIR/jupyter_server_config.json" <<'EOF'
{
  "KernelSpecManager": { "allowed_kernelspecs": ["cloudline", "python3"] },
  "LabApp": {
    "expose_app_in_browser": true,
    "news_url": null,
    "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
    "extension_manager": "readonly"
  }
}
EOF
cat >"$JUPYTER_CONFIG_DIR/labconfig/page_config.json" <<'EOF'
{ "disabledExtensions": { "@jupyterlab/apputils-extension:announcements": true } }
EOF

token="$("$python" -c 'import secrets; print(secrets.token_hex(24))')"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"$root/.venv/bin/jupyter" lab --no-browser --ip=127.0.0.1 --port="$port" \
	--ServerApp.port_retries=0 --IdentityProvider.token="$token" --allow-root \
	--ServerApp.root_dir="$tmp/notebooks" >"$tmp/lab.log" 2>&1 &
server_pid=$!

# Wait for the REST API to answer (bounded: 120 s).
"$python" - "$port" "$token" "$server_pid" <<'EOF'
import os, sys, time, urllib.request
port, token, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("tests/browser: JupyterLab exited before it answered")
    if time.monotonic() > deadline:
        sys.exit("tests/browser: JupyterLab did not answer within 120 s")
    time.sleep(0.2)
EOF

LAB_URL="http://127.0.0.1:$port" LAB_TOKEN="$token" CHROMIUM="$chromium" \
	CLOUDLINE="$cloudline" HISTORY="$XDG_STATE_HOME/cloudline/history.jsonl" \
	WORK_DIR="$tmp" ARTIFACTS="$root/artifacts" \
	SCREENSHOT_DOC="$([ "${UPDATE_SCREENSHOT:-}" = 1 ] && echo "$root/docs/screenshot.png" || true)" \
	node --test --test-reporter=spec "$here/lab.test.mjs"
