# Every target sets itself up on a fresh machine: `make test` needs only Python 3.11+, Go and root for apt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KUBE_ASSETS := .cache/kube-assets
# Debian packages the tests use as real validators (cloud-init schema).
SYSTEM_TOOLS := cloud-init
PYTEST_ARGS ?=

DEMO_CLUSTER ?= demo

.PHONY: test test-quick demo demo-down lint typecheck crds bench control-plane system-tools venv clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

# Skipped when AZK_KUBE_ASSETS or KUBEBUILDER_ASSETS points at prebuilt binaries.
control-plane:
	@if [ -n "$${AZK_KUBE_ASSETS:-}$${KUBEBUILDER_ASSETS:-}" ]; then \
	  echo "control-plane: using $${AZK_KUBE_ASSETS:-$$KUBEBUILDER_ASSETS}"; \
	else tools/build-control-plane.sh $(KUBE_ASSETS); fi

system-tools:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "system-tools: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

lint: venv
	$(BIN)/ruff check azk_operator tests bench
	$(BIN)/ruff format --check azk_operator tests bench
	$(BIN)/hadolint Dockerfile

typecheck: venv
	$(BIN)/mypy

crds: venv
	$(BIN)/python -m azk_operator.api.crdgen crds
	$(BIN)/python -m azk_operator.create.manifests deploy

test: venv control-plane system-tools lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-quick: venv control-plane system-tools
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# The main job, locally: a self-managed cluster on the ARM emulator and the VM boot simulator.
demo: venv control-plane
	$(BIN)/azk create $(DEMO_CLUSTER) --local --yes
	@echo
	$(BIN)/azk status $(DEMO_CLUSTER)
	@$(BIN)/azk kubeconfig $(DEMO_CLUSTER) --file $(DEMO_CLUSTER).kubeconfig >/dev/null
	@echo
	@echo "kubeconfig: $(DEMO_CLUSTER).kubeconfig (mode 0600)"
	@echo "explore:    kubectl --kubeconfig $(DEMO_CLUSTER).kubeconfig get azk,nodes -A"
	@echo "            $(BIN)/azk status $(DEMO_CLUSTER)"
	@echo "stop:       make demo-down   (deletes the cluster, then stops local mode)"

demo-down: venv
	$(BIN)/azk delete $(DEMO_CLUSTER) --local --yes
	$(BIN)/azk local down

bench: venv
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
