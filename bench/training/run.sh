#!/usr/bin/env bash
# Training benchmark, two parts in one run:
#   (a) overhead  the wall time of a real training job through the platform (POST through the
#                 gateway until GET says completed: dataset check, GPU grant over Kafka, trainer
#                 launch, progress, completion) against the same trainer spec run directly
#                 (llm-engine's train command, same JVM options), alternated BENCH_RUNS times.
#                 Target: the platform adds at most 10 % or 10 s, whichever is larger.
#   (b) reads     GET one job and GET the list of jobs through the gateway with 32 concurrent
#                 clients (wrk), first with 100 jobs in the table, then with 10,000.
#                 Target: p50 grows by at most 1.5x.
#
# Starts its own devstack, dataset-service, infra-service, training-service and gateway (data in
# a temporary folder, free loopback ports, so a running ./mlinfra is left alone) and removes
# everything it started when it ends. Installs wrk, curl, python3 and psql with apt-get when they
# are missing; builds what is missing or stale.
#
# Settings (environment): BENCH_RUNS (runs of each path in (a), default 2), BENCH_DURATION (each
# measured case in (b), default 15s), BENCH_CONNECTIONS (default 32), BENCH_JOBS_SMALL (default
# 100), BENCH_JOBS_LARGE (default 10000), BENCH_SKIP_OVERHEAD=1 / BENCH_SKIP_READS=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
RUNS=${BENCH_RUNS:-2}
DURATION=${BENCH_DURATION:-15s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
JOBS_SMALL=${BENCH_JOBS_SMALL:-100}
JOBS_LARGE=${BENCH_JOBS_LARGE:-10000}
START_TIMEOUT=180
JOB_TIMEOUT=900
TRAINER_OPTS="-Xmx1g -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED"
# The job both paths run: the sample dataset, one epoch, a short evaluation.
JOB_CONFIG='{"learning_rate": 0.004, "batch_size": 8, "epochs": 1, "max_seq_len": 256, "max_eval_records": 8, "max_new_tokens": 64, "eval_base": false, "seed": 7}'
WARMUP_CONFIG='{"learning_rate": 0.004, "batch_size": 4, "max_steps": 3, "max_seq_len": 128, "max_eval_records": 1, "max_new_tokens": 4, "eval_base": false}'

WORK=
GATEWAY_PORT=
declare -a PIDS=()

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }



# POSTs a job with CONFIG and prints its id.
post_job() {
  local config=$1 name=$2
  api POST /v1/training/jobs -H 'Content-Type: application/json' \
    -d "{\"model_type\": \"scout\", \"dataset_id\": \"bench-sample\", \"config\": $config, \"experiment_name\": \"$name\"}" |
    json_path '["job_id"]'
}

# Waits until the job is completed; fails the benchmark otherwise.
await_completed() {
  local job=$1 status waited=0
  while :; do
    status=$(api GET "/v1/training/jobs/$job" | json_path '["status"]')
    case "$status" in
      completed) return 0 ;;
      failed|cancelled) die "job $job ended $status: $(api GET "/v1/training/jobs/$job")" ;;
    esac
    [ "$waited" -ge $((JOB_TIMEOUT * 4)) ] && die "job $job did not complete within ${JOB_TIMEOUT}s"
    sleep 0.25
    waited=$((waited + 1))
  done
}

# Writes a trainer spec like training-service's for OUTPUT to FILE (printed: the path).
direct_spec() {
  local name=$1 state="$WORK/devstack.properties"
  python3 - "$WORK/$name.json" "$name" "$JOB_CONFIG" <<EOF
import json, sys
path, name, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = {
  "job_id": name, "team": "default", "model_type": "scout",
  "dataset": {"location": "s3://mlinfra/datasets/default/bench-sample/v1/data.jsonl", "format": "jsonl"},
  "config": config, "output": "s3://mlinfra/bench/" + name + "/",
  "s3": {"endpoint": "$(prop "$state" s3.endpoint)", "access_key": "$(prop "$state" s3.access-key)",
         "secret_key": "$(prop "$state" s3.secret-key)", "region": "$(prop "$state" s3.region)"},
  "kafka": {"bootstrap_servers": "$(prop "$state" kafka.bootstrap.servers)", "topic": "mlinfra.training.progress",
            "job_id": name, "team": "default"}}
json.dump(spec, open(path, "w"))
print(path)
EOF
}

run_direct() {
  local name=$1 spec
  spec=$(direct_spec "$name")
  # shellcheck disable=SC2086 # the trainer's JVM options are a space-separated list
  java $TRAINER_OPTS "-Dmlinfra.data-dir=$WORK/engine" $DJL_CACHE -jar "$ROOT/llm-engine/target/llm-engine.jar" \
    train --spec "$spec" >"$WORK/$name.log" 2>&1 || die "the direct run $name failed: $(tail -n 5 "$WORK/$name.log")"
}

# wrk with CONNECTIONS for DURATION on URL; prints wrk_summary's line (requests/s, p50, p99, non-2xx, errors).
measure() {
  local url=$1 out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "x-api-key: $API_KEY" "$url")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  wrk_summary <<<"$out"
}

# Adds N finished jobs of team default straight to training-service's table (what months of use leave).
add_jobs() {
  local n=$1
  sql_on training <<EOF
INSERT INTO training_job (id, job_id, team, model_type, dataset_id, dataset, config, experiment_name, status,
                          created_at, updated_at, started_at, finished_at, output_uri, backend, attempts, metrics)
SELECT n, 'train-' || n, 'default', CASE WHEN n % 3 = 0 THEN 'maverick' ELSE 'scout' END, 'bench-sample',
       '{"uri": "s3://mlinfra/datasets/default/bench-sample/v1/data.jsonl", "format": "jsonl"}',
       '{"epochs": 1}', 'history', CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'completed' END,
       now() - make_interval(secs => n), now(), now(), now(), 's3://mlinfra/training/default/train-' || n || '/',
       'local', 1, '{"eval_loss": 1.5, "accuracy": 0.5}'
FROM (SELECT nextval('training_job_number') AS n FROM generate_series(1, $n)) AS s;
EOF
}

main() {
  [ "$(id -u)" = 0 ] || command -v wrk >/dev/null || die "run as root (apt-get installs wrk) or install it first"
  LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
  require_tools wrk curl python3 openssl psql
  PSQL=$(find_psql)
  "$ROOT/mlinfra" build
  # shellcheck source=../../.mvn/jdk.sh disable=SC1091
  source "$ROOT/.mvn/jdk.sh"
  DJL_CACHE=
  [ -d "$ROOT/llm-engine/target/djl-cache" ] && DJL_CACHE="-Dmlinfra.djl.cache-dir=$ROOT/llm-engine/target/djl-cache"

  WORK=$(mktemp -d /tmp/mlinfra-bench-training.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"
  say "starting devstack, dataset-, infra-, training-service and gateway (work folder $WORK)"
  start_devstack gateway,datasets,training,infra
  local p_datasets p_infra p_training
  free_port; p_datasets=$PORT
  free_port; p_infra=$PORT
  free_port; p_training=$PORT
  free_port; GATEWAY_PORT=$PORT
  local -a opts
  mapfile -t opts < <(app_options datasets)
  background dataset-service java -Xmx384m $MLINFRA_DATASETS_JVM_OPTS "${opts[@]}" "-Dquarkus.http.port=$p_datasets" \
    "-Dquarkus.rest-client.training.url=http://127.0.0.1:$p_training" \
    -jar "$ROOT/dataset-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options infra)
  background infra-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$p_infra" \
    -jar "$ROOT/infra-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options training)
  background training-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$p_training" \
    "-Dquarkus.rest-client.datasets.url=http://127.0.0.1:$p_datasets" \
    "-Dquarkus.rest-client.gpu-ledger.url=http://127.0.0.1:$p_infra" \
    "-Dmlinfra.training.local.engine-jar=$ROOT/llm-engine/target/llm-engine.jar" \
    "-Dmlinfra.training.local.work-dir=$WORK/training" "-Dmlinfra.training.local.engine-data-dir=$WORK/engine" \
    "-Dmlinfra.training.local.jvm-options=$TRAINER_OPTS $DJL_CACHE" \
    -jar "$ROOT/training-service/target/quarkus-app/quarkus-run.jar"
  local key_id
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  API_KEY="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  mapfile -t opts < <(app_options gateway)
  MLINFRA_BOOTSTRAP_API_KEY=$API_KEY background gateway java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$GATEWAY_PORT" \
    "-Dmlinfra.identity.current-key=bench" \
    "-Dmlinfra.identity.keys.bench.public-key-location=$WORK/keys/identity-public.pem" \
    "-Dmlinfra.identity.keys.bench.private-key-location=$WORK/keys/identity-private.pem" \
    "-Dmlinfra.gateway.services.datasets.url=http://127.0.0.1:$p_datasets" \
    "-Dmlinfra.gateway.services.training.url=http://127.0.0.1:$p_training" \
    "-Dmlinfra.gateway.services.infrastructure.url=http://127.0.0.1:$p_infra" \
    "-Dmlinfra.gateway.rate-limit.limits.training=100000000" "-Dmlinfra.gateway.rate-limit.limits.data=100000000" \
    -jar "$ROOT/gateway/target/quarkus-app/quarkus-run.jar"
  local i
  wait_ready dataset-service "$p_datasets" "${PIDS[1]}"
  wait_ready infra-service "$p_infra" "${PIDS[2]}"
  wait_ready training-service "$p_training" "${PIDS[3]}"
  wait_ready gateway "$GATEWAY_PORT" "${PIDS[4]}"

  local upload
  upload=$(api POST /v1/datasets/upload -H 'Content-Type: application/json' \
    -d '{"name": "bench-sample", "description": "", "source": "github", "format": "jsonl", "version": "v1"}' |
    json_path '["upload_url"]')
  [ "$(curl -s -X PUT "$upload" -H "x-api-key: $API_KEY" --data-binary @"$ROOT/samples/datasets/gitops-issues.jsonl" |
    json_path '["status"]')" = ready ] || die "the sample dataset did not become ready"

  if [ "${BENCH_SKIP_OVERHEAD:-0}" != 1 ]; then
    say "warming up: a short job through the platform (base model, PyTorch library) and one direct run"
    await_completed "$(post_job "$WARMUP_CONFIG" warm-up)"
    local saved=$JOB_CONFIG
    JOB_CONFIG=$WARMUP_CONFIG
    run_direct warm-up-direct
    JOB_CONFIG=$saved
    local -a direct=() platform=()
    local start job
    for ((i = 1; i <= RUNS; i++)); do
      start=$(now)
      run_direct "direct-$i"
      direct+=("$(since "$start")")
      start=$(now)
      job=$(post_job "$JOB_CONFIG" "platform-$i")
      await_completed "$job"
      platform+=("$(since "$start")")
      say "  run $i: direct ${direct[-1]} s, platform ${platform[-1]} s ($job)"
    done
    say ""
    say "(a) one job (sample dataset, 1 epoch, batch 8, max_seq_len 256, 8 evaluated records), $(date -u +%Y-%m-%d), $(nproc) cores"
    say ""
    say "| run | direct (s) | platform (s) | added (s) | added (%) |"
    say "|---|---:|---:|---:|---:|"
    for ((i = 0; i < RUNS; i++)); do
      awk -v r=$((i + 1)) -v d="${direct[i]}" -v p="${platform[i]}" \
        'BEGIN { printf "| %d | %.1f | %.1f | %.1f | %.0f %% |\n", r, d, p, p - d, (p - d) / d * 100 }'
    done
    awk -v d="${direct[*]}" -v p="${platform[*]}" 'BEGIN {
      n = split(d, D, " "); split(p, P, " "); sd = 0; sp = 0
      for (i = 1; i <= n; i++) { sd += D[i]; sp += P[i] }
      sd /= n; sp /= n; added = sp - sd; allowed = (sd * 0.1 > 10 ? sd * 0.1 : 10)
      printf "\nmean: direct %.1f s, platform %.1f s, added %.1f s (%.0f %%); target: at most %.1f s (10 %% or 10 s): %s\n",
        sd, sp, added, added / sd * 100, allowed, (added <= allowed ? "met" : "NOT met")
    }'
  fi

  if [ "${BENCH_SKIP_READS:-0}" != 1 ]; then
    local have
    have=$(api GET "/v1/training/jobs?limit=1" | json_path '["total"]')
    [ "$have" -lt "$JOBS_SMALL" ] && add_jobs $((JOBS_SMALL - have))
    local newest one_small list_small one_large list_large
    newest=$(api GET "/v1/training/jobs?limit=1" | json_path '["jobs"][0]["job_id"]')
    say ""
    say "(b) reads through the gateway, wrk -t2 -c$CONNECTIONS -d$DURATION"
    measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs/$newest" >/dev/null
    one_small=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs/$newest")
    measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs?limit=10" >/dev/null
    list_small=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs?limit=10")
    add_jobs $((JOBS_LARGE - JOBS_SMALL))
    have=$(api GET "/v1/training/jobs?limit=1" | json_path '["total"]')
    newest=$(api GET "/v1/training/jobs?limit=1" | json_path '["jobs"][0]["job_id"]')
    measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs/$newest" >/dev/null
    one_large=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs/$newest")
    list_large=$(measure "http://127.0.0.1:$GATEWAY_PORT/v1/training/jobs?limit=10")
    say ""
    say "| request | jobs | requests/s | p50 (ms) | p99 (ms) | non-2xx |"
    say "|---|---:|---:|---:|---:|---:|"
    local row
    for row in "GET one job|$JOBS_SMALL|$one_small" "GET one job|$have|$one_large" \
      "GET list (limit 10)|$JOBS_SMALL|$list_small" "GET list (limit 10)|$have|$list_large"; do
      IFS='|' read -r what jobs numbers <<<"$row"
      # shellcheck disable=SC2086
      set -- $numbers
      say "| $what | $jobs | $1 | $2 | $3 | $4 |"
    done
    awk -v a="$one_small" -v b="$one_large" -v c="$list_small" -v d="$list_large" 'BEGIN {
      split(a, A, " "); split(b, B, " "); split(c, C, " "); split(d, D, " ")
      printf "\np50 growth: GET one job %.2fx, GET list %.2fx (target <= 1.5x: %s)\n", B[2] / A[2], D[2] / C[2],
        (B[2] / A[2] <= 1.5 && D[2] / C[2] <= 1.5 ? "met" : "NOT met")
    }'
  fi
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the numbers are skewed by it"
  fi
}

main "$@"
