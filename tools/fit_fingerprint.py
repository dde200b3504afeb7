"""Does a change move any fit? Fixed default fits' test probabilities, saved and compared.

A refactor meant to change nothing is checked by fitting the same six cases before and
after it and comparing their ``predict_proba`` on the test rows: the protocol's split
of three benchmark datasets, seed 0, ``memory=None``, default teachers. The cases take
the paths most fits take (the search, member averaging, the winner's confirmation) and
the switchable ones a refactor of ``fit`` most easily breaks: the augment trial's
pooled folds (glass: fewer than 50 validation rows), the search on three folds,
leak-free search labels, sample weights, forced augmentation and validation rows held
out of the fold teachers.

    python tools/fit_fingerprint.py --out BEFORE.npz              # on the code before
    python tools/fit_fingerprint.py --out AFTER.npz --against BEFORE.npz

``--against`` prints each case's largest absolute difference (0: bit-identical), or
both shapes where they differ.
``--cases`` runs some of them (about 3.5 minutes for all six on 2 cores).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import split_dataset  # noqa: E402
from skhpmkd import HPMKDClassifier  # noqa: E402

#: name -> (dataset, the classifier's parameters besides random_state and memory)
CASES = {
    "glass_default": ("glass", {}),
    "breast_cancer_default": ("breast_cancer", {}),
    "breast_cancer_search_folds": ("breast_cancer", {"search_folds": 3}),
    "breast_cancer_held_out_labels_weighted": (
        "breast_cancer", {"search_labels": "held_out", "class_weight": "balanced"}),
    "penguins_augment_weighted": ("penguins",
                                  {"augment": 2.0, "class_weight": "balanced"}),
    "penguins_validation_held_out": ("penguins", {"validation_held_out": True}),
}


def fingerprint(name):
    """Test probabilities of case ``name``."""
    dataset, params = CASES[name]
    X_train, X_test, y_train, _, _ = split_dataset(dataset)
    model = HPMKDClassifier(random_state=0, memory=None, **params)
    return model.fit(X_train, y_train).predict_proba(X_test)


def _compared(now, before):
    """How far the probabilities ``now`` are from ``before``: the largest absolute
    difference, or both shapes where they differ (a changed case or dataset)."""
    if now.shape != before.shape:
        return f"shape {now.shape} against {before.shape}"
    return f"max |difference| {np.abs(now - before).max():.3g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="npz file to write")
    parser.add_argument("--against", help="npz file of an earlier run to compare with")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args(argv)
    earlier = dict(np.load(args.against)) if args.against else {}
    warnings.simplefilter("ignore")
    probabilities = {}
    for name in args.cases:
        start = time.perf_counter()
        probabilities[name] = fingerprint(name)
        line = f"{name}: {time.perf_counter() - start:.0f} s"
        if name in earlier:
            line += ", " + _compared(probabilities[name], earlier[name])
        print(line, flush=True)
    np.savez(args.out, **probabilities)


if __name__ == "__main__":
    main()
