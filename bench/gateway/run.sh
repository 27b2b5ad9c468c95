#!/usr/bin/env bash
# Gateway overhead benchmark. Measures the same small authenticated GET three ways, in one run:
#   gateway  client --x-api-key--> gateway --identity token--> infra-service
#   direct   client --identity token--> infra-service
#   nginx    client --> nginx (keepalive upstream, adds the identity token) --> infra-service
# and compares them with the targets: gateway >= 70% of nginx's throughput, <= 1 ms added at p50.
#
# Starts its own devstack, infra-service and gateway (data in a temporary folder, so a running
# ./mlinfra is left alone) and removes everything it started when it ends.
# Installs wrk and nginx with apt-get when they are missing; builds what is missing or stale.
#
# Settings (environment): BENCH_DURATION (each measured case, default 20s), BENCH_WARMUP (each
# case, default 10s), BENCH_SINGLE_DURATION (each one-connection latency case, default 10s), BENCH_CONNECTIONS (default 64), BENCH_THREADS (default 2),
# BENCH_PATH (default /v1/infrastructure/status), BENCH_GATEWAY_OPTS (extra JVM options of the
# gateway, e.g. -Dquarkus.vertx.event-loops-pool-size=1 to compare a setting).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
DURATION=${BENCH_DURATION:-20s}
WARMUP=${BENCH_WARMUP:-10s}
SINGLE_DURATION=${BENCH_SINGLE_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
TARGET_PATH=${BENCH_PATH:-/v1/infrastructure/status}
GATEWAY_OPTS=${BENCH_GATEWAY_OPTS:-}
START_TIMEOUT=120

WORK=
GATEWAY_PORT=
LOAD_AT_START=
declare -a PIDS=()

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Preparation

ensure_tools() {
  local -a missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]}"
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

NGINX=nginx
find_nginx() {
  command -v nginx >/dev/null || NGINX=/usr/sbin/nginx
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_started "$status"
  if [ -n "$WORK" ]; then
    rm -rf "$WORK"
  fi
  exit "$status"
}

write_nginx_conf() {
  local listen=$1 upstream=$2 token=$3
  mkdir -p "$WORK/nginx/tmp"
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 4096; }
http {
  # Like the gateway and the service (Quarkus access log), nginx logs every request.
  access_log $WORK/nginx-access.log;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  upstream service {
    server 127.0.0.1:$upstream;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$listen;
    location / {
      proxy_pass http://service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header x-api-key "";
      proxy_set_header x-mlinfra-identity "$token";
    }
  }
}
EOF
}

# ---------------------------------------------------------------------------------------------
# Measuring

# Runs wrk with THREADS and CONNECTIONS for DURATION against URL (then wrk's own options, e.g.
# headers) and prints "requests_per_second p50_ms p99_ms non_2xx socket_errors".
measure_with() {
  local threads=$1 connections=$2 url=$3 duration=$4
  shift 4
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { errors = $0; sub(/.*Socket errors: /, "", errors); gsub(/ /, "", errors) }
    END { printf "%.0f %.3f %.3f %d %s\n", rps, p50, p99, non2xx, (errors == "" ? "none" : errors) }
  ' <<<"$out"
}

# Under load: the configured threads and connections.
measure() { measure_with "$THREADS" "$CONNECTIONS" "$@"; }
# Without queueing: one connection, one request at a time; shows the latency each hop adds.
measure_single() { measure_with 1 1 "$@"; }

main() {
  [ "$(id -u)" = 0 ] || command -v wrk >/dev/null || die "run as root (apt-get installs wrk and nginx) or install them first"
  # Other work on the machine skews every number; remember how busy it was before we started.
  LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
  ensure_tools
  find_nginx
  "$ROOT/mlinfra" build
  # shellcheck source=../../.mvn/jdk.sh disable=SC1091
  source "$ROOT/.mvn/jdk.sh"

  WORK=$(mktemp -d /tmp/mlinfra-bench.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"

  say "starting devstack, infra-service and gateway (work folder $WORK)"
  start_devstack gateway,infra

  local service_port gateway_port nginx_port
  free_port; service_port=$PORT
  free_port; gateway_port=$PORT
  free_port; nginx_port=$PORT
  GATEWAY_PORT=$gateway_port
  local -a infra_opts gateway_opts
  mapfile -t infra_opts < <(app_options infra)
  mapfile -t gateway_opts < <(app_options gateway)
  background infra-service java -Xmx384m "${infra_opts[@]}" "-Dquarkus.http.port=$service_port" \
    -jar "$ROOT/infra-service/target/quarkus-app/quarkus-run.jar"
  local service_pid=${PIDS[-1]}

  local api_key key_id
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  api_key="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  # shellcheck disable=SC2086 # BENCH_GATEWAY_OPTS is a space-separated list on purpose
  MLINFRA_BOOTSTRAP_API_KEY=$api_key background gateway java -Xmx384m "${gateway_opts[@]}" \
    "-Dquarkus.http.port=$gateway_port" \
    "-Dmlinfra.identity.private-key-location=$WORK/keys/identity-private.pem" \
    "-Dmlinfra.gateway.services.infrastructure.url=http://127.0.0.1:$service_port" \
    "-Dmlinfra.gateway.rate-limit.limits.infrastructure=100000000" \
    $GATEWAY_OPTS -jar "$ROOT/gateway/target/quarkus-app/quarkus-run.jar"
  local gateway_pid=${PIDS[-1]}
  wait_ready infra-service "$service_port" "$service_pid"
  wait_ready gateway "$gateway_port" "$gateway_pid"

  local token
  token=$(mint_identity_token "$key_id")
  write_nginx_conf "$nginx_port" "$service_port" "$token"
  background nginx "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
  local waited_nginx=0
  until port_in_use "$nginx_port"; do
    [ "$waited_nginx" -ge 20 ] && die "nginx did not start (log: $WORK/nginx.log)"
    sleep 0.5
    waited_nginx=$((waited_nginx + 1))
  done

  local gateway_url="http://127.0.0.1:$gateway_port$TARGET_PATH"
  local direct_url="http://127.0.0.1:$service_port$TARGET_PATH"
  local nginx_url="http://127.0.0.1:$nginx_port$TARGET_PATH"
  local -a gateway_hdr=(-H "x-api-key: $api_key")
  local -a direct_hdr=(-H "x-mlinfra-identity: $token")

  # The three must return the same answer, and it must be the service's, not a refusal.
  local g d n
  g=$(curl -s -o "$WORK/gateway.body" -w '%{http_code}' "${gateway_hdr[@]}" "$gateway_url")
  d=$(curl -s -o "$WORK/direct.body" -w '%{http_code}' "${direct_hdr[@]}" "$direct_url")
  n=$(curl -s -o "$WORK/nginx.body" -w '%{http_code}' "$nginx_url")
  say "GET $TARGET_PATH answers: gateway $g, direct $d, nginx $n: $(head -c 200 "$WORK/direct.body")"
  if [ "$g" != "$d" ] || [ "$d" != "$n" ]; then
    die "the three ways answer differently (gateway $g, direct $d, nginx $n): $(cat "$WORK/gateway.body")"
  fi
  case "$d" in 401|403|429|5*) die "the service refused the request ($d): $(cat "$WORK/direct.body")" ;; esac

  say "warming up ($WARMUP each, twice that through the gateway: it warms both JVMs)"
  measure "$gateway_url" "$WARMUP" "${gateway_hdr[@]}" >/dev/null
  measure "$gateway_url" "$WARMUP" "${gateway_hdr[@]}" >/dev/null
  measure "$direct_url" "$WARMUP" "${direct_hdr[@]}" >/dev/null
  measure "$nginx_url" "$WARMUP" >/dev/null

  say "measuring ($DURATION each, $THREADS threads, $CONNECTIONS connections, $(nproc) cores)"
  local r_gateway r_direct r_nginx
  r_gateway=$(measure "$gateway_url" "$DURATION" "${gateway_hdr[@]}")
  r_direct=$(measure "$direct_url" "$DURATION" "${direct_hdr[@]}")
  r_nginx=$(measure "$nginx_url" "$DURATION")
  say "measuring latency without queueing (1 connection, $SINGLE_DURATION each)"
  local s_gateway s_direct s_nginx
  s_gateway=$(measure_single "$gateway_url" "$SINGLE_DURATION" "${gateway_hdr[@]}")
  s_direct=$(measure_single "$direct_url" "$SINGLE_DURATION" "${direct_hdr[@]}")
  s_nginx=$(measure_single "$nginx_url" "$SINGLE_DURATION")

  report "$r_gateway" "$r_direct" "$r_nginx" "$d" "$s_gateway" "$s_direct" "$s_nginx"
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the numbers are skewed by it"
  fi
}

# A markdown table of the three paths, from measure's lines for gateway, direct and nginx.
table() {
  say "| path | requests/s | p50 (ms) | p99 (ms) | socket errors |"
  say "|---|---:|---:|---:|---|"
  table_row gateway "$1"
  table_row direct "$2"
  table_row nginx "$3"
}

table_row() {
  local name=$1
  # shellcheck disable=SC2086 # split measure's line into its fields
  set -- $2
  say "| $name | $1 | $2 | $3 | $5 |"
}

report() {
  local gateway=$1 direct=$2 nginx=$3 status=$4 single_gateway=$5 single_direct=$6 single_nginx=$7
  say ""
  say "GET $TARGET_PATH (answer: HTTP $status), $(date -u +%Y-%m-%d), $(nproc) cores"
  say ""
  say "Under load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  say ""
  table "$gateway" "$direct" "$nginx"
  say ""
  say "Without queueing: wrk -t1 -c1 -d$SINGLE_DURATION"
  say ""
  table "$single_gateway" "$single_direct" "$single_nginx"
  # shellcheck disable=SC2086
  awk -v g="$gateway" -v d="$direct" -v n="$nginx" 'BEGIN {
    split(g, G, " "); split(d, D, " "); split(n, N, " ")
    ratio = G[1] / N[1] * 100
    added = G[2] - D[2]
    printf "\ngateway / nginx throughput: %.0f%% (target >= 70%%: %s)\n", ratio, (ratio >= 70 ? "met" : "NOT met")
    printf "gateway p50 - direct p50:   %.3f ms (target <= 1 ms: %s)\n", added, (added <= 1 ? "met" : "NOT met")
    printf "gateway / direct throughput: %.0f%%, nginx p50 - direct p50: %.3f ms\n", G[1] / D[1] * 100, N[2] - D[2]
  }'
  awk -v g="$single_gateway" -v d="$single_direct" -v n="$single_nginx" 'BEGIN {
    split(g, G, " "); split(d, D, " "); split(n, N, " ")
    printf "one connection: gateway p50 - direct p50: %.3f ms, nginx p50 - direct p50: %.3f ms\n", G[2] - D[2], N[2] - D[2]
  }'
}

main "$@"
