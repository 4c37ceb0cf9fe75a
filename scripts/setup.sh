#!/usr/bin/env bash
# Installs everything Acp needs on a Debian machine, idempotently; fast when all is already there.
#   scripts/setup.sh           what the tests need (below)
#   scripts/setup.sh --run     only what running acp needs (Fashion-MNIST, OpenBLAS, libturbojpeg), quietly: the demo
#   - Debian packages: PyTorch/torchvision/onnx (fixture generator and reference oracle), Fashion-MNIST, OpenBLAS,
#     libturbojpeg (JPEG decoding of image-folder data sets), PIL (their test oracle), Chromium + DejaVu fonts (renders
#     the HTML report in its test)
#   - the generated test fixtures (torchvision exports and tiny edge-case models), cached between runs
#   - ImageNet-size models in $ACP_CACHE_DIR/imagenet: 224-px torchvision exports (generated) and the CNTK ResNet-18 of
#     the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (restored through tools/nuget-models, then copied)
# ONNX Runtime comes from its NuGet package with the build (dotnet restore); nothing to install for it here.
# Environment: ACP_CACHE_DIR (default ~/.cache/acp) holds the generated fixtures.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}

run_only=false
[ "${1:-}" = "--run" ] && run_only=true

say() { printf 'setup: %s\n' "$*"; }

# 1. Debian packages. dpkg-query is instant; apt-get runs only when something is missing.
packages=(dataset-fashion-mnist libopenblas0-pthread libturbojpeg0)
$run_only || packages+=(python3-torch python3-torchvision python3-onnx chromium fonts-dejavu-core python3-pil)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: run as root to install ${missing[*]}" >&2; exit 1; }
  say "installing Debian packages: ${missing[*]}"
  # apt's own chatter goes to a log, shown only when it fails.
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; echo "setup: installing ${missing[*]} failed" >&2; exit 1
  fi
  rm -f "$log"
fi
command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

$run_only && exit 0

# 2. Test fixtures (the generator keeps a stamp and returns at once when they are current).
/usr/bin/python3 "$repo/tools/generate_fixtures.py" --out "$cache/fixtures"
/usr/bin/python3 "$repo/tools/generate_engine_fixtures.py" --out "$cache/engine-fixtures"

# 3. ImageNet-size models (scale tests and benchmarks), in their own folder: torchvision exports at 224 px, and the
#    CNTK ResNet-18 that the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 ships (a real model from outside).
#    The package comes like any other: restoring tools/nuget-models brings it into the NuGet package folder (no URL).
imagenet="$cache/imagenet"
/usr/bin/python3 "$repo/tools/generate_imagenet_fixtures.py" --out "$imagenet"
cntk="$imagenet/resnet18.cntk.onnx"
if [ ! -f "$cntk" ]; then
  say "restoring tools/nuget-models (Microsoft.ML.DnnImageFeaturizer.ResNet18)"
  project="$repo/tools/nuget-models/NuGetModels.csproj"
  log=$(mktemp)
  dotnet restore "$project" --nologo >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; echo "setup: restoring $project failed" >&2; exit 1; }
  rm -f "$log"
  root=$(dotnet msbuild "$project" -nologo -getProperty:NuGetPackageRoot)
  source="${root%/}/microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
  [ -f "$source" ] || { echo "setup: $source is missing after the restore" >&2; exit 1; }
  cp "$source" "$cntk.tmp.$$" && mv "$cntk.tmp.$$" "$cntk"
fi
