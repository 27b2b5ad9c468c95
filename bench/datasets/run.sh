#!/usr/bin/env bash
# Dataset upload benchmark. Uploads one large JSONL file (about 500 MB) two ways, in one run:
#   platform  POST /v1/datasets/upload, then PUT the file to its upload_url:
#             curl --x-api-key--> gateway --identity token--> dataset-service --multipart--> S3;
#             dataset-service validates every record and computes the statistics while the
#             file streams through, and answers the PUT once the dataset is ready. Timed from
#             the start of the PUT until its response.
#   plain     one signed PUT of the same file straight to the object store (the devstack's
#             s3proxy), with curl --aws-sigv4.
# Each is run three times (interleaved), after a warm-up that ends when the JIT compilers of all
# three JVMs are idle; the table shows every run, the best and the mean, and the platform/plain
# throughput ratio against the target (platform >= 50% of plain). dataset-service runs with the
# JVM options ./mlinfra gives it (.mvn/jdk.sh) and -Xmx256m.
# A third, diagnostic path (once by default) shows what the gateway adds:
#   direct    the platform path without the gateway: the PUT goes straight to dataset-service
#             with an identity token minted as the gateway mints it.
# For every upload it also shows the CPU seconds that the gateway, dataset-service, the object
# store and curl used, which tells where the time goes.
# It also reports dataset-service's heap (it runs with -Xmx256m; peak heap before and after GC
# from its GC log), whether it logged an OutOfMemoryError, and its peak RSS (VmHWM).
#
# Starts its own devstack, dataset-service and gateway (data in a temporary folder under /tmp,
# free loopback ports, so a running ./mlinfra is left alone) and removes everything it started
# when it ends. The generated input file is kept (BENCH_INPUT_DIR) and reused by later runs.
# Installs curl (with --aws-sigv4), python3 and openssl with apt-get when they are missing;
# builds the jars when they are missing.
#
# Settings (environment): BENCH_DATASET_MB (input size in MB of 10^6 bytes, default 500),
# BENCH_RUNS (runs of each path, default 3), BENCH_DIRECT_RUNS (runs of the diagnostic direct
# path, default 1; 0 skips it), BENCH_INPUT_DIR (default
# /tmp/mlinfra-bench-datasets-input), BENCH_KEEP_WORK=1 (keep the work folder with the logs,
# minus the stored objects), BENCH_SERVICE_HEAP (default 256m), BENCH_SERVICE_OPTS and
# BENCH_GATEWAY_OPTS (more JVM options for dataset-service and the gateway, e.g. to record a
# profile).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/lib.sh disable=SC1091
source "$ROOT/bench/lib.sh"
HERE="$ROOT/bench/datasets"
DATASET_MB=${BENCH_DATASET_MB:-500}
RUNS=${BENCH_RUNS:-3}
DIRECT_RUNS=${BENCH_DIRECT_RUNS:-1}
INPUT_DIR=${BENCH_INPUT_DIR:-/tmp/mlinfra-bench-datasets-input}
SERVICE_HEAP=${BENCH_SERVICE_HEAP:-256m}
START_TIMEOUT=180
PUT_TIMEOUT=900
PLAIN_BUCKET=bench-plain

WORK=
declare -a PIDS=()

now() { date +%s.%N; }

# ---------------------------------------------------------------------------------------------
# Preparation


ensure_tools() {
  require_curl_sigv4
  require_tools python3 openssl
}

build_if_missing() {
  local artifact
  for artifact in devstack/target/devstack.jar gateway/target/quarkus-app/quarkus-run.jar \
    dataset-service/target/quarkus-app/quarkus-run.jar; do
    if [ ! -f "$ROOT/$artifact" ]; then
      say "building ($artifact is missing; a few minutes)"
      (cd "$ROOT" && ./mvnw -B -q -DskipTests install) || die "the build failed"
      return 0
    fi
  done
}

# Sets INPUT to the generated dataset, generating it when it is missing (the generator writes
# a .part file and renames it, so a file that is there is complete; its name holds the size).
INPUT=
ensure_input() {
  local target=$((DATASET_MB * 1000 * 1000))
  mkdir -p "$INPUT_DIR"
  INPUT="$INPUT_DIR/gitops-issues-${DATASET_MB}MB-v1.jsonl"
  local size=0
  [ -f "$INPUT" ] && size=$(stat -c %s "$INPUT")
  if [ "$size" -lt "$target" ] || [ "$size" -gt $((target + 65536)) ]; then
    say "generating $INPUT (${DATASET_MB} MB, deterministic)"
    rm -f "$INPUT"
    python3 "$HERE/generate.py" "$ROOT/samples/datasets/gitops-issues.jsonl" "$INPUT" "$target"
  else
    say "reusing $INPUT"
  fi
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_started "$status"
  if [ -n "$WORK" ]; then
    if [ "${BENCH_KEEP_WORK:-0}" = 1 ]; then
      rm -rf "$WORK/data"
      say "kept the logs in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$status"
}

# Prints field FIELD of the JSON object in FILE ('' when absent or not JSON).
json_field() {
  python3 - "$1" "$2" <<'EOF' 2>/dev/null || true
import json, sys
try:
    value = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    value = None
print("" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else value)
EOF
}

# ---------------------------------------------------------------------------------------------
# Measuring

GATEWAY_PORT=
SERVICE_PORT=
GATEWAY_PID=
SERVICE_PID=
DEVSTACK_PID=
IDENTITY_TOKEN=
API_KEY=
S3_ENDPOINT=
S3_USER=
S3_REGION=
declare -a S3_AUTH=()
SIZE=

# Deletes what an upload stored (DELETE on URL, with the curl options that follow), so that every
# run starts with the same object store, without gigabytes of earlier uploads waiting to be
# written to disk.
remove_after() {
  local url=$1
  shift
  curl -s -o /dev/null -X DELETE "$@" "$url" || true
}

# CPU seconds (user + system) a process and its threads have used so far ('0' once it is gone).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# "gateway service store" CPU seconds used so far (store: the devstack JVM, which runs s3proxy).
cpu_snapshot() {
  echo "$(cpu_seconds "$GATEWAY_PID") $(cpu_seconds "$SERVICE_PID") $(cpu_seconds "$DEVSTACK_PID")"
}

# CPU seconds each process used between two snapshots: "gateway service store".
cpu_used() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); printf "%.1f %.1f %.1f", y[1] - x[1], y[2] - x[2], y[3] - x[3] }'
}

# Runs curl with ARGS, timed by bash: prints curl's output, then its CPU seconds on a last line.
timed_curl() {
  local TIMEFORMAT='%U %S' t
  { t=$({ time curl "$@" >&3 2>"$CURL_LOG"; } 2>&1); } 3>&1 || true
  awk -v t="$t" 'BEGIN { split(t, x); printf "\n%.1f\n", x[1] + x[2] }'
}

# One upload through the platform. Prints "seconds http_status dataset_status expect_wait
# body_sent cpu_gateway cpu_service cpu_store cpu_curl" (expect_wait, body_sent: see
# curl_phases; cpu_*: CPU seconds each process used during the PUT). N names the run (and the
# dataset); with DIRECT=1 the PUT skips the gateway and goes to dataset-service with an
# identity token.
DIRECT=0
platform_upload() {
  local n=$1 file=$2 name="bench-upload-$1" gateway="http://127.0.0.1:$GATEWAY_PORT"
  local created="$WORK/platform-$n-created.json" answer="$WORK/platform-$n-answer.json"
  local code
  code=$(curl -s -o "$created" -w '%{http_code}' -X POST "$gateway/v1/datasets/upload" \
    -H "x-api-key: $API_KEY" -H "Content-Type: application/json" \
    -d "{\"name\": \"$name\", \"description\": \"upload benchmark run $n\", \"source\": \"github\", \"format\": \"jsonl\", \"version\": \"v1.0.0\"}")
  [ "$code" = 200 ] || die "POST /v1/datasets/upload answered $code: $(cat "$created")"
  local url
  url=$(json_field "$created" upload_url)
  [ -n "$url" ] || die "no upload_url in $(cat "$created")"

  local -a auth=(-H "x-api-key: $API_KEY")
  if [ "$DIRECT" = 1 ]; then
    url="http://127.0.0.1:$SERVICE_PORT${url#"$gateway"}"
    auth=(-H "x-mlinfra-identity: $IDENTITY_TOKEN")
  fi
  local before out timing curl_cpu
  before=$(cpu_snapshot)
  out=$(CURL_LOG="$WORK/platform-$n-curl.log" timed_curl -sv --trace-time -o "$answer" \
    -w '%{http_code} %{time_total}' --max-time "$PUT_TIMEOUT" \
    -T "$file" "${auth[@]}" -H "Content-Type: application/x-ndjson" "$url")
  timing=$(head -n 1 <<<"$out")
  curl_cpu=$(tail -n 1 <<<"$out")
  remove_after "$gateway/v1/datasets/$name" -H "x-api-key: $API_KEY"
  # shellcheck disable=SC2086
  set -- $timing
  echo "${2:-0} ${1:-000} $(json_field "$answer" status) $(curl_phases "$WORK/platform-$n-curl.log") $(cpu_used "$before" "$(cpu_snapshot)") $curl_cpu"
}

# From a curl --trace-time -v log: "expect_wait body_sent", seconds after the request line went
# out that curl waited in vain for a 100 Continue ('0' when it got one or sent no Expect) and
# that it finished sending the body.
curl_phases() {
  awk '
    function t(s,   a) { split(s, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    /> PUT / && !start { start = t($1) }
    /Done waiting for 100-continue/ { wait = t($1) - start }
    /We are completely uploaded/ { sent = t($1) - start }
    END { printf "%.1f %s\n", wait, (sent == "" ? "-" : sprintf("%.1f", sent)) }
  ' "$1" 2>/dev/null || echo "- -"
}

# One signed PUT of the file straight to the object store. Prints "seconds http_status
# cpu_store cpu_curl". The payload goes unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD, as S3
# allows): curl 7.88 does not send that header by itself, s3proxy refuses requests without it,
# and curl cannot hash a streamed body up front. (The platform signs its uploads the same way.)
plain_upload() {
  local n=$1 file=$2 before out timing
  before=$(cpu_snapshot)
  out=$(CURL_LOG="$WORK/plain-$n-curl.log" timed_curl -s -o "$WORK/plain-$n-answer.txt" \
    -w '%{http_code} %{time_total}' --max-time "$PUT_TIMEOUT" \
    --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_USER" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$file" \
    -H "Content-Type: application/x-ndjson" "$S3_ENDPOINT/$PLAIN_BUCKET/plain-$n/data.jsonl" -v --trace-time)
  timing=$(head -n 1 <<<"$out")
  # shellcheck disable=SC2086
  set -- $timing
  local used
  used=$(cpu_used "$before" "$(cpu_snapshot)")
  remove_after "$S3_ENDPOINT/$PLAIN_BUCKET/plain-$n/data.jsonl" "${S3_AUTH[@]}"
  echo "${2:-0} ${1:-000} ${used##* } $(tail -n 1 <<<"$out")"
}

# Diagnostic: one multipart upload of the file straight to the object store, in the platform's
# 16 MiB parts, sent one after another by one curl (one connection), then the completion; the
# parts were cut beforehand into PARTS_DIR. Shows what the object store itself spends on a
# multipart upload, which the platform has to use for large files and the plain PUT does not.
# Prints "seconds http_status cpu_store -".
PARTS_DIR=
declare -a MULTIPART=()
plain_multipart_upload() {
  local n=$1 url="$S3_ENDPOINT/$PLAIN_BUCKET/multipart-$1/data.jsonl"
  local -a s3=(--aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_USER" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
  local before start upload_id
  before=$(cpu_snapshot)
  start=$(now)
  upload_id=$(curl -s "${s3[@]}" -X POST "$url?uploads=" | sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p')
  [ -n "$upload_id" ] || { echo "0 000 0 -"; return 0; }
  local -a transfers=()
  local part i=0
  for part in "$PARTS_DIR"/part-*; do
    i=$((i + 1))
    transfers+=(-T "$part" "$url?partNumber=$i&uploadId=$upload_id")
  done
  local etags etag xml="<CompleteMultipartUpload>"
  etags=$(curl -s "${s3[@]}" -w '%header{etag}\n' "${transfers[@]}")
  i=0
  while read -r etag; do
    i=$((i + 1))
    xml="$xml<Part><PartNumber>$i</PartNumber><ETag>$etag</ETag></Part>"
  done <<<"$etags"
  local code used
  code=$(curl -s "${s3[@]}" -o "$WORK/multipart-$n-answer.txt" -w '%{http_code}' -X POST \
    -H "Content-Type: application/xml" --data-binary "$xml</CompleteMultipartUpload>" "$url?uploadId=$upload_id")
  grep -q '<Error>' "$WORK/multipart-$n-answer.txt" && code=500
  used=$(cpu_used "$before" "$(cpu_snapshot)")
  local seconds
  seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  remove_after "$url" "${s3[@]}"
  echo "$seconds $code ${used##* } -"
}

# Waits until no JIT compiler thread of the gateway, dataset-service or the object store used CPU
# for a second (at most a minute); prints how long that took.
await_idle_compilers() {
  local start previous="" current
  start=$(now)
  while awk -v a="$start" -v b="$(now)" 'BEGIN { exit !(b - a < 60) }'; do
    current="$(compiler_ticks "$GATEWAY_PID") $(compiler_ticks "$SERVICE_PID") $(compiler_ticks "$DEVSTACK_PID")"
    if [ "$current" = "$previous" ]; then
      awk -v a="$start" -v b="$(now)" 'BEGIN { printf "JIT compilers idle after %.0f s\n", b - a }'
      return 0
    fi
    previous=$current
    sleep 1
  done
  echo "JIT compilers still busy after 60 s"
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "-" }'; }

# Peak heap from a unified GC log (-Xlog:gc): max used before and after a collection.
gc_summary() {
  python3 - "$1" <<'EOF'
import re, sys
unit = {"K": 1 / 1024, "M": 1, "G": 1024}
pattern = re.compile(r"(\d+)([KMG])->(\d+)([KMG])\((\d+)([KMG])\)")
before = after = committed = 0
gcs = full = 0
collector = "?"
for line in open(sys.argv[1], errors="replace"):
    if "Using " in line and collector == "?":
        collector = line.rsplit("Using ", 1)[1].strip()
    m = pattern.search(line)
    if not m:
        continue
    gcs += 1
    if "Pause Full" in line:
        full += 1
    b = int(m.group(1)) * unit[m.group(2)]
    a = int(m.group(3)) * unit[m.group(4)]
    c = int(m.group(5)) * unit[m.group(6)]
    before, after, committed = max(before, b), max(after, a), max(committed, c)
print(f"{before:.0f} {after:.0f} {committed:.0f} {gcs} {full} {collector.replace(' ', '_')}")
EOF
}

vm_hwm_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }

# ---------------------------------------------------------------------------------------------

LOAD_AT_START=
main() {
  LOAD_AT_START=$(cut -d' ' -f1 /proc/loadavg)
  ensure_tools
  build_if_missing
  # shellcheck source=../../.mvn/jdk.sh disable=SC1091
  source "$ROOT/.mvn/jdk.sh"
  ensure_input
  SIZE=$(stat -c %s "$INPUT")
  local records
  records=$(wc -l <"$INPUT")

  WORK=$(mktemp -d /tmp/mlinfra-bench-datasets.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$WORK/keys"

  say "starting devstack, dataset-service and gateway (work folder $WORK)"
  start_devstack gateway,datasets -Xmx512m
  local state="$WORK/devstack.properties"
  S3_ENDPOINT=$(prop "$state" s3.endpoint)
  S3_ENDPOINT=${S3_ENDPOINT%/}
  S3_USER="$(prop "$state" s3.access-key):$(prop "$state" s3.secret-key)"
  S3_REGION=$(prop "$state" s3.region)
  S3_AUTH=(--aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_USER" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")

  local service_port
  free_port; service_port=$PORT
  SERVICE_PORT=$service_port
  free_port; GATEWAY_PORT=$PORT
  local -a service_opts gateway_opts
  mapfile -t service_opts < <(app_options datasets)
  mapfile -t gateway_opts < <(app_options gateway)
  local -a extra_opts
  read -r -a extra_opts <<<"${BENCH_SERVICE_OPTS:-}"
  # shellcheck disable=SC2086 # dataset-service's JVM options as ./mlinfra gives them (.mvn/jdk.sh)
  background dataset-service java "-Xmx$SERVICE_HEAP" $MLINFRA_DATASETS_JVM_OPTS "-Xlog:gc:file=$WORK/gc.log" "${service_opts[@]}" "${extra_opts[@]}" \
    "-Dquarkus.http.port=$service_port" \
    -jar "$ROOT/dataset-service/target/quarkus-app/quarkus-run.jar"
  local service_pid=${PIDS[-1]}

  local key_id
  key_id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  API_KEY="mlk_${key_id}_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  local -a extra_gateway_opts
  read -r -a extra_gateway_opts <<<"${BENCH_GATEWAY_OPTS:-}"
  MLINFRA_BOOTSTRAP_API_KEY=$API_KEY background gateway java -Xmx384m "${gateway_opts[@]}" "${extra_gateway_opts[@]}" \
    "-Dquarkus.http.port=$GATEWAY_PORT" \
    "-Dmlinfra.identity.current-key=bench" \
    "-Dmlinfra.identity.keys.bench.public-key-location=$WORK/keys/identity-public.pem" \
    "-Dmlinfra.identity.keys.bench.private-key-location=$WORK/keys/identity-private.pem" \
    "-Dmlinfra.gateway.services.datasets.url=http://127.0.0.1:$service_port" \
    "-Dmlinfra.gateway.rate-limit.limits.data=1000000" \
    -jar "$ROOT/gateway/target/quarkus-app/quarkus-run.jar"
  local gateway_pid=${PIDS[-1]}
  GATEWAY_PID=$gateway_pid
  SERVICE_PID=$service_pid
  DEVSTACK_PID=${PIDS[0]}
  wait_ready dataset-service "$service_port" "$service_pid"
  wait_ready gateway "$GATEWAY_PORT" "$gateway_pid"
  [ "$(cat "/proc/$service_pid/comm" 2>/dev/null)" = java ] || die "pid $service_pid is not dataset-service's JVM"

  # The plain path's bucket (a signed PUT on the bucket creates it).
  local code
  code=$(curl -s -o "$WORK/bucket.txt" -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_USER" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/$PLAIN_BUCKET")
  [ "$code" = 200 ] || die "creating bucket $PLAIN_BUCKET at $S3_ENDPOINT answered $code: $(cat "$WORK/bucket.txt")"

  # Warm-up: the sample dataset through both paths (also proves that both work).
  local warm
  warm=$(platform_upload 0 "$ROOT/samples/datasets/gitops-issues.jsonl")
  say "warm-up (samples/datasets/gitops-issues.jsonl through the platform): $warm"
  # shellcheck disable=SC2086
  set -- $warm
  if [ "$2" != 200 ] || [ "$3" != ready ]; then
    die "the sample dataset did not upload: $(cat "$WORK/platform-0-answer.json")"
  fi
  warm=$(plain_upload 0 "$ROOT/samples/datasets/gitops-issues.jsonl")
  # shellcheck disable=SC2086
  set -- $warm
  [ "$2" = 200 ] || die "a plain PUT to the object store answered $2: $(cat "$WORK/plain-0-answer.txt")"

  # Warm-up of the JIT compilers: the first large uploads otherwise pay for compiling the
  # gateway's and dataset-service's hot paths (measured: about 0.8 CPU seconds of C2 compiling in
  # each JVM during the first 500 MB upload after a smaller warm-up). A fifth of the input twice
  # through the platform, then the whole file once through each path, then a wait until the
  # compiler threads of all three JVMs are idle: the measured runs see compiled code.
  local slice="$WORK/warm-up.jsonl"
  head -n "$((records / 5))" "$INPUT" >"$slice"
  IDENTITY_TOKEN=$(mint_identity_token "$key_id")
  local n
  for n in 91 92 93; do
    local file=$slice
    [ "$n" = 93 ] && file=$INPUT
    warm=$(platform_upload "$n" "$file")
    # shellcheck disable=SC2086
    set -- $warm
    if [ "$2" != 200 ] || [ "$3" != ready ]; then
      die "the warm-up upload failed: $(cat "$WORK/platform-$n-answer.json")"
    fi
  done
  plain_upload 91 "$INPUT" >/dev/null
  if [ "$DIRECT_RUNS" -gt 0 ]; then
    DIRECT=1
    platform_upload 191 "$INPUT" >/dev/null
    DIRECT=0
  fi
  rm -f "$slice"
  local also="" idle
  [ "$DIRECT_RUNS" -gt 0 ] && also=" and to dataset-service"
  idle=$(await_idle_compilers)
  say "warm-up: $(awk -v b="$SIZE" 'BEGIN { printf "%.0f", b / 5e6 }') MB through the platform twice, then the whole file through the platform, straight to the object store$also once; $idle"

  say "(each run: seconds, HTTP status, [platform and direct: dataset status, seconds curl waited for 100 Continue, seconds until the body was sent, CPU seconds of gateway and dataset-service,] CPU seconds of the object store, of curl)"
  say "measuring: $RUNS uploads of $INPUT ($SIZE bytes, $records records) each way; $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  PARTS_DIR="$WORK/parts"
  mkdir -p "$PARTS_DIR"
  split -b 16777216 -d -a 4 "$INPUT" "$PARTS_DIR/part-"
  plain_multipart_upload 90 >/dev/null
  local -a platform=() plain=()
  local failed=0 r
  for n in $(seq 1 "$RUNS"); do
    r=$(platform_upload "$n" "$INPUT")
    platform+=("$r")
    say "  platform run $n: $r"
    # shellcheck disable=SC2086
    set -- $r
    if [ "$2" != 200 ] || [ "$3" != ready ]; then
      failed=1
      say "  platform run $n FAILED: HTTP $2 after $1 s; answer: $(head -c 1000 "$WORK/platform-$n-answer.json")"
    else
      local got_size got_records
      got_size=$(json_field "$WORK/platform-$n-answer.json" size)
      got_records=$(json_field "$WORK/platform-$n-answer.json" num_examples)
      if [ "$got_size" != "$SIZE" ] || [ "$got_records" != "$records" ]; then
        failed=1
        say "  platform run $n: the dataset says size $got_size, num_examples $got_records; expected $SIZE, $records"
      fi
    fi
    r=$(plain_upload "$n" "$INPUT")
    plain+=("$r")
    say "  plain run $n:    $r"
    # shellcheck disable=SC2086
    set -- $r
    [ "$2" = 200 ] || { failed=1; say "  plain run $n FAILED: HTTP $2: $(head -c 1000 "$WORK/plain-$n-answer.txt")"; }
    r=$(plain_multipart_upload "$n")
    MULTIPART+=("$r")
    say "  multipart run $n: $r"
    # shellcheck disable=SC2086
    set -- $r
    [ "$2" = 200 ] || { failed=1; say "  multipart run $n FAILED: HTTP $2: $(head -c 1000 "$WORK/multipart-$n-answer.txt" 2>/dev/null)"; }
  done
  local -a direct=()
  if [ "$DIRECT_RUNS" -gt 0 ]; then
    DIRECT=1
    for n in $(seq 1 "$DIRECT_RUNS"); do
      r=$(platform_upload "$((100 + n))" "$INPUT")
      direct+=("$r")
      say "  direct run $n:   $r"
      # shellcheck disable=SC2086
      set -- $r
      if [ "$2" != 200 ] || [ "$3" != ready ]; then
        failed=1
        say "  direct run $n FAILED: HTTP $2 after $1 s; answer: $(head -c 1000 "$WORK/platform-$((100 + n))-answer.json")"
      fi
    done
    DIRECT=0
  fi
  local load_after
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)

  local service_hwm gateway_hwm gc oom
  service_hwm=$(vm_hwm_mb "$service_pid")
  gateway_hwm=$(vm_hwm_mb "$gateway_pid")
  gc=$(gc_summary "$WORK/gc.log")
  oom=$(cat "$WORK/dataset-service.log" "$WORK/gc.log" | { grep -c 'OutOfMemoryError' || true; })

  report "$records" "$service_hwm" "$gateway_hwm" "$gc" "$oom" "$load_after" "${platform[@]}" -- "${plain[@]}" \
    -- "${direct[@]+"${direct[@]}"}"

  if [ "$failed" = 1 ] || [ "$oom" != 0 ]; then
    say ""
    say "FAILURES: warnings and errors in the logs:"
    grep -h -E 'WARN|ERROR|Exception|OutOfMemory' "$WORK/gateway.log" "$WORK/dataset-service.log" | tail -n 40 || true
    exit 1
  fi
}

# One table row: KIND (platform, or plain: no dataset status), NAME then the runs ("seconds http_status [dataset_status ...]"); pads to COLS
# run columns. Sets ROW_BEST and ROW_MEAN (MB/s of the successful runs, 0 when none).
ROW_BEST=0
ROW_MEAN=0
table_row() {
  local kind=$1 name=$2 cols=$3
  shift 3
  local row="| $name |" sum=0 count=0 best=0 r mb used=0
  for r in "$@"; do
    # shellcheck disable=SC2086
    set -- $r
    if [ "$2" = 200 ] && { [ "$kind" = plain ] || [ "$3" = ready ]; }; then
      mb=$(mbps "$SIZE" "$1")
      row="$row $(printf '%.1f' "$1") s, $mb MB/s |"
      sum=$(awk -v a="$sum" -v b="$mb" 'BEGIN { print a + b }')
      best=$(awk -v a="$best" -v b="$mb" 'BEGIN { print (b > a ? b : a) }')
      count=$((count + 1))
    else
      row="$row FAILED (HTTP $2${3:+, ${3}} after $(printf '%.1f' "$1") s) |"
    fi
    used=$((used + 1))
  done
  while [ "$used" -lt "$cols" ]; do row="$row |"; used=$((used + 1)); done
  ROW_MEAN=0
  [ "$count" -gt 0 ] && ROW_MEAN=$(awk -v s="$sum" -v c="$count" 'BEGIN { printf "%.1f", s / c }')
  ROW_BEST=$best
  say "$row $ROW_BEST MB/s | $ROW_MEAN MB/s |"
}

report() {
  local records=$1 service_hwm=$2 gateway_hwm=$3 gc=$4 oom=$5 load_after=$6
  shift 6
  local -a platform=() plain=() direct=()
  local r i
  while [ $# -gt 0 ] && [ "$1" != -- ]; do platform+=("$1"); shift; done
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do plain+=("$1"); shift; done
  shift
  for r in "$@"; do [ -n "$r" ] && direct+=("$r"); done

  local cols=${#platform[@]}
  [ "${#direct[@]}" -gt "$cols" ] && cols=${#direct[@]}
  say ""
  say "Upload of a $(awk -v b="$SIZE" 'BEGIN { printf "%.1f", b / 1e6 }') MB JSONL file ($SIZE bytes, $records records), $(date -u +%Y-%m-%d), $(nproc) cores; MB = 10^6 bytes"
  say ""
  local header="| path |" line="|---|"
  for ((i = 1; i <= cols; i++)); do header="$header run $i |"; line="$line---:|"; done
  say "$header best | mean |"
  say "$line---:|---:|"
  local best_p mean_p best_s mean_s
  table_row platform "platform (gateway → dataset-service → S3, validated)" "$cols" "${platform[@]}"
  best_p=$ROW_BEST; mean_p=$ROW_MEAN
  table_row plain "plain PUT to the object store" "$cols" "${plain[@]}"
  best_s=$ROW_BEST; mean_s=$ROW_MEAN
  local best_m=0 mean_m=0
  if [ "${#MULTIPART[@]}" -gt 0 ]; then
    table_row plain "multipart upload to the object store, 16 MiB parts (diagnostic)" "$cols" "${MULTIPART[@]}"
    best_m=$ROW_BEST; mean_m=$ROW_MEAN
  fi
  if [ "${#direct[@]}" -gt 0 ]; then
    table_row platform "direct to dataset-service (diagnostic, no gateway)" "$cols" "${direct[@]}"
  fi

  say ""
  say "CPU seconds used during each upload (2 cores: the time available is twice the wall time):"
  say ""
  say "| run | seconds | gateway | dataset-service | object store | curl | all | curl waited for 100 Continue | body sent after |"
  say "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for i in "${!platform[@]}"; do
    # shellcheck disable=SC2086
    set -- ${platform[i]}
    say "| platform $((i + 1)) | $(printf '%.1f' "$1") | $6 | $7 | $8 | $9 | $(awk -v a="$6" -v b="$7" -v c="$8" -v d="$9" 'BEGIN { printf "%.1f", a + b + c + d }') | $4 s | $5 s |"
  done
  for i in "${!plain[@]}"; do
    # shellcheck disable=SC2086
    set -- ${plain[i]}
    say "| plain $((i + 1)) | $(printf '%.1f' "$1") | | | $3 | $4 | $(awk -v c="$3" -v d="$4" 'BEGIN { printf "%.1f", c + d }') | | |"
  done
  for i in "${!MULTIPART[@]}"; do
    # shellcheck disable=SC2086
    set -- ${MULTIPART[i]}
    say "| multipart $((i + 1)) | $(printf '%.1f' "$1") | | | $3 | - | - | | |"
  done
  for i in "${!direct[@]}"; do
    # shellcheck disable=SC2086
    set -- ${direct[i]}
    say "| direct $((i + 1)) | $(printf '%.1f' "$1") | $6 | $7 | $8 | $9 | $(awk -v a="$6" -v b="$7" -v c="$8" -v d="$9" 'BEGIN { printf "%.1f", a + b + c + d }') | $4 s | $5 s |"
  done
  say ""
  awk -v bp="$best_p" -v bs="$best_s" -v mp="$mean_p" -v ms="$mean_s" 'BEGIN {
    if (bs > 0 && bp > 0) {
      r = bp / bs * 100
      printf "platform / plain throughput (best): %.0f%% (target >= 50%%: %s)\n", r, (r >= 50 ? "met" : "NOT met")
      if (ms > 0) printf "platform / plain throughput (mean): %.0f%%\n", mp / ms * 100
    } else {
      print "platform / plain throughput: not measured (a path failed)"
    }
  }'
  awk -v bp="$best_p" -v bm="$best_m" -v mp="$mean_p" -v mm="$mean_m" 'BEGIN {
    if (bm > 0 && bp > 0) {
      printf "platform / multipart upload to the object store (diagnostic): %.0f%% best, %.0f%% mean\n", bp / bm * 100, (mm > 0 ? mp / mm * 100 : 0)
    }
  }'

  # shellcheck disable=SC2086
  set -- $gc
  say ""
  say "dataset-service heap (-Xmx$SERVICE_HEAP, $6): peak before GC $1 MB, peak after GC $2 MB, largest committed $3 MB; $4 collections, $5 full"
  say "dataset-service OutOfMemoryError in its log: $([ "$oom" = 0 ] && echo none || echo "$oom times")"
  say "peak RSS (VmHWM): dataset-service $service_hwm MB, gateway $gateway_hwm MB"
  say "load average after: $load_after (the benchmark's own work included)"
  say "load average (1 min) before the benchmark started anything: $LOAD_AT_START"
  if awk -v load="$LOAD_AT_START" 'BEGIN { exit !(load > 0.5) }'; then
    say "WARNING: other work was running on this machine; the times are upper bounds"
  fi
}

main "$@"
