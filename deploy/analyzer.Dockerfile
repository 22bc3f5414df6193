# The analyzer image: ecg-analyzer and ecg-contracts and ecg-amqp with their locked dependencies, nothing else
# (no aiohttp, pymongo). Build context: the repository root, e.g.
#   docker build -f deploy/analyzer.Dockerfile -t ecg-analyzer .
# (BuildKit, the default builder since Docker 23, for the cache mounts.)

ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# 1. Third-party dependencies only: this layer changes with the lock file alone. uv reads the
#    whole workspace, so every member's pyproject.toml is needed (not their sources).
COPY pyproject.toml uv.lock .python-version ./
COPY contracts/pyproject.toml contracts/
COPY amqp/pyproject.toml amqp/
COPY gateway/pyproject.toml gateway/
COPY analyzer/pyproject.toml analyzer/
COPY client/pyproject.toml client/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package ecg-analyzer --no-install-workspace
# 2. The service and the contracts and AMQP layer it shares, installed as wheels (no links back to /src).
COPY contracts/src contracts/src
COPY amqp/src amqp/src
COPY analyzer/src analyzer/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package ecg-analyzer

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 ecg \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ecg
COPY --from=builder /opt/venv /opt/venv
COPY deploy/analyzer_healthcheck.py /opt/ecg/healthcheck.py
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
# Healthy while PID 1 is the analyzer and holds an established connection to the broker (port
# from ECG_AMQP_URL); unhealthy while it is disconnected, e.g. during a broker outage.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/ecg/healthcheck.py"]
ENTRYPOINT ["python", "-m", "ecg_analyzer"]
