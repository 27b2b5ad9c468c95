#!/usr/bin/env bash
# Infrastructure benchmark, two parts in one run, against infra-service directly (with an identity
# token as the gateway mints it, so the gateway's 60/min limit does not cap the load):
#   (a) status    GET /v1/infrastructure/status, one connection, for BENCH_DURATION: every
#                 component up (devstack, the five other services' processes, the MLflow test
#                 server behind registry-service's mirror), then with registry-service stopped
#                 with SIGSTOP (it accepts connections and never answers: a hung component).
#                 Target: p99 at most the probe timeout (2 s) plus 100 ms with the hung component.
#   (b) history   30 days of 15 s samples of one component's four metrics written into the
#                 database (the rollup trigger as the sampler's inserts run it), then the 30d
#                 query against the 1h query of the same series, one connection each.
#                 Target: 30d costs at most 5x the 1h query (p50).
#
# Starts its own devstack and services (data in a temporary folder, free loopback ports, so a
# running ./mlinfra is left alone) and removes everything it started when it ends. Installs wrk,
# curl, python3, openssl and psql with apt-get when they are missing; builds what is stale.
#
# Settings (environment): BENCH_DURATION (each wrk case, default 15s), BENCH_SKIP_STATUS=1,
# BENCH_SKIP_HISTORY=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
DURATION=${BENCH_DURATION:-15s}
START_TIMEOUT=180
PROBE_TIMEOUT_MS=2000

WORK=
GATEWAY_PORT=
declare -a PIDS=()


sql() { sql_on infra "$@"; }

# wrk GET of infra-service's PATH with one connection; prints wrk_summary's line.
wrk_get() {
  local out
  out=$(wrk -t1 -c1 -d"$DURATION" --timeout 10s --latency -H "x-mlinfra-identity: $TOKEN" \
    "http://127.0.0.1:$INFRA_PORT$1")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  wrk_summary <<<"$out"
}

status_once() {
  curl -s -H "x-mlinfra-identity: $TOKEN" "http://127.0.0.1:$INFRA_PORT/v1/infrastructure/status"
}

status_bench() {
  say ""
  say "(a) GET /v1/infrastructure/status, 1 connection, $DURATION each (probe timeout ${PROBE_TIMEOUT_MS} ms)"
  local components
  components=$(status_once | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["status"], " ".join(k + "=" + v["status"] for k, v in d["components"].items()))')
  say "  status now: $components"
  case "$components" in healthy*) ;; *) die "the platform is not healthy before the benchmark: $components" ;; esac
  printf '  %-34s %8s %10s %10s %8s\n' case req/s p50_ms p99_ms non2xx
  read -r rps p50 p99 non2xx _ < <(wrk_get /v1/infrastructure/status)
  printf '  %-34s %8s %10s %10s %8s\n' "every component up" "$rps" "$p50" "$p99" "$non2xx"
  kill -STOP "$REGISTRY_PID"
  components=$(status_once | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["components"]["registry_service"]
print(d["status"], "registry_service=" + r["status"], "(" + r.get("reason", "") + ")")')
  read -r rps p50 p99 non2xx _ < <(wrk_get /v1/infrastructure/status)
  kill -CONT "$REGISTRY_PID"
  printf '  %-34s %8s %10s %10s %8s\n' "registry-service hung (SIGSTOP)" "$rps" "$p50" "$p99" "$non2xx"
  say "  status while hung: $components"
  awk -v p99="$p99" -v limit=$((PROBE_TIMEOUT_MS + 100)) 'BEGIN {
    printf "  hung p99 %.0f ms against the target %d ms: %s\n", p99, limit, (p99 <= limit ? "met" : "NOT met") }'
}

history_bench() {
  say ""
  say "(b) metrics history: 30 days of 15 s samples (cpu, memory, gpu, storage of component 'bench')"
  local started took rows
  started=$(date +%s.%N)
  sql -c "INSERT INTO metric_sample (component, metric, sampled_at, value)
          SELECT 'bench', m, t, 50 + 40 * sin(extract(epoch FROM t) / 3600)
            FROM generate_series(now() - interval '30 days', now(), interval '15 seconds') AS t,
                 unnest(ARRAY['cpu', 'memory', 'gpu', 'storage']) AS m"
  took=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  rows=$(sql -c "SELECT count(*) FROM metric_sample WHERE component = 'bench'")
  say "  $rows samples written with their rollups in $took s; rollup rows of the component: $(sql -c "SELECT count(*) FROM metric_rollup WHERE component = 'bench'")"
  local period points
  printf '  %-18s %8s %8s %10s %10s\n' query points req/s p50_ms p99_ms
  declare -A p50s=()
  for period in 1h 24h 30d; do
    points=$(curl -s -H "x-mlinfra-identity: $TOKEN" \
      "http://127.0.0.1:$INFRA_PORT/v1/infrastructure/metrics?component=bench&metric=cpu&period=$period" |
      json_path '["metrics"]["cpu_usage"].__len__()')
    read -r rps p50 p99 _ < <(wrk_get "/v1/infrastructure/metrics?component=bench&metric=cpu&period=$period")
    p50s[$period]=$p50
    printf '  %-18s %8s %8s %10s %10s\n' "period=$period" "$points" "$rps" "$p50" "$p99"
  done
  read -r rps p50 p99 _ < <(wrk_get "/v1/infrastructure/metrics?component=bench&period=30d")
  printf '  %-18s %8s %8s %10s %10s\n' "period=30d, all 4" "4x" "$rps" "$p50" "$p99"
  awk -v a="${p50s[30d]}" -v b="${p50s[1h]}" 'BEGIN {
    printf "  30d / 1h at p50: %.2fx (target at most 5x): %s\n", a / b, (a / b <= 5 ? "met" : "NOT met") }'
}

main() {
  [ "$(id -u)" = 0 ] || command -v wrk >/dev/null || die "run as root (apt-get installs wrk) or install it first"
  LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
  require_tools wrk curl python3 openssl psql
  PSQL=$(find_psql)
  "$ROOT/mlinfra" build
  # The MLflow test server is one of registry-service's test classes.
  (cd "$ROOT" && ./mvnw -B -q -pl registry-service test-compile) || die "cannot compile registry-service's tests"
  # shellcheck source=../../.mvn/jdk.sh disable=SC1091
  source "$ROOT/.mvn/jdk.sh"

  WORK=$(mktemp -d /tmp/mlinfra-bench-infra.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"
  say "starting devstack, the MLflow test server and the five services (work folder $WORK)"
  start_devstack datasets,training,registry,inference,infra
  local app
  declare -A port=()
  for app in dataset-service training-service registry-service inference-service infra-service mlflow gateway; do
    free_port
    port[$app]=$PORT
  done
  GATEWAY_PORT=${port[gateway]}
  INFRA_PORT=${port[infra-service]}
  local svc="http://127.0.0.1" mlflow_token
  mlflow_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  background mlflow java -Xmx128m -cp "$ROOT/registry-service/target/test-classes:$ROOT/registry-service/target/classes:$ROOT/registry-service/target/quarkus-app/lib/main/*" \
    dev.mlinfra.registry.mirror.MlflowTestServer --port "${port[mlflow]}" --token "$mlflow_token"
  local -a opts
  mapfile -t opts < <(app_options datasets)
  background dataset-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=${port[dataset-service]}" \
    "-Dquarkus.rest-client.training.url=$svc:${port[training-service]}" \
    -jar "$ROOT/dataset-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options training)
  background training-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=${port[training-service]}" \
    "-Dquarkus.rest-client.datasets.url=$svc:${port[dataset-service]}" \
    "-Dquarkus.rest-client.gpu-ledger.url=$svc:$INFRA_PORT" \
    "-Dmlinfra.training.local.engine-jar=$ROOT/llm-engine/target/llm-engine.jar" \
    "-Dmlinfra.training.local.work-dir=$WORK/training" \
    -jar "$ROOT/training-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options registry)
  background registry-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=${port[registry-service]}" \
    "-Dquarkus.rest-client.training.url=$svc:${port[training-service]}" \
    "-Dmlinfra.registry.mlflow.url=$svc:${port[mlflow]}" "-Dmlinfra.registry.mlflow.token=$mlflow_token" \
    -jar "$ROOT/registry-service/target/quarkus-app/quarkus-run.jar"
  REGISTRY_PID=$!
  mapfile -t opts < <(app_options inference)
  background inference-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=${port[inference-service]}" \
    "-Dquarkus.rest-client.registry.url=$svc:${port[registry-service]}" \
    "-Dmlinfra.inference.local.model-server-jar=$ROOT/model-server/target/quarkus-app/quarkus-run.jar" \
    "-Dmlinfra.inference.local.work-dir=$WORK/serving" \
    -jar "$ROOT/inference-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options infra)
  background infra-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$INFRA_PORT" \
    "-Dmlinfra.infra.services.dataset_service.url=$svc:${port[dataset-service]}" \
    "-Dmlinfra.infra.services.dataset_service.management-url=$svc:$(management_port dataset-service)" \
    "-Dmlinfra.infra.services.training_service.url=$svc:${port[training-service]}" \
    "-Dmlinfra.infra.services.training_service.management-url=$svc:$(management_port training-service)" \
    "-Dmlinfra.infra.services.registry_service.url=$svc:${port[registry-service]}" \
    "-Dmlinfra.infra.services.registry_service.management-url=$svc:$(management_port registry-service)" \
    "-Dmlinfra.infra.services.inference_service.url=$svc:${port[inference-service]}" \
    "-Dmlinfra.infra.services.inference_service.management-url=$svc:$(management_port inference-service)" \
    "-Dmlinfra.infra.local.data-dirs.bench=$WORK" \
    "-Dmlinfra.infra.local.storage-path=$WORK/data" \
    -jar "$ROOT/infra-service/target/quarkus-app/quarkus-run.jar"
  local i=1
  for app in mlflow dataset-service training-service registry-service inference-service infra-service; do
    [ "$app" = mlflow ] || wait_ready "$app" "${port[$app]}" "${PIDS[$i]}"
    i=$((i + 1))
  done
  TOKEN=$(mint_identity_token "bench-infra")

  [ "${BENCH_SKIP_STATUS:-0}" = 1 ] || status_bench
  [ "${BENCH_SKIP_HISTORY:-0}" = 1 ] || history_bench
  say ""
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the numbers are skewed by it"
  fi
}

main "$@"
