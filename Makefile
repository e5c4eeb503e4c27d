# A thin alias layer over the real commands. Two that matter:
#   make run    set up everything and start the whole fleet locally
#   make test   lint, type-check, check import rules, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := $(sort $(dir $(wildcard libs/*/pyproject.toml tools/*/pyproject.toml services/*/pyproject.toml)))
MODULES := $(sort $(notdir $(wildcard libs/*/src/mindlinks_* tools/*/src/mindlinks_* services/*/src/mindlinks_*)))
STAMP := $(VENV)/.installed

.PHONY: setup run clock demo images test check lint typecheck imports security pytest fmt openapi docs generate constraints bench capacity profile ci-timed chaos fuzz load clean sdk sdk-lifecycle

setup: $(STAMP)

# Bytecode is compiled once here: a Python told not to write it
# (PYTHONDONTWRITEBYTECODE, as CI containers often are) otherwise compiles
# every module it imports at every start — a third of a service's start-up.
$(STAMP): constraints.txt requirements/dev.txt $(addsuffix pyproject.toml,$(PACKAGES))
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt \
		-r requirements/dev.txt $(addprefix -e ,$(PACKAGES))
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib $(addsuffix src,$(PACKAGES))
	touch $(STAMP)

# The static infra checks' tools (tools/devkit/tests/deploy). checkov gets a
# virtualenv of its own: it pins networkx, boto3 and packaging below the workspace.
INFRA := $(VENV)/.infra-installed
$(INFRA): $(STAMP) requirements/infra.txt requirements/checkov.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -r requirements/infra.txt
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(VENV)/tools/checkov
	$(BIN)/uv pip install --quiet --python $(VENV)/tools/checkov/bin/python -r requirements/checkov.txt
	touch $@

# The TypeScript client (clients/typescript): Node 20+ from the machine, else
# from PyPI into the virtualenv; its npm packages exactly as package-lock.json
# pins them (the lock names no registry: the package's .npmrc).
TS := clients/typescript
TS_MODULES := $(TS)/node_modules/.package-lock.json
WITH_NODE := PATH="$(abspath $(BIN)):$$PATH"
$(TS_MODULES): $(TS)/package.json $(TS)/package-lock.json | $(STAMP)
	@$(WITH_NODE) node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null || \
		{ echo "no Node 20+ on this machine: installing it into $(VENV)"; \
		  $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/node.txt; }
	cd $(TS) && $(WITH_NODE) npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The client's generated types, from docs/openapi.json (a test fails on drift).
sdk: $(TS_MODULES) openapi
	$(BIN)/python -m mindlinks_dev.sdk --write

# The lifecycle story through the TypeScript client, against `make run`'s fleet
# (MINDLINKS_BASE_URL to point it elsewhere).
sdk-lifecycle: $(TS_MODULES)
	cd $(TS) && $(WITH_NODE) npm run --silent lifecycle

# RUN_ARGS: mindlinks-local's options, e.g. RUN_ARGS="--processes --skip kyc".
run: setup
	$(BIN)/mindlinks-local $(RUN_ARGS)

# Move the running local fleet's clock forward (timers due by then fire):
# `make clock BY=14d`; `mindlinks-local clock show|reset` too.
BY ?= 1d
clock: setup
	$(BIN)/mindlinks-local clock advance $(BY)

# The lifecycle story against a running fleet (start it with `make run`).
demo: setup
	$(BIN)/python -m mindlinks_dev.demo

# A bounded load test (≤ 10 min): starts its own fleet (offset LOAD_PORT_OFFSET,
# default 24000), runs both passes and the activation measurement, stops the
# fleet and rewrites the load block of docs/reliability.md. LOAD_ARGS adds options.
load: setup
	$(BIN)/python -m mindlinks_dev.load $(LOAD_ARGS)

# The checks run beside the suite (two jobs at a time): the suite starts
# first, and mypy's single-core minute, then the quick checks, share the
# other slot instead of delaying it. Lines, not jobs, are kept whole in the
# output, so the suite's progress still shows as it runs.
test: setup $(INFRA) $(TS_MODULES)
	$(MAKE) --no-print-directory --output-sync=line -j2 pytest typecheck lint imports security

check: lint typecheck imports security

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup $(INFRA)
	$(BIN)/mypy $(addprefix -p ,$(MODULES))

imports: setup
	$(BIN)/lint-imports

# bandit over services, libs and tools (settings and skips: pyproject.toml).
security: setup
	$(BIN)/bandit -c pyproject.toml -q -r services libs tools

# One xdist worker per core and one more (PYTEST_WORKERS=0: none), each with
# its own moto server, Redis database and resource prefix; a worker takes a
# whole module or a whole xdist_group at a time (the end-to-end suite: one
# fleet). The extra worker fills the time the others wait on their fleets and
# emulators: two workers kept 1.6 of 2 cores busy; three took the suite from
# 6 min 43 s to 6 min 23 s here.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')
pytest: setup $(INFRA) $(TS_MODULES)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: setup
	$(BIN)/python -m mindlinks_dev.openapi --write

# The README's API map and event catalog, from the code.
docs: openapi
	$(BIN)/python -m mindlinks_dev.catalog --write

# Everything derived from the fleet declaration: OpenAPI, README blocks,
# docker-compose.yml, the Terraform variables and the TypeScript client's
# types (tests fail on drift).
generate: docs $(TS_MODULES)
	$(BIN)/python -m mindlinks_dev.deploy.compose --write
	$(BIN)/python -m mindlinks_dev.deploy.terraform --write
	$(BIN)/python -m mindlinks_dev.sdk --write

# Re-pin after changing a dependency: every installed version, no URLs.
constraints: setup
	$(BIN)/uv pip freeze --python $(BIN)/python --exclude-editable | sort > constraints.txt

# Speed and size against issue 13's targets (≤ 10 min): request costs
# in-process, process floors, then a fleet of its own (ports +22000, edge
# :30080). Prints one table (pass/fail per row; exits 0 unless a measurement
# breaks) and rewrites docs/performance.md, docs/bench.json, docs/capacity.md.
bench: setup
	$(BIN)/python -m mindlinks_dev.bench $(BENCH_ARGS)

# docs/capacity.md again from docs/bench.json, without measuring.
capacity: setup
	$(BIN)/python -m mindlinks_dev.bench.capacity

# Where the CPU goes (≈ 3 min): py-spy samples a fleet of its own (ports +8000)
# under the hottest route and under ten lifecycles at once, and rewrites the
# generated part of docs/profiles.md. Needs ptrace (root, or CAP_SYS_PTRACE).
profile: setup
	$(BIN)/python -m mindlinks_dev.bench.profile $(PROFILE_ARGS)

# .ci/run, timed from a clean clone's start (set-up included): its duration
# recorded in .run/ci-run.json, where make bench reads it.
ci-timed:
	$(PYTHON) tools/devkit/src/mindlinks_dev/bench/ci.py

# Fault injection: 50 lifecycles through the edge of a fleet of its own
# (ports +10000) while services are killed and AWS, Redis and a peer vanish;
# stops by itself (≈ 10 min) and rewrites docs/reliability.md's section.
# CHAOS_ARGS="--seed N" replays a run's faults.
chaos: setup
	$(BIN)/python -m mindlinks_dev.chaos --write-docs $(CHAOS_ARGS)

# Hostile input against a fleet of its own (ports +30000, edge :38080), about
# ten minutes: bandit, token and webhook attacks, hostile bytes, the
# authorization matrix, the company-role matrix, schemathesis per role.
# Rewrites docs/reliability.md's fuzz block. FUZZ_SEED=<n> reruns a seed;
# FUZZ_SCHEMA_SECONDS per role.
FUZZ_SEED ?=
FUZZ_SCHEMA_SECONDS ?= 90
fuzz: setup
	$(BIN)/python -m mindlinks_dev.fuzz $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) \
		--schema-seconds $(FUZZ_SCHEMA_SECONDS)

# Build every service image with a private Docker engine and health-check each
# container (needs root and `apt-get install docker.io debootstrap`; slow).
images: setup
	bash infra/scripts/build-images.sh

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache .pytest_cache
