#!/usr/bin/env bash
# Property-based API test: schemathesis (a real client from PyPI) reads each bundled app's
# OpenAPI document from a running `plinth serve` and sends generated requests, valid and
# not; any 5xx answer fails the run. Usage: scripts/api-fuzz.sh PATH_TO_PLINTH_BINARY
set -euo pipefail
bin=${1:?usage: scripts/api-fuzz.sh PATH_TO_PLINTH_BINARY}
venv="${API_FUZZ_VENV:-$HOME/.cache/plinth-fuzz-venv}"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
data=$(mktemp -d)
port=18181
# QUADRAX's seed limits (5 sign-ins, 100 requests per 15 minutes) would turn most of the
# run into 429s; raised, so every request still passes through the limiter and is counted.
PLINTH_APPS__QUADRAX__RATE_LIMITS__AUTH__MAX=1000000 \
  PLINTH_APPS__QUADRAX__RATE_LIMITS__API__MAX=1000000 \
  PLINTH_DATA_DIR="$data" PLINTH_LISTEN="127.0.0.1:$port" PLINTH_LOG_LEVEL=error "$bin" serve &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "plinth exited before it was ready" >&2; exit 1; }
  sleep 0.1
done
status=0
for base in simflow/api clouddrift/api/v1 revops/api datagen quadrax/api; do
  echo "== schemathesis: $base"
  "$venv/bin/st" run "http://127.0.0.1:$port/$base/openapi.json" \
    --checks not_a_server_error --max-examples 20 --seed 1 --no-color || status=1
done
exit $status
