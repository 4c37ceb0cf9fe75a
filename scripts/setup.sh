#!/usr/bin/env bash
# Installs everything Acp needs on a Debian machine, idempotently; fast when all is already there.
#   - Debian packages: PyTorch/torchvision/onnx (fixture generator and reference oracle), Fashion-MNIST, OpenBLAS,
#     libturbojpeg (JPEG decoding of image-folder data sets), PIL (their test oracle), Chromium + DejaVu fonts (renders
#     the HTML report in its test)
#   - ONNX Runtime 1.30's libonnxruntime.so.1, taken out of the npm package onnxruntime-node (its install script is not run)
#   - the generated test fixtures (torchvision exports and tiny edge-case models), cached between runs
# Environment: ACP_CACHE_DIR (default ~/.cache/acp) holds the npm tarball and the fixtures.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}
ort_version=1.30.0
ort_dir=$repo/.deps/onnxruntime
ort_lib=$ort_dir/libonnxruntime.so.1

say() { printf 'setup: %s\n' "$*"; }

# 1. Debian packages. dpkg-query is instant; apt-get runs only when something is missing.
packages=(python3-torch python3-torchvision python3-onnx dataset-fashion-mnist libopenblas0-pthread chromium fonts-dejavu-core
          libturbojpeg0 python3-pil)
# The machine image may ship node/npm outside Debian's packages; Debian's npm is needed only when there is none.
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: run as root to install ${missing[*]}" >&2; exit 1; }
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# 2. ONNX Runtime's native library from the npm package.
if [ ! -s "$ort_lib" ]; then
  tarball=$cache/npm/onnxruntime-node-$ort_version.tgz
  if [ ! -s "$tarball" ]; then
    say "fetching onnxruntime-node@$ort_version from npm (about 110 MB)"
    mkdir -p "$cache/npm"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "onnxruntime-node@$ort_version" --ignore-scripts --silent >/dev/null)
    mv "$tmp/onnxruntime-node-$ort_version.tgz" "$tarball"
    rm -rf "$tmp"
  fi
  tmp=$(mktemp -d)
  tar -xzf "$tarball" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$ort_dir"
  mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort_lib.tmp"
  mv "$ort_lib.tmp" "$ort_lib"
  rm -rf "$tmp"
  say "ONNX Runtime $ort_version at $ort_lib"
fi

# 3. Test fixtures (the generator keeps a stamp and returns at once when they are current).
/usr/bin/python3 "$repo/tools/generate_fixtures.py" --out "$cache/fixtures"
/usr/bin/python3 "$repo/tools/generate_engine_fixtures.py" --out "$cache/engine-fixtures"
