#!/usr/bin/env python3
"""Pools the rounds of several engine benchmark runs (JSON lines of `Acp.Bench --json`) and prints, per ratio, the
median over all rounds, the quartiles, the range and the share of rounds at or above the issue's target, the way
docs/benchmarks.md reports them.

Usage: python3 bench/round_stats.py bench/results/engine-....jsonl [more.jsonl ...]
"""
import json
import statistics
import sys

# (name, numerator key, denominator key, target): a ratio above 1 means our engine is faster.
RATIOS = [
    ("train step vs PyTorch", "TorchTrainMs", "OurTrainMs", 1.0),
    ("inference vs PyTorch", "TorchInferMs", "OurInferMs", 1.0),
    ("inference vs ONNX Runtime", "OrtInferMs", "OurInferMs", 0.7),
]


def quantile(sorted_values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def main(paths):
    rounds, runs = [], []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    run = json.loads(line)
                    runs.append(run)
                    rounds.extend(run["per_round_ms"])
    if not rounds:
        sys.exit("no rounds found")
    print(f"{len(runs)} runs, {len(rounds)} rounds")
    print("| measure | median over rounds | quartiles | range | rounds at or above target | target |")
    print("|---|---|---|---|---|---|")
    for name, numerator, denominator, target in RATIOS:
        values = sorted(r[numerator] / r[denominator] for r in rounds if r.get(numerator) and r.get(denominator))
        if not values:
            continue
        share = sum(v >= target for v in values) / len(values)
        print(f"| {name} | {statistics.median(values):.2f}x | {quantile(values, 0.25):.2f}-{quantile(values, 0.75):.2f} "
              f"| {values[0]:.2f}-{values[-1]:.2f} | {share:.0%} | >= {target} |")
    peaks = [run["acp_peak_working_set_mb"] for run in runs if "acp_peak_working_set_mb" in run]
    if peaks:
        print(f"our peak working set: {statistics.median(peaks):.0f} MB (median of runs)")


if __name__ == "__main__":
    main(sys.argv[1:])
