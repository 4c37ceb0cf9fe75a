#!/usr/bin/env bash
# The main job: `acp demo` prunes the shipped Fashion-MNIST ResNet-20 (models/fashion_resnet20.onnx) to half its MACs
# with ACP, fine-tunes it, exports it and writes acp-demo/report/report.html. Extra arguments go to `acp demo`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
dotnet run --project src/Acp.Cli -c Release -- demo --out "$repo/acp-demo" "$@"
