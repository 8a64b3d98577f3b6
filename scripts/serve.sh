#!/usr/bin/env bash
# Run Circles on http://127.0.0.1:8080 with the embedded store. With no CIRCLES_SECRET set
# it starts in demo mode and prints join links. Extra arguments go to `circles serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${CIRCLES_SECRET:-}" ]; then
  exec .venv/bin/circles serve --demo "$@"
fi
exec .venv/bin/circles serve "$@"
