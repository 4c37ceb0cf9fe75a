#!/usr/bin/env bash
# ONNX Runtime latency speed-up against MAC reduction of structure-only pruning (acp prune --strategy l1), for
# docs/benchmarks.md. Prints one Markdown table row per (model, ratio, rounding).
#
#   bash bench/surgery_speedup.sh            # 64-px torchvision fixtures, ratios 0.3 0.5, rounding 1 and 8; before
#                                            # and after timed one after the other by acp prune (batch 8, 2 threads)
#   bash bench/surgery_speedup.sh imagenet [JSONL]
#                                            # 224-px ResNet-18 and ResNet-50 (issue 19), ratios 0.25 0.5 0.75,
#                                            # rounding 1 and 16; before and after timed by Acp.Bench --ort-pair in
#                                            # alternating blocks (batch 8, 2 threads, ROUNDS rounds x RUNS runs; the
#                                            # speed-up is the median of per-round ratios); each JSON is appended to
#                                            # JSONL when given. Pruned models with the same bytes are timed once.
# Environment: MODELS, RATIOS, ROUNDINGS, ROUNDS (default 9), RUNS (default 5) override the imagenet sweep.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet build -c Release "$repo/src/Acp.Cli" -v q -nologo >/dev/null
acp() { dotnet "$repo/src/Acp.Cli/bin/Release/net10.0/acp.dll" "$@"; }

if [[ "${1:-}" == imagenet ]]; then
  jsonl=${2:-/dev/null}
  dotnet build -c Release "$repo/bench/Acp.Bench" -v q -nologo >/dev/null
  pair() { dotnet "$repo/bench/Acp.Bench/bin/Release/net10.0/Acp.Bench.dll" --ort-pair "$@"; }
  echo "| model | ratio | round to | MACs after/before | MAC reduction | speed-up (quartiles) | speed-up / MAC reduction |"
  echo "|---|---|---|---|---|---|---|"
  for model in ${MODELS:-resnet18 resnet50}; do
    original="$cache/imagenet/$model.224.onnx"
    for ratio in ${RATIOS:-0.25 0.5 0.75}; do
      previous=""
      for round in ${ROUNDINGS:-1 16}; do
        acp prune "$original" --ratio "$ratio" --round-to "$round" --out "$out/p.onnx" --force --quiet --json >/dev/null
        digest=$(sha256sum "$out/p.onnx" | cut -c1-16)
        if [[ "$digest" != "$previous" ]]; then
          json=$(pair "$original" "$out/p.onnx" --batch 8 --threads 2 --rounds "${ROUNDS:-9}" --runs "${RUNS:-5}" 2>/dev/null)
        fi
        previous=$digest
        printf '{"model":"%s","ratio":%s,"round_to":%s,"pruned_sha256_16":"%s","pair":%s}\n' "$model" "$ratio" "$round" "$digest" "$json" >>"$jsonl"
        python3 -c '
import json, sys
r = json.loads(sys.argv[4])
model, ratio, round_to = sys.argv[1:4]
macs = r["macs"][1] / r["macs"][0]
s, q1, q3 = r["speedup"], r["speedup_q1"], r["speedup_q3"]
print(f"| {model} | {ratio} | {round_to} | {macs:.3f} | {1/macs:.2f}x | {s:.2f}x ({q1:.2f}-{q3:.2f}) | {s * macs:.2f} |", flush=True)
' "$model" "$ratio" "$round" "$json"
      done
    done
  done
  exit 0
fi

fixtures=$cache/fixtures
echo "| model | ratio | round to | MACs after/before | latency after/before | speed-up | speed-up / MAC reduction |"
echo "|---|---|---|---|---|---|---|"
for model in resnet18 resnet50 mobilenet_v2; do
  for ratio in 0.3 0.5; do
    for round in 1 8; do
      json=$(acp prune "$fixtures/$model.folded.onnx" --ratio "$ratio" --round-to "$round" --out "$out/p.onnx" --force \
             --latency-batch 8 --latency-threads 2 --json)
      python3 -c '
import json, sys
r = json.loads(sys.argv[4])
model, ratio, round_to = sys.argv[1:4]
macs = r["macsAfter"] / r["macsBefore"]
lat = r["latencyAfterMs"] / r["latencyBeforeMs"]
print(f"| {model} | {ratio} | {round_to} | {macs:.3f} | {lat:.3f} | {1/lat:.2f}x | {(1/lat)/(1/macs):.2f} |")
' "$model" "$ratio" "$round" "$json"
    done
  done
done
