#!/usr/bin/env bash
# Packs this checkout's libraries (Acp.Onnx, Acp.Data, Acp.Engine, Acp.Pruning, Acp.MLNet, Acp.Reporting) into a
# folder that a notebook names as a NuGet source: #i "nuget: <folder>" then #r "nuget: Acp.MLNet, <version>" (docs/notebooks.md).
#
#   bash scripts/pack-local.sh [--version V] [--build-dir DIR] [FOLDER]
#
# FOLDER defaults to $ACP_CACHE_DIR/packages (~/.cache/acp/packages); the version to the one in Directory.Build.props.
# The build goes to --build-dir (default artifacts/pack-local), apart from the checkout's own bin and obj folders, so
# packing another version does not disturb an ordinary build. Prints the two lines to put in a notebook's first cell.
#
# NuGet caches a package by id and version: after repacking the same version, delete ~/.nuget/packages/acp.*/<version>
# (or pack a new --version such as 0.1.0-dev.2) and restart the kernel, or the kernel keeps the old build.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=""
build_dir="$repo/artifacts/pack-local"
folder=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "pack-local.sh: unknown option $1" >&2; exit 1 ;;
    *) folder="$1"; shift ;;
  esac
done
if [[ -z "$version" ]]; then
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)
fi
if [[ -z "$folder" ]]; then
  folder="${ACP_CACHE_DIR:-$HOME/.cache/acp}/packages"
fi
mkdir -p "$folder"
folder=$(cd "$folder" && pwd)

# Building the two top libraries builds the others; each is then packed without building again.
for top in Acp.MLNet Acp.Reporting; do
  dotnet build "$repo/src/$top/$top.csproj" -c Release --nologo -v quiet \
    --artifacts-path "$build_dir" -p:Version="$version"
done
for library in Acp.Onnx Acp.Data Acp.Engine Acp.Pruning Acp.MLNet Acp.Reporting; do
  dotnet pack "$repo/src/$library/$library.csproj" -c Release --nologo -v quiet --no-build \
    --artifacts-path "$build_dir" -p:Version="$version" -o "$folder"
done

echo "Packed Acp $version into $folder. In a notebook:"
echo "#i \"nuget: $folder\""
echo "#r \"nuget: Acp.MLNet, $version\""
