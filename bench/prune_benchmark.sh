#!/usr/bin/env bash
# Issue "ACP itself" benchmark: the shipped Fashion-MNIST ResNet-20 pruned to -50% and -70% MACs by acp, l1 and random
# with the same fine-tuning budget; test accuracy, search time and total time of each, as a Markdown table for
# docs/benchmarks.md. Usage: bash bench/prune_benchmark.sh [EPOCHS (default 2)] [extra acp prune arguments...]
# TARGETS="0.5 0.3", STRATEGIES="acp l1 random" and SEEDS="0" (the defaults) choose the runs; a run with seed S other
# than 0 is kept as prune-STRATEGY-TARGET-eEPOCHS-sS.json.
# Runs one after another (about 5-10 minutes each on 2 cores); JSON of every run is kept in bench/results/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
epochs=${1:-2}
targets=${TARGETS:-0.5 0.3}
strategies=${STRATEGIES:-acp l1 random}
seeds=${SEEDS:-0}
shift || true
data=/usr/share/datasets/fashion-mnist
results=$repo/bench/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"
dotnet build -c Release "$repo/src/Acp.Cli" -v q -nologo >/dev/null
acp() { dotnet "$repo/src/Acp.Cli/bin/Release/net10.0/acp.dll" "$@"; }
name() { echo "$results/prune-$2-$1-e$epochs$([ "$3" = 0 ] || echo "-s$3").json"; }
for seed in $seeds; do
  for target in $targets; do
    for strategy in $strategies; do
      json=$(name "$target" "$strategy" "$seed")
      acp prune "$repo/models/fashion_resnet20.onnx" --data "$data" --target-flops "$target" --strategy "$strategy" \
        --epochs "$epochs" --crop-padding 2 --flip --seed "$seed" --out "$work/$strategy-$target.onnx" --force --quiet --json "$@" > "$json"
      echo "done: $strategy at $target, seed $seed ($(jq -r '.totalSeconds' "$json") s)" >&2
    done
  done
done
echo "| MACs kept | strategy | seed | MACs after/before | params after/before | test accuracy before → after | drop (pt) | search (s) | total (s) | ORT latency after/before (batch 1, 1 thread) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for seed in $seeds; do for target in $targets; do
  for strategy in $strategies; do
    jq -r --arg t "$target" --arg s "$seed" '"| ≤ \($t) | \(.strategy) | \($s) | \((.macsAfter / .macsBefore * 1000 | round) / 1000) | \((.paramsAfter / .paramsBefore * 1000 | round) / 1000) | \((.testAccuracyBefore * 10000 | round) / 100) % → \((.testAccuracyAfter * 10000 | round) / 100) % | \(((.testAccuracyBefore - .testAccuracyAfter) * 10000 | round) / 100) | \(.searchSeconds | round) | \(.totalSeconds | round) | \((.latencyAfterMs / .latencyBeforeMs * 100 | round) / 100) |"' \
      "$(name "$target" "$strategy" "$seed")"
  done
done; done
