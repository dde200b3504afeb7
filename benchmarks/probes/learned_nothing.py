"""nothing66 (docs/benchmarks.md, "A student that learned nothing"): does ``fit``'s
warning fire where the student learned nothing, and only there?

One ``HPMKDClassifier(random_state=0, memory=None)`` fit per dataset on the protocol's
split (the two synthetic wide tasks split as the section says), its student on every
column as in the run (``student_features="all"``, the default then); one JSON line
each: the warning, ``validation_scores_``, and on the test rows the student's accuracy
and log-loss beside the majority class's rate and the class shares' log-loss.

    python -m benchmarks.probes.learned_nothing syn_wide5000 smokeban ...
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss

from skhpmkd import HPMKDClassifier

from ..runner import split_dataset

#: The section's population: three synthetic wide tasks, four near-chance held-out
#: datasets, and stack65's 30 datasets under 15,000 rows (k401k_eligible in both).
POPULATION = (
    "syn_wide5000", "syn_wide2000", "syn_wide2000_2c", "smokeban", "kakadu", "dengue",
    "k401k_eligible", "breast_cancer", "digits", "penguins", "german_credit",
    "hpc_data", "wa_churn", "credit_data", "oj", "taxi", "titanic", "leaves", "mroz",
    "train_choice", "credit_card", "nhefs", "cps_occupation", "guimmun", "computers_cd",
    "hiv_results", "bank_job", "auto_origin", "psid_union", "political_info",
    "melanoma_status", "unemp_fulltime", "vietnam_farm", "math_level", "babies_smoke",
    "pd_speech_status")


def split(name):
    """``(X_train, X_test, y_train, y_test, n_classes)``: a registered dataset on the
    protocol's split, or one of the three synthetic wide tasks."""
    if name in ("syn_wide2000", "syn_wide2000_2c"):  # the first 300 rows train
        # wide35's task has one cluster a class; "_2c" make_classification's default 2
        X, y = make_classification(400, 2000, n_informative=15, random_state=0,
                                   n_clusters_per_class=2 if name.endswith("2c") else 1)
        return X[:300], X[300:], y[:300], y[300:], 2
    if name == "syn_wide5000":  # even rows train, odd rows test
        X, y = make_classification(400, 5000, n_informative=20, random_state=0)
        return X[::2], X[1::2], y[::2], y[1::2], 2
    return split_dataset(name)


def measure(name):
    """One fit's JSON-ready record."""
    X_train, X_test, y_train, y_test, n_classes = split(name)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = HPMKDClassifier(random_state=0, memory=None,
                              student_features="all").fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    shares = np.bincount(y_train, minlength=n_classes) / len(y_train)
    labels = np.arange(n_classes)
    return {
        "dataset": name,
        "warned": any("learned nothing" in str(w.message) for w in caught),
        "valid": clf.validation_scores_,
        "test_acc": float((proba.argmax(axis=1) == y_test).mean()),
        "majority": float(np.bincount(y_test, minlength=n_classes).max() / len(y_test)),
        "test_ll": float(log_loss(y_test, proba, labels=labels)),
        "shares_ll": float(log_loss(y_test, np.tile(shares, (len(y_test), 1)),
                                    labels=labels)),
        "seconds": round(time.perf_counter() - start, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", default=POPULATION)
    for name in parser.parse_args().datasets:
        print(json.dumps(measure(name)), flush=True)


if __name__ == "__main__":
    main()
