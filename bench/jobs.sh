#!/usr/bin/env bash
# Job-queue benchmark: Plinth's durable queue (on SQLite and on PostgreSQL, driven by the same
# workers `plinth serve` runs, crates/plinth/examples/jobs_bench.rs) against BullMQ on the local
# Redis (bench/jobs/bullmq.mjs), interleaved in rounds so drift of the machine hits all alike.
# Modes: no-op throughput (N jobs enqueued first, then timed from worker start to the last
# completion; concurrency 8) and enqueue-to-start latency (jobs added one at a time at a fixed
# rate while workers run). Writes bench/jobs-results.md: every round's numbers and the medians
# of per-round ratios. Run from the repo root:  bash bench/jobs.sh
# Knobs: BENCH_ROUNDS=5 BENCH_JOBS=50000 BENCH_LAT_JOBS=2000 BENCH_RATE=200
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${BENCH_ROUNDS:-5}
JOBS=${BENCH_JOBS:-50000}
LAT_JOBS=${BENCH_LAT_JOBS:-2000}
RATE=${BENCH_RATE:-200}
PG_URL=postgres://postgres@127.0.0.1:5432/postgres
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/plinth-target}
WORK=bench/work/jobs
mkdir -p "$WORK"
OUT="$WORK/raw.jsonl"
: > "$OUT"

cargo build --release --example jobs_bench --target-dir "$TARGET" >&2
PLINTH="$TARGET/release/examples/jobs_bench"
(cd bench/jobs && npm install --silent --no-audit --no-fund >&2)

sqlite() { rm -f "$WORK"/q.db*; "$PLINTH" "sqlite://$PWD/$WORK/q.db" "$@"; }
postgres() { "$PLINTH" "$PG_URL" "$@"; }
bullmq() { (cd bench/jobs && node bullmq.mjs "$@"); }

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for sys in bullmq sqlite postgres; do
    case $sys in
      bullmq) line=$(bullmq throughput --jobs "$JOBS" --concurrency 8 --batch 1000) ;;
      *) line=$($sys throughput "$JOBS" 8) ;;
    esac
    echo "{\"round\":$r,\"name\":\"$sys\",\"r\":$line}" >> "$OUT"
  done
  for sys in bullmq sqlite postgres; do
    case $sys in
      bullmq) line=$(bullmq latency --jobs "$LAT_JOBS" --rate "$RATE") ;;
      *) line=$($sys latency "$LAT_JOBS" "$RATE") ;;
    esac
    echo "{\"round\":$r,\"name\":\"$sys\",\"r\":$line}" >> "$OUT"
  done
done
# The benchmark's PostgreSQL schemas.
psql -h 127.0.0.1 -U postgres -d postgres -qAt -c \
  "SELECT 'DROP SCHEMA \"' || nspname || '\" CASCADE;' FROM pg_namespace WHERE nspname LIKE 'jobbench_%'" \
  | psql -h 127.0.0.1 -U postgres -d postgres -q >/dev/null

python3 - "$OUT" "$ROUNDS" "$JOBS" "$LAT_JOBS" "$RATE" > bench/jobs-results.md <<'PY'
import json, statistics, sys, subprocess
path, rounds, jobs, lat_jobs, rate = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
def get(rnd, name, mode):
    for x in rows:
        if x["round"] == rnd and x["name"] == name and x["r"]["mode"] == mode:
            return x["r"]
rs = sorted({x["round"] for x in rows})
head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"# Job-queue benchmark (bench/jobs.sh) at {head}\n")
print(f"{rounds} rounds, interleaved. Throughput: {jobs} no-op jobs enqueued first, then timed from worker")
print(f"start to the last completion, concurrency 8. Latency: {lat_jobs} jobs added one at a time at")
print(f"{rate}/s while workers run (enqueue to start). BullMQ {json.load(open('bench/jobs/package.json'))['dependencies']['bullmq']} on the local Redis.\n")
print("## Throughput (jobs/s)\n\n| round | BullMQ | Plinth SQLite | Plinth PostgreSQL | SQLite / BullMQ | PostgreSQL / BullMQ |\n|---|---|---|---|---|---|")
rs_sq, rs_pg = [], []
for r in rs:
    b, s, p = (get(r, n, "throughput")["jobs_per_s"] for n in ("bullmq", "sqlite", "postgres"))
    rs_sq.append(s / b); rs_pg.append(p / b)
    print(f"| {r} | {b:.0f} | {s:.0f} | {p:.0f} | {s/b:.2f} | {p/b:.2f} |")
print(f"\n**Median of per-round ratios: SQLite {statistics.median(rs_sq):.2f}x BullMQ (target 3x), PostgreSQL {statistics.median(rs_pg):.2f}x (target 1.5x).**\n")
print("## Enqueue-to-start latency (ms)\n\n| round | BullMQ p50 / p99 | SQLite p50 / p99 | PostgreSQL p50 / p99 |\n|---|---|---|---|")
p50 = {"bullmq": [], "sqlite": [], "postgres": []}
for r in rs:
    cells = []
    for n in ("bullmq", "sqlite", "postgres"):
        x = get(r, n, "latency"); p50[n].append(x["p50_ms"])
        cells.append(f"{x['p50_ms']:.2f} / {x['p99_ms']:.2f}")
    print(f"| {r} | " + " | ".join(cells) + " |")
print(f"\n**Median p50: BullMQ {statistics.median(p50['bullmq']):.2f} ms, SQLite {statistics.median(p50['sqlite']):.2f} ms, PostgreSQL {statistics.median(p50['postgres']):.2f} ms (target under 10 ms).**")
PY
cat bench/jobs-results.md
