"""Import cost of a figure job: what `widenet plot` imports, with and without seaborn.

Each measurement is a fresh interpreter (`python -X importtime`); the cumulative import time of a
module is read from its line. Run: `.venv/bin/python benchmarks/bench_figure_imports.py [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CASES = {
    # what every figure job imports (the store reader, the style, one figure module)
    "figure job": "import widenet.store, widenet.figures.style, widenet.figures.sphere_projection",
    # seaborn on top of that (A6 imports it inside plot)
    "+ seaborn": "import widenet.store, widenet.figures.style, widenet.figures.ntk_convergence; import seaborn",
    # seaborn in a fresh process, with nothing else loaded (it pulls in scipy.stats and pyplot)
    "seaborn alone": "import seaborn",
}


def cumulative_us(code: str, module: str) -> int:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True).stderr
    for line in err.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = {
        "figure job: widenet.figures.style (incl. matplotlib, widenet.laws → scipy.stats)":
            ("figure job", "widenet.figures.style"),
        "figure job: widenet.store (incl. xarray, netCDF4)": ("figure job", "widenet.store"),
        "seaborn after the figure job's imports": ("+ seaborn", "seaborn"),
        "seaborn in a bare interpreter": ("seaborn alone", "seaborn"),
    }
    for label, (case, module) in rows.items():
        times = [cumulative_us(CASES[case], module) / 1e6 for _ in range(args.repeats)]
        print(f"{label}: median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, n = {args.repeats})")


if __name__ == "__main__":
    main()
