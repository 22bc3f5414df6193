# Two commands take a fresh machine to a running stack (`make run`) and a passing suite (`make test`).
SHELL := /bin/bash
PYTHON ?= python3
UV ?= uv
GATEWAY_PORT ?= 8000

.PHONY: install run test test-tools test-unit test-integration test-e2e lint format clean services services-down \
        asyncapi bench-analyzer bench-gateway bench-plot validate screenshots docker-build docker-run docker-down

install: ## Install uv (when missing) and every workspace dependency from the lock file
	@command -v $(UV) >/dev/null || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --locked --all-groups

services: ## Find or start RabbitMQ and a MongoDB-wire server (idempotent)
	$(PYTHON) deploy/services.py up

services-down: ## Stop the services `make services` started
	$(PYTHON) deploy/services.py down

run: install ## Gateway on :8000 and the analyzer, as separate processes; Ctrl-C stops both
	@services=$$($(PYTHON) deploy/services.py env) || exit 1; eval "$$services"; \
	trap 'kill $$gw $$an 2>/dev/null; wait' INT TERM EXIT; \
	ECG_PORT=$(GATEWAY_PORT) $(UV) run --no-sync python -m ecg_gateway & gw=$$!; \
	$(UV) run --no-sync python -m ecg_analyzer & an=$$!; \
	echo "gateway on http://localhost:$(GATEWAY_PORT) (pid $$gw), analyzer pid $$an; Ctrl-C stops both"; \
	wait -n $$gw $$an

test-tools: ## Debian's headless Chromium (the /docs render test) and the AsyncAPI parser (npm ci, pinned)
	@command -v npm >/dev/null && npm ci --prefix contracts/validate --no-audit --no-fund --silent || \
	  echo "npm is missing: the AsyncAPI validation test will fail" >&2
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  echo "installing chromium with apt-get" && (apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null; } || \
	  echo "chromium is missing and cannot be installed here: the docs render test will fail" >&2

test: install test-tools ## Unit, integration and e2e tests against the real services (started when needed)
	@services=$$($(PYTHON) deploy/services.py env) || exit 1; eval "$$services"; \
	$(UV) run --no-sync pytest -v tests

test-unit: install
	$(UV) run --no-sync pytest -q tests/unit

lint: install ## ruff and mypy
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy contracts/src amqp/src gateway/src analyzer/src client/src tests deploy benchmarks examples

format: install
	$(UV) run --no-sync ruff check --fix .
	$(UV) run --no-sync ruff format .

asyncapi: install ## Regenerate the event examples (real insights of MIT-BIH 100) and contracts/asyncapi.yaml
	$(UV) run --no-sync python -m tests.event_examples
	$(UV) run --no-sync python -m ecg_contracts.asyncapi > contracts/asyncapi.yaml

bench-analyzer: install ## Analyzer speed, side by side with NeuroKit2 (see benchmarks/)
	$(UV) run --no-sync python benchmarks/bench_analyzer.py

validate: install ## QRS detection and heart rate on the 25 MIT-BIH records, next to NeuroKit2 and WFDB xqrs (VALIDATE_ARGS="--detectors ours --records 100,101")
	$(UV) run --no-sync python benchmarks/validate_mitdb.py $(VALIDATE_ARGS)

bench-gateway: install ## Stack throughput: accepted/s, end to end/s (polling and ?wait= clients), 0 and 10,000 stored
	$(UV) run --no-sync python benchmarks/bench_gateway.py $(BENCH_ARGS)

bench-plot: install ## Plot rendering: record 100 (30 min) whole and its first 10 s, time and size (BENCH_ARGS=--http: over HTTP too)
	$(UV) run --no-sync python benchmarks/bench_plot.py $(BENCH_ARGS)

screenshots: install test-tools ## docs/plot-100.png and docs/viewer.png, made with the tests' headless Chromium
	$(UV) run --no-sync python docs/screenshots.py

clean: ## Remove caches and the virtual environment (not the services' data: see services-down)
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- Docker: one image per service and the compose stack (deploy/README.md) -------------------
DOCKER ?= docker
DEPLOY_ENV ?= deploy/.env
IMAGE_TAG ?= latest
COMPOSE = IMAGE_TAG=$(IMAGE_TAG) DEPLOY_ENV_FILE=$(abspath $(DEPLOY_ENV)) \
	$(DOCKER) compose --env-file $(DEPLOY_ENV) -f deploy/docker-compose.yml
DOCKER_ENGINE_CHECK = @$(DOCKER) info >/dev/null 2>&1 || { \
	echo "make $@: no Docker engine reachable ('$(DOCKER) info' failed); start Docker or point DOCKER_HOST at one" >&2; exit 1; }
DEPLOY_ENV_CHECK = @test -f $(DEPLOY_ENV) || { \
	echo "make $@: $(DEPLOY_ENV) is missing: cp deploy/.env.example $(DEPLOY_ENV) and set its secrets (deploy/README.md)" >&2; exit 1; }

docker-build: ## Build the images ecg-gateway:$(IMAGE_TAG) and ecg-analyzer:$(IMAGE_TAG)
	$(DOCKER_ENGINE_CHECK)
	$(DOCKER) build -f deploy/gateway.Dockerfile -t ecg-gateway:$(IMAGE_TAG) .
	$(DOCKER) build -f deploy/analyzer.Dockerfile -t ecg-analyzer:$(IMAGE_TAG) .

docker-run: ## Build and start the compose stack in the background (settings: deploy/.env)
	$(DOCKER_ENGINE_CHECK)
	$(DEPLOY_ENV_CHECK)
	$(COMPOSE) up -d --build --wait
	@echo "gateway on http://$$($(COMPOSE) port gateway 8000); logs: docker compose --env-file $(DEPLOY_ENV) -f deploy/docker-compose.yml logs -f"

docker-down: ## Stop the compose stack (its volumes stay: add -v by hand to delete the data)
	$(DOCKER_ENGINE_CHECK)
	$(DEPLOY_ENV_CHECK)
	$(COMPOSE) down
