"""Wall time of a fresh process that imports a library and fits a small problem.

Compares ``sklearn_mtl.RegularizedGDRegressor`` (L1) with sklearn's ``Lasso``:
each run is a new Python process that imports the estimator, loads the diabetes
data and fits once. Numba's on-disk cache is warmed first, so the figure is what
a user pays on every new process after the first ever: imports, loading the
compiled kernels and the fit itself (skglm's jitclasses, which cannot be cached,
recompile in every process; their figure is printed too when skglm is
installed).

Where the time goes (measured here): ``import sklearn.base`` alone costs about
as much as ``import sklearn.linear_model``, and Numba adds a fixed cost to every
process that calls any jitted function, cached or not: about 0.25 s to import
and 0.25 s to set up its typing registries on the first call. Loading our
cached kernels and fitting then takes about a millisecond.

Run with ``python benchmarks/bench_cold_start.py [--repeats 15]``.
"""

import argparse
import statistics
import subprocess
import sys
import time

# Two ways to get "a small problem": generated with NumPy, so that the process
# pays exactly the library's own import and fit, and sklearn's diabetes data,
# whose loader already imports most of scikit-learn for every contender.
DATA = {
    "numpy data": (
        "import numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((200, 20)); y = X[:, 0] + rng.standard_normal(200)\n"
    ),
    "load_diabetes": (
        "from sklearn.datasets import load_diabetes\n"
        "X, y = load_diabetes(return_X_y=True)\n"
    ),
}
FITS = {
    "sklearn_mtl RegularizedGDRegressor": (
        "from sklearn_mtl import RegularizedGDRegressor\n"
        "RegularizedGDRegressor(penalty='l1', alpha=0.1).fit(X, y)\n"
    ),
    "sklearn Lasso": (
        "from sklearn.linear_model import Lasso\n"
        "Lasso(alpha=0.1).fit(X, y)\n"
    ),
    "skglm Lasso": "from skglm import Lasso\nLasso(alpha=0.1).fit(X, y)\n",
}


def run_once(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def available(code):
    try:
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True
        )
    except subprocess.CalledProcessError:
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    for data_name, data_code in DATA.items():
        # Warm-up: fills Numba's cache and the OS file cache for every library.
        scripts = {
            name: data_code + fit_code
            for name, fit_code in FITS.items()
            if available(data_code + fit_code)
        }
        timings = {name: [] for name in scripts}
        for _ in range(args.repeats):
            for name, code in scripts.items():  # interleaved: load drifts hit all
                timings[name].append(run_once(code))

        baseline = statistics.median(timings["sklearn Lasso"])
        print(f"\n{data_name}: median of {args.repeats} fresh processes, warm caches")
        print(
            f"{'process':<38} {'median (s)':>10} {'min (s)':>8} "
            f"{'ratio to Lasso':>15}"
        )
        for name, values in timings.items():
            median = statistics.median(values)
            print(
                f"{name:<38} {median:>10.3f} {min(values):>8.3f} "
                f"{median / baseline:>15.2f}"
            )


if __name__ == "__main__":
    main()
