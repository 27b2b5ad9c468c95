#!/usr/bin/env bash
# Engine benchmark: builds llm-engine and model-server, then prints
#  - matmul peak of this machine through DJL/PyTorch,
#  - training tokens/s and achieved GFLOP/s (fraction of that peak) for scout and maverick,
#  - time to first token (160-token prompt) and decode tokens/s,
#  - peak RSS of a trainer process and of a model-server process,
#  - continuous batching of that model-server: aggregate tokens/s and time to first token with 1, 4
#    and 8 concurrent streams, on one adapter and on 4 adapters (ServingBench.java).
# Usage: bench/engine/run.sh [--skip-build] [--serving-only]
#   --serving-only: only the model-server parts (peak RSS of a server, continuous batching).
#   BENCH_SERVER_THREADS: space-separated values of mlinfra.model-server.threads, each measured
#   with a model-server of its own in this run (default: the server's own default), e.g. "2 1".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
source .mvn/jdk.sh
WORK="$ROOT/bench/engine/target"
mkdir -p "$WORK"
export OMP_WAIT_POLICY=PASSIVE
export MLINFRA_DJL_CACHE_DIR="$ROOT/.mlinfra/djl"
export MLINFRA_DATA_DIR="$WORK/data"

BUILD=1
SERVING_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --skip-build) BUILD=0 ;;
    --serving-only) SERVING_ONLY=1 ;;
    *) echo "unknown argument: $arg (expected --skip-build, --serving-only)" >&2; exit 2 ;;
  esac
done
if [ "$BUILD" = 1 ]; then
  ./mvnw -B -q -pl llm-engine,model-server -am install -DskipTests
fi
ENGINE_CP="$ROOT/llm-engine/target/llm-engine.jar:$ROOT/llm-engine/target/lib/*"

peak_rss() { # pid -> prints VmHWM in MiB while the process lives
  awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"
}

if [ "$SERVING_ONLY" = 0 ]; then

echo "== engine (one process: peak, training, generation)"
java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$ENGINE_CP" "$ROOT/bench/engine/EngineBench.java"

echo
echo "== trainer process (LoRA, 40 steps on the sample dataset)"
head -64 samples/datasets/gitops-issues.jsonl > "$WORK/slice.jsonl"
cat > "$WORK/job.json" <<JSON
{"job_id": "bench", "model_type": "scout", "dataset": {"location": "$WORK/slice.jsonl"},
 "config": {"learning_rate": 0.004, "batch_size": 8, "epochs": 5, "max_seq_len": 512, "max_eval_records": 2,
            "max_new_tokens": 16, "eval_base": false, "checkpoint_every": 0},
 "output": "$WORK/train-out-$$"}
JSON
java --enable-native-access=ALL-UNNAMED -jar llm-engine/target/llm-engine.jar train --spec "$WORK/job.json" \
  > "$WORK/train.jsonl" 2> "$WORK/train.log" &
TRAINER=$!
HWM=0
while kill -0 "$TRAINER" 2>/dev/null; do
  v=$(peak_rss "$TRAINER"); [[ "$v" =~ ^[0-9]+$ ]] && HWM=$v
  sleep 1
done
wait "$TRAINER" || true
python3 - "$WORK/train.jsonl" <<'PY'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if '"event":"step"' in l]
tps = sorted(s["tokens_per_second"] for s in steps[2:])
print(f"  {len(steps)} steps, loss {steps[0]['loss']:.2f} -> {steps[-1]['loss']:.2f}, median {tps[len(tps)//2]:.0f} tokens/s")
PY
echo "  trainer peak RSS: ${HWM} MiB"

fi

SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null || true' EXIT
for THREADS in ${BENCH_SERVER_THREADS:-default}; do
  THREAD_OPT=()
  LABEL="its default compute threads"
  if [ "$THREADS" != default ]; then
    THREAD_OPT=(-Dmlinfra.model-server.threads="$THREADS")
    LABEL="mlinfra.model-server.threads=$THREADS"
  fi
  echo
  echo "== model-server process ($LABEL)"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  java --enable-native-access=ALL-UNNAMED -Dquarkus.http.port="$PORT" -Dquarkus.http.host=127.0.0.1 "${THREAD_OPT[@]}" \
    -Dmlinfra.model-server.models-dir="$WORK/data/models" -jar model-server/target/quarkus-app/quarkus-run.jar \
    > "$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 1; done
  PROMPT=$(python3 -c 'import json; print(json.dumps("<|begin_of_text|><|header_start|>user<|header_end|>\n\n" + "Repository: argoproj/argo-cd\nTitle: Sync fails after upgrade\nDescription: " + "x"*100 + "<|eot|><|header_start|>assistant<|header_end|>\n\n"))')
  for i in 1 2 3; do
    curl -s "http://127.0.0.1:$PORT/v1/completions" -H 'content-type: application/json' \
      -d "{\"prompt\": $PROMPT, \"max_tokens\": 128, \"temperature\": 0}" \
      | python3 -c 'import json,sys; u=json.load(sys.stdin)["usage"]; print("  completion: %d prompt + %d generated tokens" % (u["prompt_tokens"], u["completion_tokens"]))'
  done
  echo "  model-server peak RSS: $(peak_rss $SERVER) MiB"

  echo
  echo "== continuous batching (model-server, $LABEL, streamed greedy completions, 160-token prompt, 96-160 new tokens)"
  echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$ENGINE_CP" "$ROOT/bench/engine/ServingBench.java" "http://127.0.0.1:$PORT/" "$WORK/serving" "$SERVER"
  echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
done
