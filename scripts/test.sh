#!/usr/bin/env bash
# Everything CI checks: lint (ruff), types (mypy), then every test suite (pytest).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check server moderation tests bench
.venv/bin/mypy
.venv/bin/pytest "$@"
