# deploybot: `docker build -t deploybot . && docker run --env-file .env -v $PWD/deploybot.toml:/app/deploybot.toml -p 3000:3000 deploybot`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEPLOYBOT_CONFIG=/app/deploybot.toml \
    DEPLOYBOT_DATABASE_URL=sqlite:////data/deploybot.db \
    PORT=3000
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /app --create-home deploybot \
    && mkdir -p /data && chown deploybot /data
USER deploybot
WORKDIR /app
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"]
CMD ["deploybot", "serve"]
