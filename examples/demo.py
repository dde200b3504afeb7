"""Distil a teacher ensemble into a small MLP on scikit-learn's digits and compare.

Run with ``make demo`` (or ``python examples/demo.py``). Prints, for each teacher, the
teachers' average and the distilled student: test accuracy, log-loss, size, and
prediction latency on 10,000 rows and on 1 row; then retention, compression and
speed-up of the student against the teacher ensemble.
"""

import os
import platform
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skhpmkd import HPMKDClassifier
from skhpmkd.config import describe_config
from skhpmkd.sizes import pickled_nbytes


def latency_ms(predict_proba, X, repeats):
    """Best-of-``repeats`` wall time of ``predict_proba(X)`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict_proba(X)
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    start = time.perf_counter()
    clf = HPMKDClassifier(random_state=0, n_jobs=2, verbose=1).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start

    teachers = dict(clf.named_teachers_)

    def ensemble_proba(rows):
        return np.mean([t.predict_proba(rows) for t in teachers.values()], axis=0)

    models = {name: (t.predict_proba, pickled_nbytes(t)) for name, t in teachers.items()}
    models["teacher average"] = (ensemble_proba, clf.teacher_nbytes_)
    models["student (HPM-KD)"] = (clf.predict_proba, clf.student_nbytes_)

    rows_10k = np.resize(X_test, (10_000, X_test.shape[1]))
    one_row = X_test[:1]
    header = (f"{'model':<18} {'accuracy':>8} {'log-loss':>8} {'size KB':>9} "
              f"{'10k rows ms':>11} {'1 row ms':>9}")
    print(f"\ndigits: {len(X_train)} train / {len(X_test)} test rows, 10 classes; "
          f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}")
    print(header)
    print("-" * len(header))
    results = {}
    for name, (predict_proba, nbytes) in models.items():
        proba = np.asarray(predict_proba(X_test), dtype=np.float64)
        proba /= proba.sum(axis=1, keepdims=True)  # XGBoost returns float32
        accuracy = accuracy_score(y_test, clf.classes_[proba.argmax(1)])
        results[name] = dict(accuracy=accuracy,
                             latency_10k=latency_ms(predict_proba, rows_10k, 5),
                             latency_1=latency_ms(predict_proba, one_row, 50))
        print(f"{name:<18} {accuracy:>8.4f} {log_loss(y_test, proba):>8.4f} "
              f"{nbytes / 1024:>9.1f} {results[name]['latency_10k']:>11.2f} "
              f"{results[name]['latency_1']:>9.3f}")

    student = results["student (HPM-KD)"]
    ensemble = results["teacher average"]
    best_teacher = max(results[name]["accuracy"] for name in teachers)
    print()
    print(f"retention (student / best teacher accuracy): "
          f"{100 * student['accuracy'] / best_teacher:.1f}%")
    print(f"compression (teacher bytes / student bytes):  {clf.compression_ratio_:.1f}x "
          f"({clf.teacher_n_nodes_:,} tree nodes vs "
          f"{clf.student_n_params_:,} parameters)")
    print(f"speed-up on 10,000 rows vs teacher average:   "
          f"{ensemble['latency_10k'] / student['latency_10k']:.1f}x")
    print(f"speed-up on 1 row vs teacher average:         "
          f"{ensemble['latency_1'] / student['latency_1']:.1f}x")
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
