#!/usr/bin/env bash
# Where a workflow write's cost goes: serve variants of a manifest (or of the binary) side by
# side and measure, in interleaved rounds, each one's plain create and wf-create with CPU per
# request (Plinth's process plus every `postgres` process, from /proc). Not a target check
# (that is run.sh); a tool for A/Bs such as "the drifts without their dedupe" (bench/README.md,
# "Where a wf-create's cost goes on PostgreSQL").
#
#     bash bench/variants.sh base=bench/app.yaml nodedupe=/tmp/nodedupe.yaml
#     bash bench/variants.sh old=bench/app.yaml@/tmp/plinth-old new=bench/app.yaml
#
# Each argument is NAME=MANIFEST[@BINARY] (the binary defaults to the release build in
# CARGO_TARGET_DIR, default ~/.cache/plinth-target, built if missing). Knobs:
#     VARIANTS_DB=postgres|sqlite (postgres: a fresh database plinth_variant_<name> each on
#     127.0.0.1:5432), VARIANTS_ROUNDS=3, VARIANTS_DURATION=8s, VARIANTS_SCENARIO=wf-create.
# Prints one line per measurement and a table of per-round ratios (scenario CPU per request
# over the same variant's plain create in the same round), medians last.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DB=${VARIANTS_DB:-postgres}
ROUNDS=${VARIANTS_ROUNDS:-3}
DURATION=${VARIANTS_DURATION:-8s}
SCENARIO=${VARIANTS_SCENARIO:-wf-create}
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/plinth-target}
WORK=$ROOT/bench/work/variants
PG_ADMIN=(env PGOPTIONS=--client-min-messages=warning psql -h 127.0.0.1 -p 5432 -U postgres
    -d postgres -v ON_ERROR_STOP=1 -qAt)
[[ $# -ge 1 ]] || { sed -n '2,17p' "$0"; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"

declare -a NAMES=()
declare -A PID=() PORT=() TOKEN=()
cleanup() {
    local n
    for n in "${NAMES[@]}"; do
        kill "${PID[$n]}" 2>/dev/null || true
        wait "${PID[$n]}" 2>/dev/null || true
        if [[ $DB == postgres ]]; then
            "${PG_ADMIN[@]}" -c "DROP DATABASE IF EXISTS plinth_variant_$n WITH (FORCE)" || true
        fi
    done
}
trap cleanup EXIT

# Ticks of CPU (user + system) used so far by pid $1 and by all postgres processes.
ticks() {
    python3 - "$1" <<'EOF'
import os, sys
def used(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0
pg = [p for p in os.listdir("/proc") if p.isdigit() and
      os.path.exists(f"/proc/{p}/comm") and open(f"/proc/{p}/comm").read().strip() == "postgres"]
print(used(sys.argv[1]), sum(used(p) for p in pg))
EOF
}

start() { # name manifest binary port
    local name=$1 manifest=$2 bin=$3 port=$4 dir=$WORK/$1 app
    mkdir -p "$dir"
    (
        cd "$dir"
        export PLINTH_DATA_DIR=$dir PLINTH_LISTEN=127.0.0.1:$port PLINTH_LOG_LEVEL=warn \
            PLINTH_DEMO_DATA=false PLINTH_APPS__BENCH__MANIFEST=$manifest
        for app in SIMFLOW CLOUDDRIFT REVOPS DATAGEN QUADRAX; do export "PLINTH_APPS__${app}__ENABLED=false"; done
        if [[ $DB == postgres ]]; then
            "${PG_ADMIN[@]}" -c "DROP DATABASE IF EXISTS plinth_variant_$name WITH (FORCE)" \
                -c "CREATE DATABASE plinth_variant_$name"
            export PLINTH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/plinth_variant_$name
        fi
        unset RUST_LOG
        "$bin" token create --app bench --role SERVICE --name scanner | tail -n1 | awk '{print $NF}' >token
        exec "$bin" serve >log 2>&1
    ) &
    PID[$name]=$!
    PORT[$name]=$port
    local i
    for i in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "$name did not start: $dir/log" >&2; exit 1; }
    TOKEN[$name]=$(cat "$dir/token")
}

measure() { # name scenario -> "req/s cpu_us_per_request"
    local name=$1 sc=$2 args p0 g0 p1 g1 out n
    case $sc in
        create) args=(-s bench/create.lua "http://127.0.0.1:${PORT[$name]}/bench/api/requests") ;;
        wf-create) args=(-H "Authorization: Bearer ${TOKEN[$name]}" -s bench/wf-create.lua
            "http://127.0.0.1:${PORT[$name]}/bench/api/drifts") ;;
        *) echo "unknown scenario $sc" >&2; exit 2 ;;
    esac
    read -r p0 g0 < <(ticks "${PID[$name]}")
    out=$(BENCH_WF_PREFIX="$name-$RANDOM" wrk -t2 -c32 -d"$DURATION" "${args[@]}")
    read -r p1 g1 < <(ticks "${PID[$name]}")
    n=$(awk '/requests in/{print $1}' <<<"$out")
    [[ $out != *Non-2xx* ]] || { echo "$name $sc: non-2xx answers" >&2; exit 1; }
    awk -v rps="$(awk '/Requests\/sec/{print $2}' <<<"$out")" -v t=$((p1 - p0 + g1 - g0)) -v n="$n" \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%s %.0f\n", rps, t * 1e6 / hz / n }'
}

BUILT=$TARGET/release/plinth
port=18300
for arg in "$@"; do
    name=${arg%%=*} spec=${arg#*=}
    manifest=${spec%%@*}
    bin=$BUILT
    [[ $spec == *@* ]] && bin=${spec#*@}
    if [[ $bin == "$BUILT" && ! -x $BUILT ]]; then
        CARGO_TARGET_DIR=$TARGET cargo build --release -p plinth
    fi
    NAMES+=("$name")
    start "$name" "$(realpath "$manifest")" "$(realpath "$bin")" $port
    port=$((port + 1))
done

declare -A RATIOS=()
for r in $(seq "$ROUNDS"); do
    for name in "${NAMES[@]}"; do
        read -r c_rps c_cpu < <(measure "$name" create)
        read -r w_rps w_cpu < <(measure "$name" "$SCENARIO")
        ratio=$(awk -v a="$w_cpu" -v b="$c_cpu" 'BEGIN { printf "%.2f", a / b }')
        RATIOS[$name]+="$ratio "
        echo "round $r $name: create $c_rps req/s $c_cpu us/req; $SCENARIO $w_rps req/s $w_cpu us/req; ratio $ratio"
    done
done
echo
echo "| variant ($DB) | $SCENARIO CPU / create CPU, each round | median |"
echo "|---|---|--:|"
for name in "${NAMES[@]}"; do
    median=$(tr ' ' '\n' <<<"${RATIOS[$name]}" | grep . | sort -n | awk '{v[NR]=$1} END { print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }')
    echo "| $name | ${RATIOS[$name]}| ${median}x |"
done
