#!/usr/bin/env bash
# Model registry benchmark, two parts in one run:
#   (a) reads     GET one model and GET the list of models through the gateway with 32 concurrent
#                 clients (wrk), first with 100 models registered, then with 10,000.
#                 Target: p50 grows by at most 1.5x.
#   (b) mirror    stage changes at 100 per second through the gateway for BENCH_MIRROR_SECONDS,
#                 mirrored to MLflow: registry-service's MLflow test server (MlflowTestServer, the
#                 MLflow Model Registry endpoints as MLflow documents them, with state), run on its
#                 own. How long each change takes to reach MLflow while they come, and how long the
#                 mirror needs to catch up (bench/registry/mirror_load.py).
#
# Starts its own devstack, registry-service and gateway (data in a temporary folder, free loopback
# ports, so a running ./mlinfra is left alone) and removes everything it started when it ends.
# Models are inserted straight into registry-service's tables (what months of registrations leave;
# registering needs completed training jobs). Installs wrk, curl, python3, openssl and psql with
# apt-get when they are missing; builds what is missing or stale.
#
# Settings (environment): BENCH_DURATION (each measured read case, default 15s), BENCH_CONNECTIONS
# (default 32), BENCH_MODELS_SMALL (default 100), BENCH_MODELS_LARGE (default 10000),
# BENCH_MIRROR_RATE (stage changes per second, default 100), BENCH_MIRROR_SECONDS (default 20),
# BENCH_SKIP_READS=1 / BENCH_SKIP_MIRROR=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
DURATION=${BENCH_DURATION:-15s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
MODELS_SMALL=${BENCH_MODELS_SMALL:-100}
MODELS_LARGE=${BENCH_MODELS_LARGE:-10000}
MIRROR_RATE=${BENCH_MIRROR_RATE:-100}
MIRROR_SECONDS=${BENCH_MIRROR_SECONDS:-20}
START_TIMEOUT=180

WORK=
GATEWAY_PORT=
declare -a PIDS=()




sql() { sql_on registry "$@"; }

# Adds models with one version each, as team default, until the team has N.
add_models() {
  local n=$1
  sql <<EOF
INSERT INTO model (team, model_id, model_type, description, created_at, updated_at, versions, current_version,
                   current_stage, status)
SELECT 'default', 'bench-' || n, CASE WHEN n % 3 = 0 THEN 'maverick' ELSE 'scout' END, 'registered by the benchmark',
       now() - make_interval(secs => n), now(), 1, 'v1.0.0', CASE WHEN n % 5 = 0 THEN 'production' ELSE 'none' END, 'active'
FROM generate_series((SELECT count(*) FROM model WHERE team = 'default') + 1, $n) AS n;
INSERT INTO model_version (model_ref, team, model_id, version, minor, training_job_id, artifact, metrics,
                           reported_metrics, stage, created_at, updated_at)
SELECT m.id, m.team, m.model_id, 'v1.0.0', 0, 'train-bench-' || m.id, 's3://mlinfra/bench/' || m.model_id || '/adapter/',
       '{"eval_loss": 1.6, "accuracy": 0.6, "f1": 0.55}', '{}', m.current_stage, m.created_at, m.created_at
FROM model m WHERE NOT EXISTS (SELECT 1 FROM model_version v WHERE v.model_ref = m.id);
-- What autovacuum does within a minute of such an insert; measuring before it would measure plans
-- made for a table of the old size.
ANALYZE model;
ANALYZE model_version;
EOF
}

# wrk with CONNECTIONS for DURATION on URL; prints wrk_summary's line (requests/s, p50, p99, non-2xx, errors).
measure() {
  local url=$1 out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "x-api-key: $API_KEY" "$url")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  wrk_summary <<<"$out"
}

reads() {
  add_models "$MODELS_SMALL"
  local newest one_small list_small one_large list_large have
  newest=$(api GET "/v1/models?limit=1" | json_path '["models"][0]["model_id"]')
  say ""
  say "(a) reads through the gateway, wrk -t2 -c$CONNECTIONS -d$DURATION"
  # Warm-up, not measured: both requests once before either is measured (the JVMs compile).
  measure "http://127.0.0.1:$GATEWAY_PORT/v1/models/$newest" >/dev/null
  measure "http://127.0.0.1:$GATEWAY_PORT/v1/models?limit=10" >/dev/null
  one_small=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/models/$newest")
  list_small=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/models?limit=10")
  add_models "$MODELS_LARGE"
  have=$(api GET "/v1/models?limit=1" | json_path '["total"]')
  one_large=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/models/$newest")
  list_large=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/models?limit=10")
  say ""
  say "| request | models | requests/s | p50 (ms) | p99 (ms) | non-2xx |"
  say "|---|---:|---:|---:|---:|---:|"
  local row what models numbers
  for row in "GET one model|$MODELS_SMALL|$one_small" "GET one model|$have|$one_large" \
    "GET list (limit 10)|$MODELS_SMALL|$list_small" "GET list (limit 10)|$have|$list_large"; do
    IFS='|' read -r what models numbers <<<"$row"
    # shellcheck disable=SC2086
    set -- $numbers
    say "| $what | $models | $1 | $2 | $3 | $4 |"
  done
  awk -v a="$one_small" -v b="$one_large" -v c="$list_small" -v d="$list_large" 'BEGIN {
    split(a, A, " "); split(b, B, " "); split(c, C, " "); split(d, D, " ")
    printf "\np50 growth: GET one model %.2fx, GET list %.2fx (target <= 1.5x: %s)\n", B[2] / A[2], D[2] / C[2],
      (B[2] / A[2] <= 1.5 && D[2] / C[2] <= 1.5 ? "met" : "NOT met")
  }'
}

# Sends stage changes at MIRROR_RATE per second for MIRROR_SECONDS (alternating two of the bench
# models between staging and production) while sampling how many the emulator has applied.
mirror() {
  [ "$(api GET "/v1/models?limit=1" | json_path '["total"]')" -ge 50 ] || add_models 50
  say ""
  say "(b) MLflow mirror: $MIRROR_RATE stage changes per second for $MIRROR_SECONDS s through the gateway"
  python3 "$ROOT/bench/registry/mirror_load.py" --gateway "http://127.0.0.1:$GATEWAY_PORT" --key "$API_KEY" \
    --mlflow "http://127.0.0.1:$MLFLOW_PORT" --rate "$MIRROR_RATE" --seconds "$MIRROR_SECONDS" \
    --metrics "http://127.0.0.1:$(management_port registry-service)/q/metrics"
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

  WORK=$(mktemp -d /tmp/mlinfra-bench-registry.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"
  say "starting devstack, the MLflow test server, registry-service and gateway (work folder $WORK)"
  start_devstack gateway,registry
  free_port; REGISTRY_PORT=$PORT
  free_port; GATEWAY_PORT=$PORT
  free_port; MLFLOW_PORT=$PORT
  local mlflow_token
  mlflow_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  background mlflow java -Xmx256m -cp "$ROOT/registry-service/target/test-classes:$ROOT/registry-service/target/classes:$ROOT/registry-service/target/quarkus-app/lib/main/*" \
    dev.mlinfra.registry.mirror.MlflowTestServer --port "$MLFLOW_PORT" --token "$mlflow_token"
  local -a opts
  mapfile -t opts < <(app_options registry)
  background registry-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$REGISTRY_PORT" \
    "-Dmlinfra.registry.mlflow.url=http://127.0.0.1:$MLFLOW_PORT" "-Dmlinfra.registry.mlflow.token=$mlflow_token" \
    -jar "$ROOT/registry-service/target/quarkus-app/quarkus-run.jar"
  local key_id
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  API_KEY="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  mapfile -t opts < <(app_options gateway)
  MLINFRA_BOOTSTRAP_API_KEY=$API_KEY background gateway java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$GATEWAY_PORT" \
    "-Dmlinfra.identity.current-key=bench" \
    "-Dmlinfra.identity.keys.bench.public-key-location=$WORK/keys/identity-public.pem" \
    "-Dmlinfra.identity.keys.bench.private-key-location=$WORK/keys/identity-private.pem" \
    "-Dmlinfra.gateway.services.registry.url=http://127.0.0.1:$REGISTRY_PORT" \
    "-Dmlinfra.gateway.rate-limit.limits.inference=100000000" "-Dmlinfra.gateway.rate-limit.limits.model=100000000" \
    -jar "$ROOT/gateway/target/quarkus-app/quarkus-run.jar"
  wait_ready registry-service "$REGISTRY_PORT" "${PIDS[2]}"
  wait_ready gateway "$GATEWAY_PORT" "${PIDS[3]}"

  [ "${BENCH_SKIP_READS:-0}" = 1 ] || reads
  [ "${BENCH_SKIP_MIRROR:-0}" = 1 ] || mirror
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the numbers are skewed by it"
  fi
}

main "$@"
