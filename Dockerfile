# Circles server image: slim Python, non-root, healthcheck, `circles serve` as entrypoint.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# aiortc/av wheels are self-contained; nothing to compile.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY moderation ./moderation
COPY web ./web
RUN pip install . && useradd --system --uid 10001 --home-dir /nonexistent circles

USER circles
EXPOSE 8080
# Listen on all interfaces inside the container; CIRCLES_SECRET must be provided.
ENV CIRCLES_HOST=0.0.0.0 CIRCLES_PORT=8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["circles", "serve"]
