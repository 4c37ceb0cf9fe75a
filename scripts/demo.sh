#!/usr/bin/env bash
# The main job: `acp demo` prunes the shipped Fashion-MNIST ResNet-20 (models/fashion_resnet20.onnx) to half its MACs
# with ACP, fine-tunes it, exports it and writes acp-demo/report/report.html. Extra arguments go to `acp demo`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh" --run
cd "$repo"
# Build quietly (errors still print), then run: the demo's output is the demo's.
log=$(mktemp)
dotnet build src/Acp.Cli -c Release --nologo -v quiet >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
dotnet run --project src/Acp.Cli -c Release --no-build -- demo --out "$repo/acp-demo" "$@"
