"""width65 (docs/benchmarks.md, "Four wide held-out datasets"): does a wider student,
free of the size budget, gain where the teachers' average is above every student?

Per seed of the protocol's split: the default ``HPMKDClassifier``, then the
configuration it chose with ``width`` multiplied (4 by default) and
``min_compression=None``, sharing one teacher cache. One JSON line per seed.

    python -m benchmarks.probes.student_width grants_success 0 1 2
"""

import argparse
import json
import tempfile

from skhpmkd import HPMKDClassifier

from ..runner import split_dataset, timed_fit


def compare(name, seed, multiple=4.0):
    """The default fit against the wider, unbudgeted one on one seed."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    with tempfile.TemporaryDirectory() as cache:
        # every column, as in the run (the default then)
        params = dict(random_state=seed, teacher_cache=cache, memory=None,
                      student_features="all")
        base, base_seconds = timed_fit(HPMKDClassifier(**params), X_train, y_train)
        chosen = dict(base.config_)
        wide, wide_seconds = timed_fit(HPMKDClassifier(
            config={**chosen, "width": chosen["width"] * multiple}, min_compression=None,
            **params), X_train, y_train)
    return {"seed": seed, "chosen": chosen,
            "base_acc": float(base.score(X_test, y_test)), "base_s": base_seconds,
            "base_compr": float(base.compression_ratio_),
            f"x{multiple}_acc": float(wide.score(X_test, y_test)),
            f"x{multiple}_s": wide_seconds,
            f"x{multiple}_compr": float(wide.compression_ratio_)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("seeds", nargs="+", type=int)
    parser.add_argument("--multiple", type=float, default=4.0)
    args = parser.parse_args()
    for seed in args.seeds:
        print(json.dumps(compare(args.dataset, seed, args.multiple)), flush=True)


if __name__ == "__main__":
    main()
