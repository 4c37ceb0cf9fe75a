#!/usr/bin/env bash
# Issue 19 at 224 px: `acp prune` of a ResNet-18 (torchvision resnet18(num_classes=10), BatchNormalization kept,
# random weights; tools/generate_imagenet_fixtures.py) on Fashion-MNIST written as a 224x224x3 image folder
# (tools/make_fashion_image_folder.py), with one short schedule, on a folder of N and one of 2N training images.
# Prints, per run, the wall time and peak resident set (/usr/bin/time -v) and keeps each run's log (the estimates, each
# stage's actual time against its estimate, images/s) in $work/N.log; last, the peak RSS of 2N over N.
#
#   bash bench/prune_224.sh [N-per-class [2N-per-class]]      default 20 and 40 (200 and 400 training images)
#
# Environment: ACP_CACHE_DIR (default ~/.cache/acp; scripts/setup.sh puts the model there), ACP_BENCH_WORK (default
# /tmp/acp-prune-224: the folders, models and logs). The schedule is the same for both runs; only the folder differs, so
# the fine-tuning epoch is twice as long and nothing else should grow.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ACP_CACHE_DIR:-${HOME:-/root}/.cache/acp}
work=${ACP_BENCH_WORK:-/tmp/acp-prune-224}
small=${1:-20}
large=${2:-$((2 * small))}
model="$cache/imagenet/resnet18_10.224.bn.onnx"
[ -f "$model" ] || { echo "prune_224: $model is missing; run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$work"

dotnet build "$repo/src/Acp.Cli/Acp.Cli.csproj" -c Release --nologo -v q >/dev/null
acp="$repo/src/Acp.Cli/bin/Release/net10.0/acp"

schedule=(--target-flops 0.5 --validation-images 50 --fitness-images 50 --calibration-images 50
  --recalibration-images 32 --batch-size 16 --tuning-batch-size 16 --particles 3 --cycles 1
  --finalists 1 --finalist-steps 4 --epochs 1 --no-test --force)

for per_class in "$small" "$large"; do
  folder="$work/fashion224-$per_class"
  [ -d "$folder" ] || /usr/bin/python3 "$repo/tools/make_fashion_image_folder.py" --out "$folder" \
    --train-per-class "$per_class" --test-per-class 5
  log="$work/$per_class.log"
  /usr/bin/time -v "$acp" prune "$model" --data "$folder" --out "$work/pruned-$per_class.onnx" "${schedule[@]}" >"$log" 2>&1
  rss=$(awk '/Maximum resident set size/ {print $6}' "$log")
  wall=$(awk '/Elapsed \(wall clock\)/ {print $8}' "$log")
  echo "$((per_class * 10)) training images: wall $wall, peak RSS $((rss / 1024)) MB (log $log)"
  eval "rss_$per_class=$rss"
done
awk -v a="$(eval echo \$rss_$small)" -v b="$(eval echo \$rss_$large)" 'BEGIN { printf "peak RSS, 2N over N: %d / %d kB: %.3f\n", b, a, b / a }'
