"""screen66 and screen67 (docs/benchmarks.md): does keeping only the columns tree
models rank highest help the student on wide data?

screen66, per dataset, seed 0: ``HPMKDClassifier`` on every column
(``student_features="all"``), and the same after ``SelectFromModel(XGBClassifier(
random_state=0), max_features=100, threshold=-inf)`` in a Pipeline (teachers and
student then see the 100 columns). screen67 (``--component``): the default fit, whose
student takes the columns its teachers rank highest (``student_features="auto"``),
and with ``--baseline`` also ``student_features="all"``. One JSON line per dataset:
test accuracy, each teacher's, seconds.

    python -m benchmarks.probes.screening hepatic_injury syn_wide2000 ...
    python -m benchmarks.probes.screening --component --baseline resume_names ...

A name ``make:N:F:I:S[:C]`` is ``make_classification(N, F, n_informative=I,
random_state=S, n_classes=C)`` (C: 2 where left out), even rows to train and odd rows
to test.
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

#: screen67's declared confirmation of the library component: a registered dataset
#: that ``student_features="auto"`` screens and no run had screened, and five fresh
#: synthetic tasks.
COMPONENT_CONFIRMATION = ("resume_names", "make:900:1200:20:6:3", "make:500:800:8:7",
                          "make:2000:400:40:8", "make:700:2500:25:9:4",
                          "make:1200:600:12:10:2")


def split(name):
    """``(X_train, X_test, y_train, y_test, n_classes)`` of a registered dataset, a
    synthetic task of nothing66 or a ``make:N:F:I:S[:C]`` task."""
    if not name.startswith("make:"):
        return split_named(name)
    n_samples, n_features, n_informative, seed, *classes = map(
        int, name.split(":")[1:])
    n_classes = classes[0] if classes else 2
    X, y = make_classification(n_samples, n_features, n_informative=n_informative,
                               n_classes=n_classes, random_state=seed)
    return X[::2], X[1::2], y[::2], y[1::2], n_classes


def screened(estimator, max_features=100, seed=0):
    """``estimator`` after a step keeping the ``max_features`` columns an XGBoost
    model fitted on the training rows ranks highest."""
    return make_pipeline(SelectFromModel(XGBClassifier(random_state=seed),
                                         max_features=max_features, threshold=-np.inf),
                         estimator)


def compare(name, max_features=100):
    """The fit on every column against the same on the screened columns."""
    X_train, X_test, y_train, y_test, _ = split(name)
    record = {"dataset": name, "shape": list(X_train.shape)}
    for mode in ("all", "screened"):
        distiller = HPMKDClassifier(random_state=0, memory=None, student_features="all")
        model = distiller if mode == "all" else screened(distiller, max_features)
        model, seconds = timed_fit(model, X_train, y_train)
        X_seen = X_test if mode == "all" else model[0].transform(X_test)
        record[mode] = {"acc": float(model.score(X_test, y_test)),
                        "teachers": [round(float(t.score(X_seen, y_test)), 4)
                                     for t in distiller.teachers_],
                        "s": round(seconds, 1)}
    return record


def compare_component(name, baseline=False):
    """The default fit (its student on the columns its teachers rank highest, where
    ``student_features="auto"`` screens), with ``baseline`` also on every column."""
    X_train, X_test, y_train, y_test, _ = split(name)
    record = {"dataset": name, "shape": list(X_train.shape)}
    for mode in ("auto", "all") if baseline else ("auto",):
        distiller, seconds = timed_fit(HPMKDClassifier(
            random_state=0, memory=None, student_features=mode), X_train, y_train)
        columns = distiller.student_columns_
        record[mode] = {"acc": float(distiller.score(X_test, y_test)),
                        "kept": None if columns is None else len(columns),
                        "teachers": [round(float(t.score(X_test, y_test)), 4)
                                     for t in distiller.teachers_],
                        "s": round(seconds, 1),
                        "trial": {key: distiller.augment_trial_.get(key)
                                  for key in ("folds", "kept", "seconds")}}
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", default=WIDE_POPULATION)
    parser.add_argument("--max-features", type=int, default=100)
    parser.add_argument("--component", action="store_true",
                        help="screen67: the default fit's own screening")
    parser.add_argument("--baseline", action="store_true",
                        help="with --component: also student_features='all'")
    args = parser.parse_args()
    for name in args.datasets:
        record = (compare_component(name, args.baseline) if args.component
                  else compare(name, args.max_features))
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
