# cloudline: build, set up and test.
#
#   make lab     set up, then JupyterLab on examples/ (opens 02-long-training.ipynb)
#   make test    set up, then every test (Go, integration, peer suites, browser); stops at the first failure
#   make setup   .venv from requirements.txt, bin/cloudline, the kernelspec and
#                the JupyterLab extension in .venv
#   make labextension  build the JupyterLab extension into labextension/dist/ (npm ci from its lockfile)
#   make peer    nbclient's, ipykernel's and jupyter_client's own kernel tests on the
#                plain kernel and on cloudline (tests/peer); `make peer-setup` prepares them
#   make test-gateway  cloudline under Enterprise Gateway 3.3 (.venv-gateway), local and SSH modes
#   make cloud-venv  .venv-cloud from requirements-cloud.txt: the clouds' client
#                libraries that validate `cloudline job` output offline
#   make examples  run every example notebook headless (examples/run.sh): the saved
#                notebooks with their notes and `cloudline history` in artifacts/examples/
#   make bench   the benchmark (bench/run.sh)
#   make dist    the pip package: sdist and wheels (x86_64, aarch64) into dist/
#   make clean   remove bin/, build/, dist/, .peer/, .venv/, .venv-gateway/, .venv-cloud/ and .venv-peer/
#
# PYTHON picks the interpreter the venv is made from (Python 3.11); LAB_ARGS
# adds flags to `jupyter lab` (e.g. LAB_ARGS=--no-browser).

SHELL  := bash
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.stamp
# Enterprise Gateway 3.3 pins jupyter_client<7 and pyzmq<25: a venv of its own.
GW_VENV  := .venv-gateway
GW_STAMP := $(GW_VENV)/.requirements.stamp
CVENV  := .venv-cloud
CPY    := $(CVENV)/bin/python
CSTAMP := $(CVENV)/.requirements.stamp
# The peer suites' test tools on top of .venv's packages (a .pth file), and
# the suites' sdists (requirements.txt's pins), downloaded once into .peer/.
PVENV  := .venv-peer
PPY    := $(PVENV)/bin/python
PSTAMP := $(PVENV)/.requirements.stamp
PEER_PINS := $(shell grep -E '^(nbclient|ipykernel|jupyter_client)==' requirements.txt)
PEER_SRC  := .peer/src/.stamp
BIN    := bin/cloudline
GO     ?= go
# The version is the Python package's; --version shows it and the commit.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' python/cloudline/__init__.py)
COMMIT  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo +dirty)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all setup build kernelspec labextension labextension-install test test-gateway gateway-venv cloud-venv peer peer-setup lab examples bench dist clean

all: setup

setup: $(STAMP) build kernelspec labextension-install

# The venv is (re)synced whenever requirements.txt or requirements-build.txt
# (the packaging tools) changes.
$(STAMP): requirements.txt requirements-build.txt
	@echo "==> python venv ($(VENV)) from requirements.txt, requirements-build.txt"
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -r requirements.txt -r requirements-build.txt
	@touch $@

gateway-venv: $(GW_STAMP)

$(GW_STAMP): requirements-gateway.txt
	@echo "==> python venv ($(GW_VENV)) from requirements-gateway.txt"
	@test -x $(GW_VENV)/bin/python || $(PYTHON) -m venv $(GW_VENV)
	$(GW_VENV)/bin/python -m pip install --quiet -r requirements-gateway.txt
	@touch $@

# cloudline under the gateway: local mode and the SSH process proxy
# against an sshd on 127.0.0.2 (needs /usr/sbin/sshd: openssh-server).
test-gateway: setup $(GW_STAMP)
	$(VPY) -m pytest tests/gateway

# The clouds' client libraries (azure-ai-ml, botocore, google-cloud-aiplatform)
# live apart from .venv: they are large, pin their own dependencies, and only
# tests/cloud needs them.
cloud-venv: $(CSTAMP)

$(CSTAMP): requirements-cloud.txt
	@echo "==> python venv ($(CVENV)) from requirements-cloud.txt"
	@test -x $(CPY) || $(PYTHON) -m venv $(CVENV)
	$(CPY) -m pip install --quiet -r requirements-cloud.txt
	@touch $@

peer-setup: $(PSTAMP) $(PEER_SRC)

$(PSTAMP): $(STAMP) tests/peer/requirements-peer.txt
	@echo "==> python venv ($(PVENV)): .venv's packages and tests/peer/requirements-peer.txt"
	@test -x $(PPY) || $(PYTHON) -m venv $(PVENV)
	@$(VPY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))' \
	  > "$$($(PPY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/project.pth"
	$(PPY) -m pip install --quiet -r tests/peer/requirements-peer.txt
	@touch $@

# An sdist already in .peer/sdist is not downloaded again; the build
# backend is .venv's hatchling (no isolated build env to fetch).
$(PEER_SRC): requirements.txt | $(STAMP)
	@echo "==> sdists of $(PEER_PINS) into .peer/"
	@mkdir -p .peer/sdist .peer/src
	@for pin in $(PEER_PINS); do \
	  name=$${pin%%==*}; ver=$${pin##*==}; sdist=.peer/sdist/$$name-$$ver.tar.gz; \
	  if [ ! -f $$sdist ]; then \
	    $(VPY) -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
	      -d .peer/sdist "$$pin" || exit 1; \
	  fi; \
	  [ -d .peer/src/$$name-$$ver ] || tar -xzf $$sdist -C .peer/src || exit 1; \
	done
	@touch $@

# The peer suites on plain and on cloudline (tests/peer/README.md).
peer: setup peer-setup
	$(PPY) tests/peer/run.py

# Always rebuilt: go's build cache makes this a no-op when nothing changed.
build:
	@echo "==> go build -o $(BIN) ./cmd/cloudline"
	@$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/cloudline

kernelspec: $(STAMP) build
	@echo "==> kernelspec python3-cloudline into $(VENV)"
	@$(BIN) install --sys-prefix --python $(CURDIR)/$(VPY)

# The JupyterLab extension (labextension/): TypeScript built with
# @jupyterlab/builder into labextension/dist/, a prebuilt extension
# (package.json, static/, schemas/) that goes as is into
# share/jupyter/labextensions/@cloudline/labextension of an environment.
# Rebuilt only when its sources or the lockfile change.
LABEXT       := labextension
LABEXT_DIST  := $(LABEXT)/dist
LABEXT_DEST  := $(VENV)/share/jupyter/labextensions/@cloudline/labextension
LABEXT_SRC   := $(wildcard $(LABEXT)/src/*.ts $(LABEXT)/style/* $(LABEXT)/schema/*.json) \
                $(LABEXT)/package.json $(LABEXT)/tsconfig.json
LABEXT_NODE  := $(LABEXT)/node_modules/.package-lock.json

$(LABEXT_NODE): $(LABEXT)/package-lock.json
	@echo "==> npm ci in $(LABEXT)"
	@cd $(LABEXT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(LABEXT_DIST)/package.json: $(LABEXT_NODE) $(LABEXT_SRC) $(STAMP)
	@echo "==> build the JupyterLab extension into $(LABEXT_DIST)"
	@rm -rf $(LABEXT)/lib $(LABEXT_DIST) $(LABEXT)/tsconfig.tsbuildinfo
	@cd $(LABEXT) && npx tsc && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" jupyter-builder build . >/dev/null

labextension: $(LABEXT_DIST)/package.json

$(LABEXT_DEST)/package.json: $(LABEXT_DIST)/package.json
	@echo "==> JupyterLab extension into $(LABEXT_DEST)"
	@rm -rf $(LABEXT_DEST) && mkdir -p $(LABEXT_DEST) && cp -R $(LABEXT_DIST)/. $(LABEXT_DEST)/

labextension-install: $(LABEXT_DEST)/package.json

# Each step prints a header; the first failure stops the run and the summary
# names it.
# The JupyterLab extension is built first: the pip package holds it.
test: setup $(GW_STAMP) $(CSTAMP) peer-setup labextension
	@set -uo pipefail; \
	passed=(); \
	step() { \
	  local name=$$1 t0=$$SECONDS; shift; \
	  echo; echo "==> $$name"; \
	  if "$$@"; then passed+=("$$name ($$((SECONDS - t0))s)"); \
	    echo "==> $$name: ok in $$((SECONDS - t0))s"; \
	  else \
	    echo; echo "=== summary: FAILED at: $$name"; \
	    for p in "$${passed[@]}"; do echo "    ok      $$p"; done; \
	    echo "    FAILED  $$name ($$((SECONDS - t0))s)"; exit 1; \
	  fi; \
	}; \
	gofmt_clean() { local dirs out; \
	  dirs=$$($(GO) list -f '{{.Dir}}' ./...) && [ -n "$$dirs" ] || return 1; \
	  out=$$(gofmt -l $$dirs) || return 1; \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; return 1; fi; }; \
	step "gofmt -l (must be empty)" gofmt_clean; \
	step "go vet ./..." $(GO) vet ./...; \
	step "go test -race ./... (with fuzz seed corpora)" $(GO) test -race ./...; \
	step "node --test labextension/test (the extension's figures against human/testdata/figures.json)" node --test labextension/test/; \
	step "bounded fuzzing of the wire decoder (tests/fuzz.sh ./kernel, 2000 inputs a target)" env FUZZTIME=2000x bash tests/fuzz.sh ./kernel; \
	if compgen -G "bench/test_*.py" >/dev/null; then \
	  step "pytest bench (benchmark helpers)" $(VPY) -m pytest -q bench; \
	fi; \
	step "pytest tests/integration" $(VPY) -m pytest tests/integration; \
	step "pytest tests/gateway (Enterprise Gateway 3.3: local, SSH)" $(VPY) -m pytest tests/gateway; \
	step "pytest tests/cloud (cloudline job output, validated by the clouds' client libraries)" $(CPY) -m pytest -q tests/cloud; \
	step "pytest tests/packaging (pip package: wheel and sdist without Go)" $(VPY) -m pytest tests/packaging; \
	step "pytest tests/peer/test_compare.py (the peer runner's comparison)" \
	  $(PPY) -m pytest -q -p no:cacheprovider -o asyncio_default_fixture_loop_scope=function tests/peer/test_compare.py; \
	step "tests/peer/run.py (nbclient, ipykernel, jupyter_client own tests: plain vs cloudline)" $(PPY) tests/peer/run.py; \
	if [ -f tests/browser/run.sh ]; then \
	  step "tests/browser/run.sh" bash tests/browser/run.sh; \
	else \
	  echo; echo "==> tests/browser/run.sh absent: skipped"; \
	fi; \
	echo; echo "=== summary: all passed"; \
	for p in "$${passed[@]}"; do echo "    ok      $$p"; done

lab: setup
	@if [ -f examples/install.sh ]; then \
	  echo "==> examples/install.sh"; \
	  PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/bin:$$PATH" bash examples/install.sh; \
	fi
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/bin:$$PATH" \
	  $(VENV)/bin/jupyter lab --ip=127.0.0.1 --notebook-dir=examples \
	  --LabApp.default_url=/lab/tree/02-long-training.ipynb \
	  $$([ "$$(id -u)" -eq 0 ] && echo --allow-root) $(LAB_ARGS)

# The examples as a user runs them, saved with their outputs (examples/
# keeps them without): read the notes, the status lines and the history.
examples: setup
	bash examples/run.sh

bench: setup
	@if [ -f bench/run.sh ]; then \
	  PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/bin:$$PATH" bash bench/run.sh; \
	else \
	  echo "bench/run.sh absent: nothing to run"; \
	fi

# The sdist, the wheel for this machine built from it, and the other
# architecture's wheel, cross-compiled (static binaries: CGO_ENABLED=0).
dist: $(STAMP)
	@rm -rf dist
	$(VPY) -m build --no-isolation -o dist .
	CLOUDLINE_WHEEL_ARCH=$$([ "$$(uname -m)" = aarch64 ] && echo x86_64 || echo aarch64) \
	  $(VPY) -m build --no-isolation --wheel -o dist .

clean:
	rm -rf bin build dist .peer $(VENV) $(GW_VENV) $(CVENV) $(PVENV) $(LABEXT)/lib $(LABEXT_DIST) $(LABEXT)/node_modules $(LABEXT)/tsconfig.tsbuildinfo
