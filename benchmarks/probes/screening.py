"""screen66 (docs/benchmarks.md, "Screening wide data's columns"): does keeping only
the columns a gradient-boosted model ranks highest help the student on wide data?

Per dataset, seed 0: the default ``HPMKDClassifier`` on every column, and the same
after ``SelectFromModel(XGBClassifier(random_state=0), max_features=100,
threshold=-inf)`` in a Pipeline (teachers and student then see the 100 columns). One
JSON line per dataset: test accuracy, each teacher's, seconds.

    python -m benchmarks.probes.screening hepatic_injury syn_wide2000 ...

A name ``make:N:F:I:S`` is ``make_classification(N, F, n_informative=I,
random_state=S)``, even rows to train and odd rows to test.
"""

import argparse
import json

import numpy as np
from sklearn.datasets import make_classification
from sklearn.feature_selection import SelectFromModel
from sklearn.pipeline import make_pipeline
from xgboost import XGBClassifier

from skhpmkd import HPMKDClassifier

from ..runner import timed_fit
from .learned_nothing import split as split_named

#: wide64's four tables and the two synthetic wide tasks of nothing66.
WIDE_POPULATION = ("hepatic_injury", "pd_speech_status", "tissue_type", "syn_wide2000",
                   "syn_wide5000", "grants_success")

#: screen66b's declared confirmation: the other registered datasets with at least 100
#: inputs (at most 15,000 rows) and four fresh synthetic tasks.
CONFIRMATION = ("ad_data", "car_choice", "make:400:1000:10:1", "make:600:3000:30:2",
                "make:300:1500:5:3", "make:1000:2000:50:4")


def split(name):
    """``(X_train, X_test, y_train, y_test, n_classes)`` of a registered dataset, a
    synthetic task of nothing66 or a ``make:N:F:I:S`` task."""
    if not name.startswith("make:"):
        return split_named(name)
    n_samples, n_features, n_informative, seed = map(int, name.split(":")[1:])
    X, y = make_classification(n_samples, n_features, n_informative=n_informative,
                               random_state=seed)
    return X[::2], X[1::2], y[::2], y[1::2], 2


def screened(estimator, max_features=100, seed=0):
    """``estimator`` after a step keeping the ``max_features`` columns an XGBoost
    model fitted on the training rows ranks highest."""
    return make_pipeline(SelectFromModel(XGBClassifier(random_state=seed),
                                         max_features=max_features, threshold=-np.inf),
                         estimator)


def compare(name, max_features=100):
    """The default fit on every column against the same on the screened columns."""
    X_train, X_test, y_train, y_test, _ = split(name)
    record = {"dataset": name, "shape": list(X_train.shape)}
    for mode in ("all", "screened"):
        distiller = HPMKDClassifier(random_state=0, memory=None)
        model = distiller if mode == "all" else screened(distiller, max_features)
        model, seconds = timed_fit(model, X_train, y_train)
        X_seen = X_test if mode == "all" else model[0].transform(X_test)
        record[mode] = {"acc": float(model.score(X_test, y_test)),
                        "teachers": [round(float(t.score(X_seen, y_test)), 4)
                                     for t in distiller.teachers_],
                        "s": round(seconds, 1)}
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", default=WIDE_POPULATION)
    parser.add_argument("--max-features", type=int, default=100)
    args = parser.parse_args()
    for name in args.datasets:
        print(json.dumps(compare(name, args.max_features)), flush=True)


if __name__ == "__main__":
    main()
