"""oof69 (docs/benchmarks.md, "Out-of-fold labels over repeated partitions"): the
teachers' out-of-fold probabilities averaged over several fold partitions.

Each fit runs twice in one process, ``HPMKDClassifier(random_state=seed,
memory=None)`` on the protocol's split: as shipped, and with every teacher stage
fitted in folds (the main one and its reruns on some rows) repeated ``--repeats``
times, repeat ``r`` shifting the fold seed and the teachers' seeds by ``r``; the
out-of-fold probabilities are the repeats' mean, the teachers fitted on all rows
repeat 0's. One JSON line per fit and variant: test accuracy and log-loss, fit
seconds, the configuration chosen, and the main stage's averaged teacher
out-of-fold accuracy and log-loss on the training rows.

    python -m benchmarks.probes.oof_repeats penguins german_credit --seeds 0 1 2
"""

import argparse
import json
import time
from unittest import mock

import numpy as np

from skhpmkd import HPMKDClassifier, classifier

from ..runner import split_dataset
from .teacher_mixture import accuracy_and_log_loss

#: oof69's development population: main53's datasets under 5,000 rows.
DEVELOPMENT = (
    "breast_cancer", "digits", "penguins", "german_credit", "hpc_data", "credit_data",
    "attrition", "cells", "hmda", "oj", "chile", "benefits", "spam7")

#: oof69's declared confirmation: linear65's confirmation datasets under 5,000 rows
#: but cells (in the development population).
CONFIRMATION = (
    "crabs", "parabolic", "resume_names", "ces11", "smoking", "saratoga_air", "dengue",
    "rotterdam_recur", "greene_decision", "weekly_direction", "rwm_outwork", "ais_sex",
    "help_substance", "tipi_gender", "bdims_sex", "fertil2_usemeth", "charity_respond")


def repeated_fit_teachers(fit_teachers, repeats, stages):
    """``fit_teachers`` whose out-of-fold probabilities are the mean over
    ``repeats`` fold partitions where its ``teacher_cv`` is a number of folds;
    each call's probabilities are appended to ``stages``."""
    def fit_repeated(teachers, X, y, *, teacher_cv, seeds, **kwargs):
        fitted, proba, codes, seconds = fit_teachers(
            teachers, X, y, teacher_cv=teacher_cv, seeds=seeds, **kwargs)
        if not isinstance(teacher_cv, str):
            for shift in range(1, repeats):
                proba = proba + fit_teachers(
                    teachers, X, y, teacher_cv=teacher_cv,
                    seeds=np.asarray(seeds) + shift, **kwargs)[1]
            proba = proba / repeats
        stages.append(proba)
        return fitted, proba, codes, seconds
    return fit_repeated


def measure(name, seed, repeats):
    """The JSON-ready record of one fit with ``repeats`` partitions (1: as shipped)."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    stages = []
    patched = repeated_fit_teachers(classifier.fit_teachers, repeats, stages)
    start = time.perf_counter()
    with mock.patch.object(classifier, "fit_teachers", patched):
        clf = HPMKDClassifier(random_state=seed, memory=None).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    acc, loss = accuracy_and_log_loss(clf.predict_proba(X_test), y_test)
    oof_acc, oof_loss = accuracy_and_log_loss(stages[0].mean(axis=1), y_train)
    return {"dataset": name, "seed": seed, "repeats": repeats, "test_acc": acc,
            "test_ll": loss, "seconds": round(seconds, 1),
            "teacher_stages": len(stages), "oof_acc": oof_acc, "oof_ll": oof_loss,
            "config": {key: clf.config_[key] for key in ("temperature", "alpha",
                                                         "numeric_embedding",
                                                         "augment")},
            "augment_kept": bool((clf.augment_trial_ or {}).get("kept"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", default=DEVELOPMENT)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in args.datasets:
        for seed in args.seeds:
            for repeats in (1, args.repeats):
                print(json.dumps(measure(name, seed, repeats)), flush=True)


if __name__ == "__main__":
    main()
