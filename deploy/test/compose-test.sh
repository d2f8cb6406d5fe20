#!/usr/bin/env bash
# The container image and the compose stack, end to end: check deploy/compose.yaml, build the
# image, start PostgreSQL, two plinth nodes and the proxy, try them, tear everything down.
#
# Where no Docker daemon can run, only `docker-compose config` is checked and the skip is
# said on the last line with its reason (exit 0). PLINTH_REQUIRE_DOCKER=1 makes it a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

export POSTGRES_PASSWORD="ci-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export PLINTH_IMAGE=plinth:ci PLINTH_PROXY_IMAGE=plinth-proxy:ci
export PLINTH_PORT="${PLINTH_PORT:-18080}"
compose=(docker-compose -f deploy/compose.yaml -p plinth-ci)

skip() {
  if [ "${PLINTH_REQUIRE_DOCKER:-0}" = 1 ]; then
    echo "FAIL: $1" >&2
    exit 1
  fi
  echo "SKIP: image build and compose start not tested: $1"
  exit 0
}

command -v docker-compose >/dev/null || skip "docker-compose is not installed"
"${compose[@]}" config -q
echo "ok: deploy/compose.yaml is valid"

docker info >/dev/null 2>&1 || skip "no Docker daemon answers (docker info failed)"

# BuildKit (the Dockerfile's cache mounts): the buildx plugin, else a client that still has
# the built-in one (Debian's docker.io ships it as /usr/bin/docker).
build() {
  if docker buildx version >/dev/null 2>&1; then
    docker buildx build --load "$@"
  elif [ -x /usr/bin/docker ]; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
  else
    skip "no BuildKit: neither docker buildx nor a client with the built-in builder"
  fi
}

deploy/test/base-images.sh
build --progress=plain -f deploy/Dockerfile -t "$PLINTH_IMAGE" . >/tmp/plinth-image-build.log 2>&1 \
  || { tail -40 /tmp/plinth-image-build.log; exit 1; }
build -t "$PLINTH_PROXY_IMAGE" deploy/proxy >/tmp/plinth-proxy-build.log 2>&1 \
  || { tail -40 /tmp/plinth-proxy-build.log; exit 1; }
echo "ok: images built"

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then "${compose[@]}" logs --tail 40 || true; fi
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
"${compose[@]}" up -d --no-build

proxy="http://127.0.0.1:$PLINTH_PORT"
fail() { echo "FAIL: $*" >&2; exit 1; }
# `up -d` returns once the proxy's dependencies are healthy and it has started.
for _ in $(seq 1 60); do
  curl -fsS "$proxy/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "$proxy/ready" >/dev/null || fail "the proxy never answered /ready"

node() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$("${compose[@]}" ps -q "$1")"; }
n1="http://$(node plinth1):8080"
n2="http://$(node plinth2):8080"
for s in plinth1 plinth2; do
  id=$("${compose[@]}" ps -q "$s")
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ] || fail "$s is not healthy"
  [ "$(docker exec "$id" id -u)" = 10001 ] || fail "$s does not run as uid 10001"
done
echo "ok: both nodes healthy (HEALTHCHECK on /ready), running as uid 10001"

apps=$(curl -fsS -H 'accept: application/json' "$proxy/" | python3 -c 'import json,sys; print(" ".join(sorted(a["name"] for a in json.load(sys.stdin)["apps"])))')
[ "$apps" = "clouddrift datagen quadrax revops simflow" ] || fail "the index lists: $apps"
echo "ok: the proxy serves all five apps"

# A job queued on one node is run once by either and its status is read on the other.
job=$(curl -fsS -H 'content-type: application/json' -d '{"entity":"users","rows":200,"seed":7}' \
  "$n1/datagen/generate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobId"])')
status=""
for _ in $(seq 1 60); do
  status=$(curl -fsS "$n2/datagen/status/$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = completed ] && break
  sleep 0.5
done
[ "$status" = completed ] || fail "job $job is $status on the second node"
echo "ok: a job queued on node 1 completed, seen from node 2"

# A sign-in on one node is honoured by the other (the token secret is shared).
token=$(curl -fsS -H 'content-type: application/json' \
  -d '{"email":"ops@example.com","password":"goodPass123","name":"Ops"}' \
  "$n1/simflow/api/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
me=$(curl -fsS -H "authorization: Bearer $token" "$n2/simflow/api/auth/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["email"])')
[ "$me" = ops@example.com ] || fail "node 2 did not accept node 1's token"
echo "ok: a token signed on node 1 is accepted on node 2"
echo "compose stack: all checks passed"
