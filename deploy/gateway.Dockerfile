# The gateway image: ecg-gateway and ecg-contracts and ecg-amqp with their locked dependencies, nothing else
# (no numpy/scipy). Build context: the repository root, e.g.
#   docker build -f deploy/gateway.Dockerfile -t ecg-gateway .
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
    uv sync --locked --no-dev --no-editable --package ecg-gateway --no-install-workspace
# 2. The service and the contracts and AMQP layer it shares, installed as wheels (no links back to /src).
COPY contracts/src contracts/src
COPY amqp/src amqp/src
COPY gateway/src gateway/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package ecg-gateway

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 ecg \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ecg
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8000
# Liveness: the HTTP server answers. (Readiness, /health/ready, also needs MongoDB and the broker;
# an outage of those must not make the gateway container "unhealthy".)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ECG_PORT', '8000') + '/health/live', timeout=2)"]
ENTRYPOINT ["python", "-m", "ecg_gateway"]
