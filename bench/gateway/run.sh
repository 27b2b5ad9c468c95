#!/usr/bin/env bash
# Gateway overhead benchmark. Measures the same small authenticated GET three ways, in one run:
#   gateway  client --x-api-key--> gateway --identity token--> infra-service
#   direct   client --identity token--> infra-service
#   nginx    client --> nginx (keepalive upstream, adds the identity token) --> infra-service
# and compares them with the targets: gateway >= 80% of nginx's throughput, and no more added at
# p50 over the direct call than nginx adds.
# With BENCH_BASELINE_REF it also measures the gateway built from that git revision beside this
# one (same devstack, service and database), and with BENCH_UNCACHED_AUTH=1 each gateway once more
# with its API-key cache off, so every request reads its key from the database.
#
# Starts its own devstack, infra-service and gateway (data in a temporary folder, so a running
# ./mlinfra is left alone) and removes everything it started when it ends.
# Installs wrk and nginx with apt-get when they are missing; builds what is missing or stale.
#
# Settings (environment): BENCH_DURATION (each measured case, default 20s), BENCH_WARMUP (each
# case, default 10s; in seconds), BENCH_WARMUP_MAX (default 120: the longest warm-up of a gateway,
# in seconds, while its JIT compilers are still busy), BENCH_SINGLE_DURATION (each one-connection
# latency case, default 10s), BENCH_CONNECTIONS (default 64), BENCH_THREADS (default 2),
# BENCH_PATH (default /v1/infrastructure/metrics?metric=cpu&period=1h), BENCH_GATEWAY_OPTS (extra
# JVM options of the gateway), BENCH_BASELINE_REF (a git revision whose gateway is measured too;
# built in a temporary worktree), BENCH_GATEWAY_VARIANTS (';'-separated sets of JVM options: this
# gateway once more with each, e.g. '-Dquarkus.vertx.event-loops-pool-size=1;-Dquarkus.log.console.async=true'),
# BENCH_UNCACHED_AUTH=1, BENCH_ROUNDS (default 1: how often the measurement under load is
# repeated), BENCH_SLICES (default 4: each path's BENCH_DURATION under load is measured in this
# many slices, the paths taking turns slice by slice, so that a machine that speeds up or slows
# down within a round weighs on every path alike; 1 measures each path in one go, one after another).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
DURATION=${BENCH_DURATION:-20s}
WARMUP=${BENCH_WARMUP:-10s}
WARMUP_MAX=${BENCH_WARMUP_MAX:-120}
SINGLE_DURATION=${BENCH_SINGLE_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
# One metric's last hour: a read scope, an answer from one indexed read of a few rollup rows.
# Not /status, which probes every component of the platform on each request.
TARGET_PATH=${BENCH_PATH:-'/v1/infrastructure/metrics?metric=cpu&period=1h'}
GATEWAY_OPTS=${BENCH_GATEWAY_OPTS:-}
BASELINE_REF=${BENCH_BASELINE_REF:-}
UNCACHED_AUTH=${BENCH_UNCACHED_AUTH:-0}
VARIANTS=${BENCH_GATEWAY_VARIANTS:-}
ROUNDS=${BENCH_ROUNDS:-1}
SLICES=${BENCH_SLICES:-4}
[[ "$DURATION" =~ ^[0-9]+s$ ]] || { echo "bench: BENCH_DURATION must be whole seconds, like 20s (got $DURATION)" >&2; exit 1; }
[[ "$SLICES" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_SLICES must be a positive whole number (got $SLICES)" >&2; exit 1; }
SLICE_SECONDS=$(( ${DURATION%s} / SLICES ))
[ "$SLICE_SECONDS" -ge 1 ] || { echo "bench: BENCH_DURATION $DURATION is shorter than BENCH_SLICES ($SLICES) seconds" >&2; exit 1; }
START_TIMEOUT=120

WORK=
GATEWAY_PORT=
SERVICE_PID=
DEVSTACK_PID=
LOAD_AT_START=
declare -a PIDS=()


# ---------------------------------------------------------------------------------------------
# Preparation

ensure_tools() {
  local -a missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  install_packages "${missing[@]}"
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
    [ -d "$WORK/baseline" ] && git -C "$ROOT" worktree remove --force "$WORK/baseline" >/dev/null 2>&1
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
# headers) and prints "requests_per_second p50_ms p99_ms non_2xx socket_errors requests
# proxy_cpu service_cpu database_cpu": the last three are the CPU milliseconds per request that
# PROXY_PID (the gateway or nginx; none for the direct path), the service and the devstack
# (PostgreSQL) used meanwhile.
measure_with() {
  local threads=$1 connections=$2 proxy_pid=$3 url=$4 duration=$5
  shift 5
  local out p0 s0 d0 p1 s1 d1 requests
  p0=$(cpu_ticks "$proxy_pid"); s0=$(cpu_ticks "$SERVICE_PID"); d0=$(cpu_ticks "$DEVSTACK_PID")
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url")
  p1=$(cpu_ticks "$proxy_pid"); s1=$(cpu_ticks "$SERVICE_PID"); d1=$(cpu_ticks "$DEVSTACK_PID")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  requests=$(awk '/ requests in / { print $1 }' <<<"$out")
  printf '%s %s %s\n' "$(wrk_summary <<<"$out")" "${requests:-0}" "$(awk -v r="${requests:-0}" -v hz="$CLK_TCK" \
    -v p=$((p1 - p0)) -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v proxy="$proxy_pid" 'BEGIN {
      if (r == 0) { print "- - -"; exit }
      f = 1000 / hz / r
      printf "%s %.3f %.3f\n", (proxy == "" ? "-" : sprintf("%.3f", p * f)), s * f, d * f
    }')"
}

# Under load: the configured threads and connections. PROXY_PID URL DURATION [wrk options].
measure() { measure_with "$THREADS" "$CONNECTIONS" "$@"; }

# wrk's latency histogram (microseconds and count of each value seen), written when wrk ends to
# the file named by WRK_HISTOGRAM, so that the slices of one path can be added up exactly.
write_histogram_script() {
  cat >"$WORK/histogram.lua" <<'EOF_LUA'
done = function(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_HISTOGRAM"), "w"))
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(string.format("%d %d\n", value, count))
  end
  out:close()
end
EOF_LUA
}

# One slice of a path under load: PROXY_PID URL SECONDS NAME [wrk options]. Adds the slice's
# "requests seconds non_2xx socket_errors proxy_ticks service_ticks database_ticks" to
# WORK/slices/NAME.sums and its latency histogram to WORK/slices/NAME.histogram.
measure_slice() {
  local proxy_pid=$1 url=$2 seconds=$3 name=$4
  shift 4
  local out p0 s0 d0 p1 s1 d1 file="$WORK/slices/$name"
  mkdir -p "$WORK/slices"
  p0=$(cpu_ticks "$proxy_pid"); s0=$(cpu_ticks "$SERVICE_PID"); d0=$(cpu_ticks "$DEVSTACK_PID")
  out=$(WRK_HISTOGRAM="$file.part" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency \
    -s "$WORK/histogram.lua" "$@" "$url")
  p1=$(cpu_ticks "$proxy_pid"); s1=$(cpu_ticks "$SERVICE_PID"); d1=$(cpu_ticks "$DEVSTACK_PID")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  cat "$file.part" >>"$file.histogram"
  awk -v p=$((p1 - p0)) -v s=$((s1 - s0)) -v d=$((d1 - d0)) '
    / requests in / {
      requests = $1; took = $(NF - 2); sub(/,$/, "", took)
      if (took ~ /ms$/) took = substr(took, 1, length(took) - 2) / 1000
      else if (took ~ /m$/) took = substr(took, 1, length(took) - 1) * 60
      else sub(/s$/, "", took)
    }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) errors += $i + 0 }
    END { printf "%d %s %d %d %d %d %d\n", requests, took, non2xx, errors, p, s, d }
  ' <<<"$out" >>"$file.sums"
}

# The slices of path NAME added up, as measure prints one path: "requests_per_second p50_ms p99_ms
# non_2xx socket_errors requests proxy_cpu service_cpu database_cpu" (proxy_cpu "-" when
# HAS_PROXY is 0). The percentiles are read off the summed histogram as wrk reads its own.
slices_summary() {
  local name=$1 has_proxy=$2 file="$WORK/slices/$1"
  local totals
  totals=$(awk -v hz="$CLK_TCK" -v proxy="$has_proxy" '
    { r += $1; t += $2; n += $3; e += $4; p += $5; s += $6; d += $7 }
    END {
      if (r == 0) { print "0 " n " " (e ? e : "none") " 0 - - -"; exit }
      f = 1000 / hz / r
      printf "%.0f %d %s %d %s %.3f %.3f\n", r / t, n, (e ? e : "none"), r, (proxy ? sprintf("%.3f", p * f) : "-"), s * f, d * f
    }' "$file.sums")
  local -a f
  read -r -a f <<<"$totals"
  local percentiles
  percentiles=$(sort -n "$file.histogram" | awk '
    { value[NR] = $1; count[NR] = $2; total += $2 }
    END {
      if (total == 0) { print "0 0"; exit }
      split("50 99", ps, " ")
      for (k = 1; k <= 2; k++) {
        rank = int(ps[k] / 100 * total + 0.5); if (rank < 1) rank = 1
        seen = 0
        for (i = 1; i <= NR; i++) { seen += count[i]; if (seen >= rank) { out[k] = value[i] / 1000; break } }
      }
      printf "%.3f %.3f\n", out[1], out[2]
    }')
  printf '%s %s %s %s %s %s %s %s\n' "${f[0]}" "$percentiles" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" "${f[5]}" "${f[6]}"
}

# Without queueing: one connection, one request at a time; shows the latency each hop adds.
measure_single() { measure_with 1 1 "$@"; }

# Warms gateway PID (at URL, with wrk's options after it) and the service behind it under load, in
# slices of 5 s after a first WARMUP, until a slice in which the gateway's JIT compilers used at
# most 2 % of a core, or WARMUP_MAX seconds have passed; prints how long it took. On a busy
# machine the compilers are still at work long after a fixed warm-up, and their CPU would count
# against the gateway.
warm_gateway() {
  local pid=$1 url=$2 before after waited
  shift 2
  measure "$pid" "$url" "$WARMUP" "$@" >/dev/null
  waited=${WARMUP%s}
  while [ "$waited" -lt "$WARMUP_MAX" ]; do
    before=$(compiler_ticks "$pid")
    measure "$pid" "$url" 5s "$@" >/dev/null
    after=$(compiler_ticks "$pid")
    waited=$((waited + 5))
    [ $((after - before)) -le $((CLK_TCK * 5 / 50)) ] && break
  done
  echo "$waited"
}

# Builds the gateway of BASELINE_REF in a worktree under WORK (package only: the local Maven
# repository keeps this checkout's artifacts) and prints the path of its quarkus-run.jar.
build_baseline() {
  local dir="$WORK/baseline"
  git -C "$ROOT" worktree add --detach "$dir" "$BASELINE_REF" >"$WORK/baseline-build.log" 2>&1 ||
    die "cannot check out $BASELINE_REF (log: $WORK/baseline-build.log)"
  (cd "$dir" && ./mvnw -B -q -pl gateway -am package -Dmaven.test.skip=true) >>"$WORK/baseline-build.log" 2>&1 ||
    die "the gateway of $BASELINE_REF does not build (log: $WORK/baseline-build.log)"
  echo "$dir/gateway/target/quarkus-app/quarkus-run.jar"
}

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

  # The gateways to measure: name, jar, extra JVM options.
  local -a names=(gateway) jars=("$ROOT/gateway/target/quarkus-app/quarkus-run.jar") extra=("")
  if [ -n "$BASELINE_REF" ]; then
    say "building the gateway of $BASELINE_REF"
    names+=("gateway@$BASELINE_REF")
    jars+=("$(build_baseline)")
    extra+=("")
  fi
  if [ -n "$VARIANTS" ]; then
    local variant
    local -a variant_list
    IFS=';' read -r -a variant_list <<<"$VARIANTS"
    for variant in "${variant_list[@]}"; do
      names+=("gateway $variant")
      jars+=("${jars[0]}")
      extra+=("$variant")
    done
  fi
  if [ "$UNCACHED_AUTH" = 1 ]; then
    local n=${#names[@]} i
    for ((i = 0; i < n; i++)); do
      names+=("${names[i]}, keys uncached")
      jars+=("${jars[i]}")
      extra+=("-Dmlinfra.gateway.auth.cache-ttl=PT0S")
    done
  fi

  say "starting devstack, infra-service and ${#names[@]} gateway(s) (work folder $WORK)"
  start_devstack gateway,infra

  local service_port nginx_port
  free_port; service_port=$PORT
  free_port; nginx_port=$PORT
  local -a infra_opts gateway_opts ports=() gateway_pids=()
  mapfile -t infra_opts < <(app_options infra)
  background infra-service java -Xmx384m "${infra_opts[@]}" "-Dquarkus.http.port=$service_port" \
    -jar "$ROOT/infra-service/target/quarkus-app/quarkus-run.jar"
  local service_pid=${PIDS[-1]}
  SERVICE_PID=$service_pid
  DEVSTACK_PID=${PIDS[0]}

  local api_key key_id i
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  api_key="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  for ((i = 0; i < ${#names[@]}; i++)); do
    free_port; ports+=("$PORT")
    [ "$i" = 0 ] && GATEWAY_PORT=$PORT
    mapfile -t gateway_opts < <(app_options gateway)
    # Every gateway shares the database, so the first creates the bootstrap key and all accept it.
    # shellcheck disable=SC2086 # BENCH_GATEWAY_OPTS and the extra options are space-separated lists
    MLINFRA_BOOTSTRAP_API_KEY=$api_key background "gateway-$i" java -Xmx384m "${gateway_opts[@]}" \
      "-Dquarkus.http.port=${ports[i]}" \
      "-Dmlinfra.identity.current-key=bench" \
      "-Dmlinfra.identity.keys.bench.public-key-location=$WORK/keys/identity-public.pem" \
      "-Dmlinfra.identity.keys.bench.private-key-location=$WORK/keys/identity-private.pem" \
      "-Dmlinfra.gateway.services.infrastructure.url=http://127.0.0.1:$service_port" \
      "-Dmlinfra.gateway.rate-limit.limits.infrastructure=100000000" \
      $GATEWAY_OPTS ${extra[i]} -jar "${jars[i]}"
    gateway_pids+=("${PIDS[-1]}")
    # one at a time: the first creates the key the others then find
    wait_ready "gateway-$i" "${ports[i]}" "${PIDS[-1]}"
  done
  wait_ready infra-service "$service_port" "$service_pid"

  local token
  token=$(mint_identity_token "$key_id")
  write_nginx_conf "$nginx_port" "$service_port" "$token"
  background nginx "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
  local nginx_pid=${PIDS[-1]}
  local waited_nginx=0
  until port_in_use "$nginx_port"; do
    [ "$waited_nginx" -ge 20 ] && die "nginx did not start (log: $WORK/nginx.log)"
    sleep 0.5
    waited_nginx=$((waited_nginx + 1))
  done

  local direct_url="http://127.0.0.1:$service_port$TARGET_PATH"
  local nginx_url="http://127.0.0.1:$nginx_port$TARGET_PATH"
  local -a gateway_hdr=(-H "x-api-key: $api_key")
  local -a direct_hdr=(-H "x-mlinfra-identity: $token")

  # Every way must return the same answer, and it must be the service's, not a refusal.
  local d n g
  d=$(curl -s -o "$WORK/direct.body" -w '%{http_code}' "${direct_hdr[@]}" "$direct_url")
  n=$(curl -s -o "$WORK/nginx.body" -w '%{http_code}' "$nginx_url")
  say "GET $TARGET_PATH answers: direct $d, nginx $n: $(head -c 200 "$WORK/direct.body")"
  [ "$d" = "$n" ] || die "direct and nginx answer differently ($d, $n)"
  for ((i = 0; i < ${#names[@]}; i++)); do
    g=$(curl -s -o "$WORK/gateway-$i.body" -w '%{http_code}' "${gateway_hdr[@]}" "http://127.0.0.1:${ports[i]}$TARGET_PATH")
    [ "$g" = "$d" ] || die "${names[i]} answers $g, the service $d: $(cat "$WORK/gateway-$i.body")"
  done
  case "$d" in 2??) ;; *) die "the service does not answer the request with a success ($d): $(cat "$WORK/direct.body")" ;; esac

  say "warming up ($WARMUP each; each gateway, which warms both JVMs, until its JIT compilers have settled)"
  local warmed
  for ((i = 0; i < ${#names[@]}; i++)); do
    warmed=$(warm_gateway "${gateway_pids[i]}" "http://127.0.0.1:${ports[i]}$TARGET_PATH" "${gateway_hdr[@]}")
    say "  ${names[i]}: ${warmed} s"
  done
  measure "" "$direct_url" "$WARMUP" "${direct_hdr[@]}" >/dev/null
  measure "$nginx_pid" "$nginx_url" "$WARMUP" >/dev/null

  say "measuring ($DURATION each, in $SLICES slices of ${SLICE_SECONDS}s taking turns, $THREADS threads, $CONNECTIONS connections, $(nproc) cores, $ROUNDS round(s))"
  # The paths take turns slice by slice, each slice starting at the next path, so that other work
  # on the machine, and its speed drifting within a round, weigh on each of them alike.
  local -a loaded=() single=() r_directs=() r_nginxs=() round_loads=()
  local round slice p n=${#names[@]}
  local paths=$((n + 2))
  write_histogram_script
  for ((round = 0; round < ROUNDS; round++)); do
    round_loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    for ((slice = 0; slice < SLICES; slice++)); do
      for ((p = 0; p < paths; p++)); do
        i=$(((slice + p) % paths))
        if [ "$i" -lt "$n" ]; then
          measure_slice "${gateway_pids[i]}" "http://127.0.0.1:${ports[i]}$TARGET_PATH" "$SLICE_SECONDS" "r$round-g$i" "${gateway_hdr[@]}"
        elif [ "$i" -eq "$n" ]; then
          measure_slice "" "$direct_url" "$SLICE_SECONDS" "r$round-direct" "${direct_hdr[@]}"
        else
          measure_slice "$nginx_pid" "$nginx_url" "$SLICE_SECONDS" "r$round-nginx"
        fi
      done
    done
    for ((i = 0; i < n; i++)); do
      loaded[round * n + i]=$(slices_summary "r$round-g$i" 1)
    done
    r_directs+=("$(slices_summary "r$round-direct" 0)")
    r_nginxs+=("$(slices_summary "r$round-nginx" 1)")
  done
  say "measuring latency without queueing (1 connection, $SINGLE_DURATION each)"
  for ((i = 0; i < ${#names[@]}; i++)); do
    single+=("$(measure_single "${gateway_pids[i]}" "http://127.0.0.1:${ports[i]}$TARGET_PATH" "$SINGLE_DURATION" "${gateway_hdr[@]}")")
  done
  local s_direct s_nginx
  s_direct=$(measure_single "" "$direct_url" "$SINGLE_DURATION" "${direct_hdr[@]}")
  s_nginx=$(measure_single "$nginx_pid" "$nginx_url" "$SINGLE_DURATION")

  say ""
  say "GET $TARGET_PATH (answer: HTTP $d), $(date -u +%Y-%m-%d), $(nproc) cores"
  say ""
  for ((round = 0; round < ROUNDS; round++)); do
    say "Under load: wrk -t$THREADS -c$CONNECTIONS, ${SLICES} x ${SLICE_SECONDS}s per path taking turns, round $((round + 1)) of $ROUNDS (load average $(printf '%s' "${round_loads[round]}") when it began)"
    say ""
    table_head
    for ((i = 0; i < n; i++)); do table_row "${names[i]}" "${loaded[round * n + i]}"; done
    table_row direct "${r_directs[round]}"
    table_row nginx "${r_nginxs[round]}"
    say ""
  done
  say "Without queueing: wrk -t1 -c1 -d$SINGLE_DURATION"
  say ""
  table_head
  for ((i = 0; i < ${#names[@]}; i++)); do table_row "${names[i]}" "${single[i]}"; done
  table_row direct "$s_direct"
  table_row nginx "$s_nginx"
  say ""
  for ((round = 0; round < ROUNDS; round++)); do
    [ "$ROUNDS" -gt 1 ] && say "round $((round + 1)):"
    for ((i = 0; i < n; i++)); do
      ratios "${names[i]}" "${loaded[round * n + i]}" "${r_directs[round]}" "${r_nginxs[round]}" "${single[i]}" "$s_direct"
    done
    awk -v d="${r_directs[round]}" -v n="${r_nginxs[round]}" -v sd="$s_direct" -v sn="$s_nginx" 'BEGIN {
      split(d, D, " "); split(n, N, " "); split(sd, SD, " "); split(sn, SN, " ")
      printf "nginx p50 - direct p50: %.3f ms under load, %.3f ms on one connection\n", N[2] - D[2], SN[2] - SD[2]
    }'
    if [ -n "$BASELINE_REF" ]; then
      awk -v a="${loaded[round * n]}" -v b="${loaded[round * n + 1]}" -v ref="$BASELINE_REF" 'BEGIN {
        split(a, A, " "); split(b, B, " ")
        printf "this gateway / gateway@%s throughput: %.0f%%, p50 difference: %+.3f ms\n", ref, A[1] / B[1] * 100, A[2] - B[2]
      }'
    fi
  done
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the numbers are skewed by it"
  fi
}

table_head() {
  say "| path | requests/s | p50 (ms) | p99 (ms) | socket errors | CPU ms per request: proxy | service | database |"
  say "|---|---:|---:|---:|---|---:|---:|---:|"
}

table_row() {
  local name=$1
  # shellcheck disable=SC2086 # split measure's line into its fields
  set -- $2
  say "| $name | $1 | $2 | $3 | $5 | $7 | $8 | $9 |"
}

# The targets for one gateway, from measure's lines: under load against direct and nginx (no
# more added at p50 than nginx adds, at least 80% of its throughput), and on one connection
# against direct.
ratios() {
  awk -v name="$1" -v g="$2" -v d="$3" -v n="$4" -v sg="$5" -v sd="$6" 'BEGIN {
    split(g, G, " "); split(d, D, " "); split(n, N, " "); split(sg, SG, " "); split(sd, SD, " ")
    ratio = G[1] / N[1] * 100
    added = G[2] - D[2]
    nginx_added = N[2] - D[2]
    printf "%s: / nginx throughput %.0f%% (target >= 80%%: %s); p50 - direct p50 %.3f ms, p99 - direct p99 %.3f ms (target at p50 <= nginx'"'"'s %.3f ms: %s); / direct throughput %.0f%%; one connection: p50 - direct p50 %.3f ms\n",
      name, ratio, (ratio >= 80 ? "met" : "NOT met"), added, G[3] - D[3], nginx_added, (added <= nginx_added ? "met" : "NOT met"), G[1] / D[1] * 100, SG[2] - SD[2]
  }'
}

main "$@"
