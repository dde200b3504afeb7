"""Distil a teacher ensemble into a small MLP on scikit-learn's digits and compare.

Run with ``make demo`` (or ``python examples/demo.py``). Prints the
:class:`~skhpmkd.DistillationReport` of the fit on the test rows (for each teacher,
the teachers' average and the distilled student: accuracy, log-loss, size, prediction
time on all test rows and on one row; retention, compression and speed-ups), the
size of the copy to ship (the student without the teachers), then what the fit took
and chose.
"""

import os
import pickle
import platform
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skhpmkd import DistillationReport, HPMKDClassifier
from skhpmkd.config import describe_config


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    start = time.perf_counter()
    clf = HPMKDClassifier(random_state=0, n_jobs=2, verbose=1).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start

    print(f"\ndigits: {len(X_train)} train / {len(X_test)} test rows, 10 classes; "
          f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}")
    print(DistillationReport.from_estimator(clf, X_test, y_test, n_repeats=5))
    print(f"{clf.teacher_n_nodes_:,} tree nodes in the teachers, "
          f"{clf.student_n_params_:,} parameters in the student")
    print(f"to ship: clf.without_teachers() pickles to "
          f"{len(pickle.dumps(clf.without_teachers())) / 1024:,.1f} KiB "
          f"(clf with its teachers: {len(pickle.dumps(clf)) / 1024:,.1f} KiB)")

    student_stage = ("student restored" if clf.restored_
                     else "configuration search and student")
    print(f"fit: {fit_seconds:.1f} s (teachers {clf.fit_times_['teachers']:.1f} s, "
          f"{student_stage} {clf.fit_times_['student']:.1f} s)")
    origin = {"memory": "reused from the memory: a past search on the same data",
              "search": "from the search"}
    print(f"configuration: {describe_config(clf.config_)} "
          f"({origin.get(clf.config_source_, 'from ' + clf.config_source_)})")
    tried = len(clf.members_)
    print(f"students averaged: {clf.n_members_} of {max(tried, 1)} trained "
          "(another is kept only where it pays on the validation rows)")
    if clf.restored_:
        print("this exact fit ran before: its student was restored from the optimization "
              "memory, not trained (pass memory=None to train it again)")
    else:
        print("running the demo again restores this student from the optimization "
              "memory instead of training it")


if __name__ == "__main__":
    main()
