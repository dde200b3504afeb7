"""Does a setting generalise? One parameter of HPMKDClassifier at two values, on
synthetic tasks the learned prior was not built on.

The tasks come from the four families of ``tools/build_prior.py`` (seeds from 200 up,
the prior's are 0-31), 500-20,000 rows by default; each is split 75/25 (stratified)
and standardised, and both values are fitted with ``config="default"`` (the static
defaults, no search) and the same ``random_state``, so the two fits differ in that one
parameter. With ``--search`` both fit with ``config="auto"`` (the learned prior and
the search), for settings of the search itself. Prints one JSON line per task, then
the mean differences (second value minus first).

    python tools/compare_on_synthetic.py PARAM VALUE_A VALUE_B [--seeds 200 210]
                                         [--rows 500 20000] [--search]

Values are read as JSON where they parse (``true``, ``2.0``), else as text
(``auto``), e.g. ``python tools/compare_on_synthetic.py augment off auto``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, log_loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skhpmkd import HPMKDClassifier  # noqa: E402
from tools.build_prior import split_task  # noqa: E402


def parse_value(text):
    """``text`` as JSON where it parses, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def score(params, X_train, y_train, X_test, y_test, seed, config="default"):
    """Test accuracy, log-loss and fit seconds of the fit with ``params`` (the static
    defaults, or ``config``)."""
    start = time.perf_counter()
    model = HPMKDClassifier(config=config, memory=None, random_state=seed,
                            **params).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    return {"acc": round(accuracy_score(y_test, model.classes_[proba.argmax(1)]), 4),
            "ll": round(log_loss(y_test, proba, labels=model.classes_), 4),
            "fit": round(seconds, 1)}


def compare_task(seed, param, values, rows, config="default"):
    """One task's line: its shape and both values' scores."""
    family, X, y, X_train, X_test, y_train, y_test = split_task(seed, rows)
    line = {"seed": seed, "family": family, "n": len(X), "d": X.shape[1],
            "k": len(np.unique(y))}
    for value in values:
        line[json.dumps(value)] = score({param: value}, X_train, y_train, X_test, y_test,
                                        seed, config)
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("param")
    parser.add_argument("values", nargs=2, type=parse_value)
    parser.add_argument("--seeds", nargs=2, type=int, default=(200, 210),
                        help="first and one past the last task seed")
    parser.add_argument("--rows", nargs=2, type=int, default=(500, 20000))
    parser.add_argument("--search", action="store_true",
                        help='fit with config="auto" instead of the static defaults')
    args = parser.parse_args()
    first, second = (json.dumps(value) for value in args.values)
    differences = []
    for seed in range(*args.seeds):
        line = compare_task(seed, args.param, args.values, tuple(args.rows),
                            "auto" if args.search else "default")
        print(json.dumps(line), flush=True)
        differences.append([line[second][key] - line[first][key]
                            for key in ("acc", "ll", "fit")])
    acc, ll, _ = np.mean(differences, axis=0)
    wins = sum(d[0] > 0 for d in differences)
    print(f"{args.param}={second} against {first} on {len(differences)} tasks: "
          f"{100 * acc:+.2f} pp accuracy (higher on {wins}), {ll:+.4f} log-loss")


if __name__ == "__main__":
    main()
