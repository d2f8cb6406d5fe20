#!/usr/bin/env bash
# Realtime fan-out benchmark (issue #13): one `plinth serve` (SQLite, the bench's own app),
# FANOUT_CONNECTIONS WebSocket subscribers (default 10,000) to `requests` held by the load
# client `crates/plinth/examples/fanout.rs`, the server's resident memory before and after
# they connect (idle), then FANOUT_EVENTS creates (default 5), each timed from just before
# its POST to its arrival at every subscriber. Writes bench/fanout-results.md.
# Run from the repo root: bash bench/fanout.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${FANOUT_CONNECTIONS:-10000}
E=${FANOUT_EVENTS:-5}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/plinth-target}
PORT=${FANOUT_PORT:-18195}
cargo build --release -q -p plinth --bin plinth --example fanout
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
(
    export PLINTH_DATA_DIR=$dir PLINTH_LISTEN=127.0.0.1:$PORT PLINTH_LOG_LEVEL=warn \
        PLINTH_DEMO_DATA=false PLINTH_APPS__BENCH__MANIFEST=$PWD/bench/app.yaml
    for app in SIMFLOW CLOUDDRIFT REVOPS DATAGEN QUADRAX; do export "PLINTH_APPS__${app}__ENABLED=false"; done
    exec "$TARGET/release/plinth" serve
) >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.1
done
summary=$("$TARGET/release/examples/fanout" "http://127.0.0.1:$PORT/bench/api" requests "$pid" "$N" "$E")
echo "$summary"
python3 - "$summary" "$(git rev-parse --short HEAD)" >bench/fanout-results.md <<'PY'
import json, sys
s = json.loads(sys.argv[1])
ok = lambda c: "met" if c else "not met"
print("# Realtime fan-out: results\n")
print(f"Written by `bash bench/fanout.sh` at commit `{sys.argv[2]}` (release build, SQLite, the bench's own app, "
      "one `plinth serve`, the load client `crates/plinth/examples/fanout.rs` on the same 2-core machine).\n")
print("| | measured | target |\n|---|--:|---|")
print(f"| WebSocket subscribers held | {s['connections_held']:,} of {s['connections_asked']:,} | 10,000 ({ok(s['connections_held'] >= 10000)}) |")
print(f"| events delivered | {s['deliveries']:,} of {s['deliveries_expected']:,} ({s['events']} creates) | all |")
print(f"| delivery latency p50 | {s['p50_ms']:.1f} ms | |")
print(f"| delivery latency p99 | {s['p99_ms']:.1f} ms | under 250 ms ({ok(s['p99_ms'] < 250)}) |")
print(f"| delivery latency max | {s['max_ms']:.1f} ms | |")
print(f"| server memory per idle connection | {s['kib_per_idle_connection']:.1f} KiB (RSS {s['rss_before_kib']:,} -> {s['rss_after_kib']:,} KiB) | under 20 KiB ({ok(s['kib_per_idle_connection'] < 20)}) |")
print("\nLatency: from just before each create's POST to the event's arrival at each subscriber "
      "(every subscriber of every event; the client's own scheduling of 10,000 sockets is included).")
PY
cat bench/fanout-results.md
