#!/usr/bin/env bash
# Makes a fresh machine ready: the Debian packages the tests use (when missing), then
# .venv with Circles and its test tools. Idempotent, quiet, needs no stdin.
#   scripts/setup.sh          Python only (enough to run the server)
#   scripts/setup.sh --test   also the system packages the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test" ]; then
  need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ -x /usr/bin/chromium ] || need+=(chromium)   # tests/e2e drive Debian's headless Chromium
  command -v nft >/dev/null 2>&1 || need+=(nftables)   # a lossy path in tests/e2e/test_real_audio.py
  command -v turnserver >/dev/null 2>&1 || need+=(coturn)   # audio through a TURN relay, tests/media/test_turn.py
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)   # checks deploy/compose.yaml (no daemon needed)
  # Devanagari and Gurmukhi as a phone shows them: the 390 px layout checks in tests/e2e
  # measure real glyphs, not fallback boxes.
  [ -f /usr/share/fonts/truetype/noto/NotoSansGurmukhi-Regular.ttf ] || need+=(fonts-noto-core)
  [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]} with apt-get" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.installed
fi
