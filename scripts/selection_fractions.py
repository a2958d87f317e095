#!/usr/bin/env python3
"""Share of the quantizable layers' parameters PTQAT trains at freeze ratio 0.5, under each
discrepancy measure, from the calibration records of results files; and how far each measure's
frozen set overlaps the default's (isolated NMSE). Needs h5py (pip install h5py).

    scripts/selection_fractions.py runs/*/results.h5

It applies quant::select_layers' rule for freeze_by = "layers" to the recorded measures (the
ranked layers in forward order, sorted by the measure, the first floor(0.5 n + 0.5) frozen), so
every metric and mode can be compared from one calibration (docs/quantization.md).
"""
import math
import sys

import h5py

MEASURES = [f"{mode}_{metric}" for mode in ("isolated", "cumulative")
            for metric in ("mse", "nmse", "cosine")]


def frozen_rows(ranked, values, rule):
    rows = [i for i in range(len(ranked)) if ranked[i]]  # forward order: ties keep it
    rows.sort(key=lambda i: -values[i] if rule == "smallest" else values[i])
    return set(rows[:math.floor(0.5 * len(rows) + 0.5)])


def main(paths):
    for path in paths:
        with h5py.File(path, "r") as results:
            for run in results["runs"].values():
                if run.attrs["stage"] != "calibrate":
                    continue
                layers = run["layers"]
                params = layers["parameters"][:]
                ranked = layers["ranked"][:]
                default = frozen_rows(ranked, layers["discrepancy_isolated_nmse"][:], "smallest")
                print(f"{run.attrs['label_model']} {run.attrs['label_bits']}: {len(params)} layers, "
                      f"{int(ranked.sum())} ranked, {int(params.sum())} parameters")
                print("  measure             trained (smallest)  trained (largest)  Jaccard vs default")
                for measure in MEASURES:
                    values = layers["discrepancy_" + measure][:]
                    shares = []
                    for rule in ("smallest", "largest"):
                        frozen = sum(params[i] for i in frozen_rows(ranked, values, rule))
                        shares.append(1 - frozen / params.sum())
                    other = frozen_rows(ranked, values, "smallest")
                    jaccard = len(default & other) / len(default | other)
                    print(f"  {measure:18s}  {shares[0]:18.2f}  {shares[1]:17.2f}  {jaccard:18.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
