#!/usr/bin/env bash
# The main job: for now, `acp inspect` on a real network the setup exported (ResNet-18, BatchNormalization kept).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
cache=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}
cd "$repo"
dotnet run --project src/Acp.Cli -c Release -- inspect "$cache/fixtures/resnet18.bn.onnx" "$@"
