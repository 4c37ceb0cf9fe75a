#!/usr/bin/env bash
# Issue 22 benchmark: aip on the shipped Fashion-MNIST ResNet-20 at -50 % and -70 % MACs with the same total training
# budget as `bench/prune_benchmark.sh 3` gives acp and l1 (3 epochs of fine-tuning): aip's recoveries add up to one
# epoch (STEPS pruning steps x RECOVERY batches of 128 = one pass over the training split) and its final fine-tune is
# 2 epochs. Usage: bash bench/aip_benchmark.sh [extra acp prune arguments...]; TARGETS="0.5 0.3" and SEEDS="0" choose
# the runs. JSON of every run goes to bench/results/prune-aip-TARGET-e3[-sS].json (e3: 3 epochs of training in all).
# ACP_BIN=folder with acp.dll runs a copy built earlier (so that rebuilding the worktree cannot change a running series).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
targets=${TARGETS:-0.5 0.3}
seeds=${SEEDS:-0}
data=/usr/share/datasets/fashion-mnist
results=$repo/bench/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$results"
if [ -z "${ACP_BIN:-}" ]; then
  dotnet build -c Release "$repo/src/Acp.Cli" -v q -nologo >/dev/null
  ACP_BIN=$repo/src/Acp.Cli/bin/Release/net10.0
fi
acp() { dotnet "$ACP_BIN/acp.dll" "$@"; }
# Steps of the aip schedule at --aip-step 0.1 (from the run's evaluation log: -50 % takes 3 steps, -70 % takes 4) and
# recovery batches per step so that the recoveries make one epoch (55,000 training images / 128 = 429 batches).
recovery() { case $1 in 0.5) echo 143 ;; 0.3) echo 107 ;; *) echo "no recovery length for target $1" >&2; exit 2 ;; esac; }
for seed in $seeds; do
  for target in $targets; do
    json=$results/prune-aip-$target-e3$([ "$seed" = 0 ] || echo "-s$seed").json
    acp prune "$repo/models/fashion_resnet20.onnx" --data "$data" --target-flops "$target" --strategy aip \
      --aip-step 0.1 --aip-recovery-steps "$(recovery "$target")" --epochs 2 --crop-padding 2 --flip --seed "$seed" \
      --out "$work/aip-$target.onnx" --run-dir "$work/aip-$target.run" --force --quiet --json "$@" > "$json"
    cp "$work/aip-$target.run/evaluations.jsonl" "${json%.json}.steps.jsonl"
    echo "done: aip at $target, seed $seed ($(jq -r '.totalSeconds' "$json") s)" >&2
  done
done
