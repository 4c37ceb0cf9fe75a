#!/usr/bin/env bash
# ONNX Runtime latency speed-up against MAC reduction of structure-only pruning (acp prune --strategy l1), for
# docs/benchmarks.md. Prints one Markdown table row per (model, ratio, rounding).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixtures=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}/fixtures
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet build -c Release "$repo/src/Acp.Cli" -v q -nologo >/dev/null
acp() { dotnet "$repo/src/Acp.Cli/bin/Release/net10.0/acp.dll" "$@"; }
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
