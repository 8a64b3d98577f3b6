# Circles server image: slim Python, non-root, healthcheck, `circles serve` as entrypoint.
# Built in two stages: the first builds the wheel (the web client is package data inside
# it, see pyproject.toml), the second installs only that wheel, as any deployment would.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY moderation ./moderation
COPY web ./web
RUN pip wheel --no-deps -w /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# aiortc/av wheels are self-contained; nothing to compile.
COPY --from=build /dist /dist
RUN pip install /dist/circles-*.whl && rm -rf /dist && useradd --system --uid 10001 --home-dir /nonexistent circles
WORKDIR /nonexistent
USER circles
EXPOSE 8080
# Listen on all interfaces inside the container; CIRCLES_SECRET must be provided.
ENV CIRCLES_HOST=0.0.0.0 CIRCLES_PORT=8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["circles", "serve"]
