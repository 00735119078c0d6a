# deploybot, as teams run it (README, "Run it with Docker"):
#   docker build -t deploybot . && docker run --env-file .env -v "$PWD/deploybot.toml:/app/deploybot.toml:ro" -v deploybot-data:/data -p 3000:3000 deploybot
# Built FROM the official python:3.11-slim-bookworm. CI builds this same file on a machine with no
# Docker Hub FROM a Debian bookworm made by debootstrap, with Debian's Python 3.11 (.ci/image).
# Dependencies come from uv.lock, every one pinned with its hash.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
SHELL ["/bin/sh", "-eu", "-c"]
ENV UV_PROJECT_ENVIRONMENT=/opt/deploybot \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The builder's own pip settings and certificate authority, when it passes them as build secrets
# (`--secret id=pip_conf,src=...`, `--secret id=pip_cert,src=...`: .ci/image does): used for the
# install, never kept in a layer. Without them, pip and uv reach PyPI as usual.
RUN --mount=type=secret,id=pip_conf --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi; \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    python -m venv /opt/uv; \
    /opt/uv/bin/pip install --quiet uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock ./
# What uv.lock pins (hashes checked; --locked fails if pyproject.toml moved on), without the bot:
# this layer is kept while only the bot's code changes.
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export SSL_CERT_FILE=/run/secrets/pip_cert; fi; \
    /opt/uv/bin/uv sync --locked --no-dev --no-install-project --python "$(command -v python)"
COPY README.md ./
COPY bot ./bot
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export SSL_CERT_FILE=/run/secrets/pip_cert; fi; \
    /opt/uv/bin/uv sync --locked --no-dev --no-editable --python "$(command -v python)"

FROM ${BASE}
ENV PATH=/opt/deploybot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEPLOYBOT_CONFIG=/app/deploybot.toml \
    DEPLOYBOT_DATABASE_URL=sqlite:////data/deploybot.db \
    PORT=3000
RUN groupadd --system --gid 10001 deploybot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --create-home deploybot \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /opt/deploybot /opt/deploybot
# By number, so an orchestrator can tell it is not root (runAsNonRoot) without reading /etc/passwd.
USER 10001:10001
WORKDIR /app
VOLUME ["/data"]
EXPOSE 3000
# Liveness: the process, its scheduler and its store (/healthz). A Slack outage fails /readyz
# only, so it restarts nothing (README, "Endpoints").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"]
# SIGTERM finishes what was acknowledged, hands deployments over, then exits 0: give it 60 s
# (`docker stop -t 60`, compose's stop_grace_period).
CMD ["deploybot", "serve"]
