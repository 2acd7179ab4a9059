# OCX developer commands. The two that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
TEST_WORKERS ?= 2  # pytest-xdist processes for `make test` (0: one process)
ADMIN_EMAIL ?= admin@example.org
# `make run` seeds the demo (people, offerings, usage, invoices) once; DEMO=0 skips it.
DEMO ?= 1
HTMX_VERSION := 2.0.11
HTMX_DIR := src/ocx/web/static/vendor
UPLOT_VERSION := 1.6.32
# axe-core checks the dashboard's accessibility in the e2e tests (tests/e2e/vendor/).
AXE_VERSION := 4.14.1
AXE_DIR := tests/e2e/vendor
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run test venv lint system-packages vendor-htmx vendor-uplot vendor-axe clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(VENV)/.installed-test  ## create .venv with OCX and the test tools

# The embedded mode over plain http on loopback: development settings, non-Secure cookie.
run: export OCX_ENVIRONMENT ?= development
run: export OCX_COOKIE_SECURE ?= false
run: $(VENV)/.installed-run  ## serve OCX on http://127.0.0.1:8080 (SQLite under ./var)
	@mkdir -p var
	@$(BIN)/ocx db upgrade
	@out="$$($(BIN)/ocx admin bootstrap --email '$(ADMIN_EMAIL)' --if-missing -o json)"; \
	token="$$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' <<<"$$out")"; \
	if [ -n "$$token" ]; then \
	  printf '\n%s\n' "=================================================================="; \
	  printf ' Operator %s created. Its API token, shown only this once:\n\n   %s\n\n' '$(ADMIN_EMAIL)' "$$token"; \
	  printf ' In another shell:\n   export OCX_URL=http://$(HOST):$(PORT) OCX_TOKEN=%s\n' "$$token"; \
	  printf '   %s/ocx org create acme -o json\n' '$(BIN)'; \
	  printf '%s\n\n' "=================================================================="; \
	fi
	@if [ '$(strip $(DEMO))' = 1 ]; then $(BIN)/ocx demo seed; fi
	exec $(BIN)/ocx serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test system-packages  ## lint, type-check and run every test (PYTEST_ADDOPTS='-m billing' for one group)
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	@# Exit code 5 is "no tests collected": a marker filter that selects nothing is no failure.
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25 --junitxml=test-artifacts/junit.xml; status=$$?; [ $$status -eq 5 ] && echo "pytest: no tests selected" && status=0; exit $$status

lint: $(VENV)/.installed-test  ## ruff and mypy only
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# Debian packages the tests' real servers and tools need, as "binary:package" pairs:
# installed in one apt-get run when any binary is missing (the fixtures also install
# their own when run alone, but one run here is faster and never half-done).
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/share/fonts/truetype/dejavu:fonts-dejavu-core \
  xmlsec1:xmlsec1 ovs-vswitchd:openvswitch-switch ping:iputils-ping ipmi_sim:openipmi \
  pdftoppm:poppler-utils /usr/lib/x86_64-linux-gnu/libpango-1.0.so.0:libpango-1.0-0 \
  /usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
  qemu-img:qemu-utils qemu-system-x86_64:qemu-system-x86 nbdkit:nbdkit \
  ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd rbd:ceph-common radosgw:radosgw \
  /usr/lib/ipxe/qemu/efi-e1000.rom:ipxe-qemu nbd-client:nbd-client /bin/busybox:busybox-static \
  /usr/share/doc/linux-image-amd64:linux-image-amd64 mkfs.ext2:e2fsprogs \
  /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so:qemu-block-extra rclone:rclone

system-packages:  ## install the Debian packages the tests need (chromium, xmlsec1, OVS...), if missing
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  bin="$${pair%%:*}"; pkg="$${pair##*:}"; \
	  if [ "$${bin#/}" != "$$bin" ]; then [ -e "$$bin" ] || missing="$$missing $$pkg"; \
	  else command -v "$$bin" >/dev/null || [ -x "/usr/sbin/$$bin" ] || missing="$$missing $$pkg"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

vendor-htmx:  ## refresh the vendored htmx from the npm registry (commit the result)
	@tmp="$$(mktemp -d)"; \
	(cd "$$tmp" && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz) && \
	mkdir -p $(HTMX_DIR) && \
	cp "$$tmp/package/dist/htmx.min.js" $(HTMX_DIR)/htmx.min.js && \
	{ echo "htmx.org $(HTMX_VERSION) from the npm registry (npm pack htmx.org@$(HTMX_VERSION))."; echo; \
	  cat "$$tmp/package/LICENSE"; } > $(HTMX_DIR)/htmx.LICENSE; \
	rm -rf "$$tmp"

vendor-uplot:  ## refresh the vendored uPlot (usage charts) from the npm registry (commit it)
	@tmp="$$(mktemp -d)"; \
	(cd "$$tmp" && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null && tar xzf uplot-$(UPLOT_VERSION).tgz) && \
	mkdir -p $(HTMX_DIR) && \
	cp "$$tmp/package/dist/uPlot.iife.min.js" $(HTMX_DIR)/uPlot.iife.min.js && \
	cp "$$tmp/package/dist/uPlot.min.css" $(HTMX_DIR)/uPlot.min.css && \
	{ echo "uplot $(UPLOT_VERSION) from the npm registry (npm pack uplot@$(UPLOT_VERSION))."; echo; \
	  cat "$$tmp/package/LICENSE"; } > $(HTMX_DIR)/uPlot.LICENSE; \
	rm -rf "$$tmp"

vendor-axe:  ## refresh the vendored axe-core (e2e accessibility test) from the npm registry (commit it)
	@tmp="$$(mktemp -d)"; \
	(cd "$$tmp" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz) && \
	mkdir -p $(AXE_DIR) && \
	cp "$$tmp/package/axe.min.js" $(AXE_DIR)/axe.min.js && \
	{ echo "axe-core $(AXE_VERSION) from the npm registry (npm pack axe-core@$(AXE_VERSION))."; echo; \
	  cat "$$tmp/package/LICENSE"; } > $(AXE_DIR)/axe.LICENSE; \
	rm -rf "$$tmp"

clean:  ## remove caches, build output and test artifacts (keeps .venv and var/)
	rm -rf build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv and the local database under var/
	rm -rf $(VENV) var
