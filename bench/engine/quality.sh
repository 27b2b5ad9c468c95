#!/usr/bin/env bash
# Fine-tuning quality run: does a short LoRA fine-tune answer sensibly, from the pretrained base
# and from the seeded (random) initialisation?
#  - generates a GitOps dataset with its own templates and seed (quality_dataset.py: 300 records,
#    of which the trainer holds out 20% = 60 records; 240 train),
#  - fine-tunes the scout miniature twice with the same spec (lr 2e-3, batch 8, 2 epochs, LoRA
#    r 8 / alpha 16 / dropout 0.05, seed 42): once from the bundled pretrained base, once from
#    the seeded initialisation (`init-base --init seeded` into a models dir of its own),
#  - prints the held-out metrics of both bases and both fine-tunes (the trainer's own evaluation:
#    eval_loss, accuracy, macro f1, trajectory_similarity, answer_format) and checks the targets:
#    the pretrained fine-tune reaches accuracy >= 0.6, trajectory_similarity >= 0.25 and the
#    answer format in >= 90% of the held-out records.
# Usage: bench/engine/quality.sh [--skip-build]   (BENCH_MODEL=maverick for the other miniature)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
source .mvn/jdk.sh
WORK="$ROOT/bench/engine/target/quality"
rm -rf "$WORK"
mkdir -p "$WORK"
export OMP_WAIT_POLICY=PASSIVE
export MLINFRA_DJL_CACHE_DIR="$ROOT/.mlinfra/djl"
MODEL=${BENCH_MODEL:-scout}

if [ "${1:-}" != "--skip-build" ]; then
  ./mvnw -B -q -pl llm-engine -am install -DskipTests
fi
engine() {
  java --enable-native-access=ALL-UNNAMED "-Dmlinfra.data-dir=$WORK/data" -jar llm-engine/target/llm-engine.jar "$@"
}

echo "== load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/engine/quality_dataset.py "$WORK/issues.jsonl" 300 90210
engine init-base --model "$MODEL" --models-dir "$WORK/pretrained" >/dev/null
engine init-base --model "$MODEL" --init seeded --models-dir "$WORK/seeded" >/dev/null

for base in pretrained seeded; do
  cat > "$WORK/$base.json" <<JSON
{"job_id": "quality-$base", "model_type": "$MODEL", "dataset": {"location": "$WORK/issues.jsonl"},
 "config": {"learning_rate": 0.002, "batch_size": 8, "epochs": 2, "use_lora": true, "lora_r": 8, "lora_alpha": 16,
            "lora_dropout": 0.05, "seed": 42, "max_seq_len": 384, "validation_fraction": 0.2, "max_new_tokens": 128,
            "eval_base": true, "checkpoint_every": 0},
 "output": "$WORK/$base-out", "base_model_dir": "$WORK/$base"}
JSON
  start=$(date +%s)
  engine train --spec "$WORK/$base.json" > "$WORK/$base.jsonl" 2> "$WORK/$base.log" \
    || { echo "fine-tune from the $base base failed:"; tail -5 "$WORK/$base.log"; exit 1; }
  echo "== fine-tune from the $base base: $(( $(date +%s) - start )) s (training and evaluation)"
done

python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
rows = []
for base in ("seeded", "pretrained"):
    m = json.load(open(os.path.join(work, base + "-out", "eval", "metrics.json")))
    steps = [json.loads(l) for l in open(os.path.join(work, base + ".jsonl")) if '"event":"step"' in l]
    rows.append((base + " base", m["base"], None))
    rows.append((base + " base + LoRA", m, steps))
cols = ("eval_loss", "accuracy", "f1", "trajectory_similarity", "answer_format")
print()
print("| model (%d held-out records) | %s | train loss |" % (rows[1][1]["num_examples"], " | ".join(cols)))
print("|---|" + "---:|" * (len(cols) + 1))
for name, m, steps in rows:
    loss = "%.2f -> %.2f (%d steps)" % (steps[0]["loss"], steps[-1]["loss"], len(steps)) if steps else ""
    print("| %s | %s | %s |" % (name, " | ".join("%.3f" % m[c] for c in cols), loss))
print()
for name, m, _ in rows:
    if name.endswith("LoRA"):
        print("%s, first held-out answers:" % name)
        for s in m.get("samples", [])[:2]:
            print("  [%s] %s -> %r" % (s["reference_type"], s["issue_title"], s["output"][:160]))
best = rows[3][1]
checks = [("accuracy >= 0.6", best["accuracy"] >= 0.6),
          ("trajectory_similarity >= 0.25", best["trajectory_similarity"] >= 0.25),
          ("answer format in >= 90%", best["answer_format"] >= 0.9)]
print()
for label, ok in checks:
    print("target %-32s %s" % (label, "met" if ok else "NOT met"))
PY
