#!/usr/bin/env bash
# Inference benchmark, three parts in one run, on a model trained, registered and deployed
# through the platform (a short real training job on the sample dataset):
#   (a) overhead  POST /v1/inference through the gateway and inference-service against the same
#                 generation asked of model-server directly (/v1/completions with the rendered
#                 prompt under the adapter's name), max_tokens 1, one connection each, the
#                 three paths in turn (one request each, load.py turns). Target: at most 2 ms
#                 added at p50.
#   (b) tokens/s  8 concurrent clients for BENCH_SECONDS each path, max_tokens 64, temperature 0.
#                 Target: the platform gives at least 0.9x of direct.
#   (c) staging   the model archived, then moved to staging: time until the first successful
#                 POST /v1/inference (the model's server already runs), BENCH_STAGING_RUNS times.
#                 Target: at most 5 s.
#
# Starts its own devstack and the six applications (data in a temporary folder, free loopback
# ports, so a running ./mlinfra is left alone) and removes everything it started when it ends.
# Installs wrk, curl (with --aws-sigv4), python3 and openssl with apt-get when they are missing;
# builds what is missing or stale.
#
# Settings (environment): BENCH_TURNS (seconds of each round of (a), default 45), BENCH_SECONDS
# (each path in (b), default 30), BENCH_CLIENTS (default 8), BENCH_STAGING_RUNS (default 5),
# BENCH_ROUNDS (measured rounds in (a), default 2), BENCH_WARMUP (seconds of one-token load on the
# gateway path before (a), default 180) with BENCH_WARMUP_CONNECTIONS (default 1) connections,
# BENCH_PARTS (which parts, default abc),
# BENCH_INFERENCE_OPTS and BENCH_GATEWAY_OPTS (extra JVM options of inference-service and of the gateway,
# e.g. a flight recording).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
TURNS=${BENCH_TURNS:-45}
SECONDS_EACH=${BENCH_SECONDS:-30}
CLIENTS=${BENCH_CLIENTS:-8}
STAGING_RUNS=${BENCH_STAGING_RUNS:-5}
ROUNDS=${BENCH_ROUNDS:-2}
WARMUP=${BENCH_WARMUP:-180}
WARMUP_CONNECTIONS=${BENCH_WARMUP_CONNECTIONS:-1}
PARTS=${BENCH_PARTS:-abc}
INFERENCE_OPTS=${BENCH_INFERENCE_OPTS:-}
GATEWAY_OPTS=${BENCH_GATEWAY_OPTS:-}
START_TIMEOUT=180
JOB_CONFIG='{"learning_rate": 0.004, "batch_size": 4, "max_steps": 20, "max_seq_len": 256, "max_eval_records": 1, "max_new_tokens": 4, "eval_base": false, "seed": 7}'
INPUT='{"repository": "argoproj/argo-cd", "issue_title": "Application stuck in OutOfSync", "issue_description": "After upgrading every app shows OutOfSync although nothing changed."}'

WORK=
GATEWAY_PORT=
declare -a PIDS=()


ensure_tools() {
  require_curl_sigv4
  require_tools wrk python3 openssl
}

# An object of the object store, signed as S3 wants it.
s3_get() {
  local state="$WORK/devstack.properties"
  curl -sf --aws-sigv4 "aws:amz:$(prop "$state" s3.region):s3" \
    --user "$(prop "$state" s3.access-key):$(prop "$state" s3.secret-key)" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$(prop "$state" s3.endpoint)/mlinfra/$1"
}

# wrk POSTing BODY to URL with C connections (HEADER optional) for WARMUP seconds; prints wrk_summary's line.
wrk_post() {
  local url=$1 body=$2 connections=$3 header=${4:-} script="$WORK/post-$RANDOM.lua"
  python3 - "$script" "$body" "$header" <<'PY'
import json, sys
path, body, header = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write("wrk.body = " + json.dumps(body) + "\n")
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    if header:
        name, value = header.split(": ", 1)
        f.write("wrk.headers[" + json.dumps(name) + "] = " + json.dumps(value) + "\n")
PY
  local out
  out=$(wrk -t1 -c"$connections" -d"$WARMUP"s --latency -s "$script" "$url")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  wrk_summary <<<"$out"
}

# CPU clock ticks used so far by the gateway, inference-service (without its children) and the
# model servers it started, then the JIT compiler threads of the first two, as
# "gateway inference-service model-servers gateway-jit inference-service-jit".
platform_cpu_ticks() {
  local gateway=${PIDS[6]} inference=${PIDS[5]} servers=0 pid
  for pid in $(pgrep -P "$inference" || true); do
    servers=$((servers + $(cpu_ticks "$pid")))
  done
  echo "$(cpu_ticks "$gateway") $(own_cpu_ticks "$inference") $servers $(compiler_ticks "$gateway") $(compiler_ticks "$inference")"
}


main() {
  ensure_tools
  "$ROOT/mlinfra" build
  # shellcheck source=../../.mvn/jdk.sh disable=SC1091
  source "$ROOT/.mvn/jdk.sh"
  WORK=$(mktemp -d /tmp/mlinfra-bench-inference.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"
  say "starting devstack and the six applications (work folder $WORK)"
  start_devstack gateway,datasets,training,registry,inference,infra
  local p_datasets p_infra p_training p_registry p_inference
  free_port; p_datasets=$PORT
  free_port; p_infra=$PORT
  free_port; p_training=$PORT
  free_port; p_registry=$PORT
  free_port; p_inference=$PORT
  free_port; GATEWAY_PORT=$PORT
  local -a opts
  mapfile -t opts < <(app_options datasets)
  background dataset-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$p_datasets" \
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
    -jar "$ROOT/training-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options registry)
  background registry-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$p_registry" \
    "-Dquarkus.rest-client.training.url=http://127.0.0.1:$p_training" \
    -jar "$ROOT/registry-service/target/quarkus-app/quarkus-run.jar"
  mapfile -t opts < <(app_options inference)
  # shellcheck disable=SC2086 # the extra options are a space-separated list
  background inference-service java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$p_inference" \
    "-Dquarkus.rest-client.registry.url=http://127.0.0.1:$p_registry" \
    "-Dmlinfra.inference.local.model-server-jar=$ROOT/model-server/target/quarkus-app/quarkus-run.jar" \
    "-Dmlinfra.inference.local.work-dir=$WORK/serving" "-Dmlinfra.inference.local.engine-data-dir=$WORK/engine" \
    $INFERENCE_OPTS -jar "$ROOT/inference-service/target/quarkus-app/quarkus-run.jar"
  local key_id
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  API_KEY="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  mapfile -t opts < <(app_options gateway)
  # shellcheck disable=SC2086 # the extra options are a space-separated list
  MLINFRA_BOOTSTRAP_API_KEY=$API_KEY background gateway java -Xmx384m "${opts[@]}" "-Dquarkus.http.port=$GATEWAY_PORT" \
    "-Dmlinfra.identity.current-key=bench" \
    "-Dmlinfra.identity.keys.bench.public-key-location=$WORK/keys/identity-public.pem" \
    "-Dmlinfra.identity.keys.bench.private-key-location=$WORK/keys/identity-private.pem" \
    "-Dmlinfra.gateway.services.datasets.url=http://127.0.0.1:$p_datasets" \
    "-Dmlinfra.gateway.services.training.url=http://127.0.0.1:$p_training" \
    "-Dmlinfra.gateway.services.infrastructure.url=http://127.0.0.1:$p_infra" \
    "-Dmlinfra.gateway.services.registry.url=http://127.0.0.1:$p_registry" \
    "-Dmlinfra.gateway.services.inference.url=http://127.0.0.1:$p_inference" \
    "-Dmlinfra.gateway.rate-limit.limits.training=100000000" "-Dmlinfra.gateway.rate-limit.limits.data=100000000" \
    "-Dmlinfra.gateway.rate-limit.limits.model=100000000" "-Dmlinfra.gateway.rate-limit.limits.inference=100000000" \
    $GATEWAY_OPTS -jar "$ROOT/gateway/target/quarkus-app/quarkus-run.jar"
  wait_ready dataset-service "$p_datasets" "${PIDS[1]}"
  wait_ready infra-service "$p_infra" "${PIDS[2]}"
  wait_ready training-service "$p_training" "${PIDS[3]}"
  wait_ready registry-service "$p_registry" "${PIDS[4]}"
  wait_ready inference-service "$p_inference" "${PIDS[5]}"
  wait_ready gateway "$GATEWAY_PORT" "${PIDS[6]}"

  say "training a short job on the sample dataset, registering it and deploying it"
  local upload job status waited=0
  upload=$(api POST /v1/datasets/upload -H 'Content-Type: application/json' \
    -d '{"name": "bench-sample", "description": "", "source": "github", "format": "jsonl", "version": "v1"}' |
    json_path '["upload_url"]')
  [ "$(curl -s -X PUT "$upload" -H "x-api-key: $API_KEY" --data-binary @"$ROOT/samples/datasets/gitops-issues.jsonl" |
    json_path '["status"]')" = ready ] || die "the sample dataset did not become ready"
  job=$(api POST /v1/training/jobs -H 'Content-Type: application/json' \
    -d "{\"model_type\": \"scout\", \"dataset_id\": \"bench-sample\", \"config\": $JOB_CONFIG}" | json_path '["job_id"]')
  until [ "$(api GET "/v1/training/jobs/$job" | json_path '["status"]')" = completed ]; do
    status=$(api GET "/v1/training/jobs/$job" | json_path '["status"]')
    case "$status" in failed|cancelled) die "job $job ended $status" ;; esac
    [ "$waited" -ge 1200 ] && die "job $job did not complete within 10 minutes"
    sleep 0.5
    waited=$((waited + 1))
  done
  api POST /v1/models/register -H 'Content-Type: application/json' \
    -d "{\"model_id\": \"bench-scout\", \"model_type\": \"scout\", \"training_job_id\": \"$job\", \"stage\": \"production\"}" >/dev/null
  waited=0
  until [ "$(api GET /v1/deployments/bench-scout | json_path '.get("state")')" = ready ]; do
    [ "$waited" -ge 480 ] && die "bench-scout was not deployed within 4 minutes: $(api GET /v1/deployments/bench-scout)"
    sleep 0.5
    waited=$((waited + 1))
  done
  local served server prompt
  served=$(api GET /v1/deployments/bench-scout | json_path '["served_name"]')
  server=$(curl -s "http://127.0.0.1:$p_inference/internal/v1/inference/servers" \
    -H "x-mlinfra-identity: $(mint_identity_token "$key_id")" | json_path '["servers"][0]["url"]')
  # The prompt as inference-service renders it: the trainer's template, fields replaced in one pass.
  prompt=$(s3_get "training/default/$job/adapter/prompt_template.json" | python3 -c '
import json, re, sys
t = json.load(sys.stdin); values = json.loads(sys.argv[1])
print(re.sub(r"\{([a-z_]+)\}", lambda m: values[m.group(1)] if m.group(1) in t["fields"] else m.group(0), t["template"]), end="")' "$INPUT")
  [ -n "$prompt" ] || die "could not read the trainer's prompt template"

  local platform_one direct_one platform_many direct_many
  platform_one=$(python3 -c 'import json,sys; print(json.dumps({"model_id": "bench-scout", "input": json.loads(sys.argv[1]), "parameters": {"temperature": 0, "max_tokens": 1}}))' "$INPUT")
  direct_one=$(python3 -c 'import json,sys; print(json.dumps({"model": sys.argv[1], "prompt": sys.argv[2], "max_tokens": 1, "temperature": 0, "stop": ["<|eot|>"]}))' "$served" "$prompt")
  platform_many=${platform_one/\"max_tokens\": 1/\"max_tokens\": 64}
  direct_many=${direct_one/\"max_tokens\": 1/\"max_tokens\": 64}

  say "warming up both paths"
  for _ in $(seq 1 20); do
    api POST /v1/inference -H 'Content-Type: application/json' -d "$platform_one" >/dev/null
    curl -s -X POST "$server/v1/completions" -H 'Content-Type: application/json' -d "$direct_one" >/dev/null
  done
  python3 "$ROOT/bench/inference/load.py" tokens "http://127.0.0.1:$GATEWAY_PORT/v1/inference" "$API_KEY" "$platform_many" 5 "$CLIENTS" >/dev/null
  python3 "$ROOT/bench/inference/load.py" tokens "$server/v1/completions" "" "$direct_many" 5 "$CLIENTS" >/dev/null
  if [[ $PARTS == *a* ]] && [ "$WARMUP" -gt 0 ]; then
    # The JIT compiles a request path after thousands of requests, and a one-token generation
    # allows ~30 a second (more connections did not raise that: one prefill runs at a time), so
    # the warm-up takes minutes. The gateway path runs through inference-service and the model server.
    say "warming up the one-token path through the gateway for ${WARMUP}s with $WARMUP_CONNECTIONS connections (BENCH_WARMUP, BENCH_WARMUP_CONNECTIONS)"
    local rps
    read -r rps _ <<<"$(wrk_post "http://127.0.0.1:$GATEWAY_PORT/v1/inference" "$platform_one" "$WARMUP_CONNECTIONS" "x-api-key: $API_KEY")"
    say "    $rps requests/s"
  fi

  if [[ $PARTS == *a* ]]; then
  say ""
  say "(a) max_tokens 1, one connection per path, the three paths in turn (one request each) for ${TURNS}s a round,"
  say "    $(date -u +%Y-%m-%d), $(nproc) cores; an unreported round first, then $ROUNDS measured (the table shows the last)"
  local identity round cpu_before cpu_after out cpu_a name n p50 p99 errors
  local -A count median tail failed
  identity="x-mlinfra-identity: $(mint_identity_token "$key_id")"
  for round in $(seq 0 "$ROUNDS"); do
    cpu_before=$(platform_cpu_ticks)
    out=$(python3 "$ROOT/bench/inference/load.py" turns "$TURNS" \
      direct "$server/v1/completions" "$direct_one" "" \
      service "http://127.0.0.1:$p_inference/v1/inference" "$platform_one" "$identity" \
      gateway "http://127.0.0.1:$GATEWAY_PORT/v1/inference" "$platform_one" "x-api-key: $API_KEY")
    cpu_after=$(platform_cpu_ticks)
    while read -r name n p50 p99 errors; do
      count[$name]=$n; median[$name]=$p50; tail[$name]=$p99; failed[$name]=$errors
    done <<<"$out"
    # The gateway serves its path; inference-service that path and its own; the model server all three.
    cpu_a=$(awk -v b="$cpu_before" -v a="$cpu_after" -v g="${count[gateway]}" -v s="${count[service]}" \
      -v d="${count[direct]}" -v hz="$CLK_TCK" 'BEGIN {
      split(b, B, " "); split(a, A, " "); f = 1000 / hz
      printf "gateway %.3f, inference-service %.3f, model server %.3f (JIT compilers: gateway %.3f, inference-service %.3f)",
        (A[1] - B[1]) * f / (g > 0 ? g : 1), (A[2] - B[2]) * f / (g + s > 0 ? g + s : 1),
        (A[3] - B[3]) * f / (g + s + d > 0 ? g + s + d : 1), (A[4] - B[4]) * f / (g > 0 ? g : 1),
        (A[5] - B[5]) * f / (g + s > 0 ? g + s : 1) }')
    if [ "$round" -gt 0 ]; then
      say "    round $round: p50 direct ${median[direct]}, inference-service ${median[service]}, gateway ${median[gateway]} ms"
      say "      CPU ms per request it served: $cpu_a"
    fi
  done
  say ""
  say "| path | requests | p50 (ms) | p99 (ms) | errors |"
  say "|---|---:|---:|---:|---:|"
  say "| model-server directly | ${count[direct]} | ${median[direct]} | ${tail[direct]} | ${failed[direct]} |"
  say "| inference-service (no gateway) | ${count[service]} | ${median[service]} | ${tail[service]} | ${failed[service]} |"
  say "| gateway + inference-service | ${count[gateway]} | ${median[gateway]} | ${tail[gateway]} | ${failed[gateway]} |"
  awk -v d="${median[direct]}" -v s="${median[service]}" -v p="${median[gateway]}" -v d99="${tail[direct]}" \
    -v p99="${tail[gateway]}" 'BEGIN {
    printf "\nadded: p50 %.2f ms (inference-service %.2f, gateway %.2f), p99 %.2f ms; target: at most 2 ms at p50: %s\n",
      p - d, s - d, p - s, p99 - d99, (p - d <= 2 ? "met" : "NOT met") }'
  fi

  if [[ $PARTS == *b* ]]; then
  say ""
  say "(b) $CLIENTS concurrent clients, max_tokens 64, temperature 0, ${SECONDS_EACH}s each"
  local direct_b platform_b
  direct_b=$(python3 "$ROOT/bench/inference/load.py" tokens "$server/v1/completions" "" "$direct_many" "$SECONDS_EACH" "$CLIENTS")
  platform_b=$(python3 "$ROOT/bench/inference/load.py" tokens "http://127.0.0.1:$GATEWAY_PORT/v1/inference" "$API_KEY" \
    "$platform_many" "$SECONDS_EACH" "$CLIENTS")
  say ""
  say "| path | requests | tokens | seconds | tokens/s | errors |"
  say "|---|---:|---:|---:|---:|---:|"
  awk -v n="model-server directly" -v r="$direct_b" 'BEGIN { split(r, R, " "); printf "| %s | %d | %d | %.1f | %.1f | %d |\n", n, R[1], R[2], R[3], R[2] / R[3], R[4] }'
  awk -v n="gateway + inference-service" -v r="$platform_b" 'BEGIN { split(r, R, " "); printf "| %s | %d | %d | %.1f | %.1f | %d |\n", n, R[1], R[2], R[3], R[2] / R[3], R[4] }'
  awk -v d="$direct_b" -v p="$platform_b" 'BEGIN { split(d, D, " "); split(p, P, " "); ratio = (P[2] / P[3]) / (D[2] / D[3])
    printf "\nratio platform/direct: %.2fx; target: at least 0.9x: %s\n", ratio, (ratio >= 0.9 ? "met" : "NOT met") }'
  fi

  [[ $PARTS == *c* ]] || return 0
  say ""
  say "(c) archived -> staging -> first successful POST /v1/inference, $STAGING_RUNS runs (server running)"
  local times
  times=$(python3 "$ROOT/bench/inference/load.py" staging "http://127.0.0.1:$GATEWAY_PORT" "$API_KEY" bench-scout \
    "$platform_one" "$STAGING_RUNS")
  say "runs (s): $(tr '\n' ' ' <<<"$times")"
  sort -n <<<"$times" | awk '{ v[NR] = $1 } END {
    printf "median %.2f s, max %.2f s; target: at most 5 s: %s\n", v[int((NR + 1) / 2)], v[NR], (v[NR] <= 5 ? "met" : "NOT met") }'
}

main "$@"
