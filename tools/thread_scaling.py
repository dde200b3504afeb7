"""How much each default teacher gains from a second thread, and from a second worker.

Prints, per default teacher on a benchmark dataset (default adult, its training
split): one fit with the library's own threads, one capped to one thread, and two
one-thread fits in two joblib workers at once. It bounds the teacher stage's
speed-up at ``n_jobs=2`` over ``n_jobs=1`` (docs/benchmarks.md): when a library
already keeps every core busy at ``n_jobs=1``, workers add little.

    python tools/thread_scaling.py [dataset]
"""

import sys
import time
from pathlib import Path

from joblib import Parallel, delayed
from sklearn.base import clone
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import split_dataset, timed_fit  # noqa: E402
from skhpmkd.teachers import default_teachers  # noqa: E402


def limited_fit_seconds(estimator, X, y, threads=None):
    """Seconds of one fit, with every thread pool capped to ``threads`` (None: as is)."""
    with threadpool_limits(threads):
        return timed_fit(estimator, X, y)[1]


def main(name="adult"):
    X, _, y, _, _ = split_dataset(name)
    print(f"{name}: {X.shape[0]} rows, {X.shape[1]} columns")
    for teacher_name, estimator in default_teachers():
        estimator = clone(estimator).set_params(random_state=0)
        single = clone(estimator)
        if "n_jobs" in single.get_params():
            single.set_params(n_jobs=1)
        own = limited_fit_seconds(clone(estimator), X, y)
        one = limited_fit_seconds(clone(single), X, y, threads=1)
        start = time.perf_counter()
        Parallel(n_jobs=2)(delayed(limited_fit_seconds)(clone(single), X, y, 1)
                           for _ in range(2))
        pair = time.perf_counter() - start
        print(f"{teacher_name}: own threads {own:.2f} s; one thread {one:.2f} s "
              f"({one / own:.2f}x slower); two one-thread fits in two workers "
              f"{pair:.2f} s (worker start-up included)")


if __name__ == "__main__":
    main(*sys.argv[1:])
