"""Sample-weight figures: class-balanced weights against none, teachers and student.

On the protocol's split, ``HPMKDClassifier`` is fitted twice with the same seed: without
weights, and with ``sample_weight=compute_sample_weight("balanced", y)`` (each class
weighs as much in all). For each fit, the student and every fitted teacher (its
``teachers_``, fitted with the same weights) are scored on the test rows by accuracy
and balanced accuracy (the mean recall over classes, which balanced weights trade
accuracy for).
"""

from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.utils.class_weight import compute_sample_weight

from skhpmkd import HPMKDClassifier

from .runner import split_dataset, timed_fit

#: The two fits: no weights, and class-balanced weights.
WEIGHTINGS = ("none", "balanced")


def _scores(y_true, y_pred):
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred))}


def weighted_figures(name, seed=0, log=print):
    """The figures on one dataset, as a dict: per weighting, the fit's seconds, its
    configuration, and the scores of its student and of each of its teachers."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    result = {"dataset": name, "seed": seed}
    for weighting in WEIGHTINGS:
        fit_params = ({} if weighting == "none" else
                      {"sample_weight": compute_sample_weight(weighting, y_train)})
        clf, seconds = timed_fit(HPMKDClassifier(memory=None, random_state=seed,
                                                 n_jobs=2),
                                 X_train, y_train, **fit_params)
        result[weighting] = {
            "seconds": seconds, "config": clf.config_,
            "student": _scores(y_test, clf.predict(X_test)),
            "teachers": {teacher: _scores(y_test, fitted.predict(X_test))
                         for teacher, fitted in clf.named_teachers_.items()}}
        log(f"{weighting}: {result[weighting]}")
    return result


def format_weighted(result):
    """The figures as text lines: per weighting, the student's and the best teacher's
    balanced accuracy and accuracy."""
    lines = [f"{result['dataset']} (seed {result['seed']}):"]
    for weighting in WEIGHTINGS:
        fit = result[weighting]
        best_name, best = max(fit["teachers"].items(),
                              key=lambda item: item[1]["balanced_accuracy"])
        student = fit["student"]
        lines.append(
            f"  {weighting:>8}: student balanced accuracy "
            f"{student['balanced_accuracy']:.4f} (accuracy {student['accuracy']:.4f}); "
            f"best teacher {best_name} {best['balanced_accuracy']:.4f} "
            f"({best['accuracy']:.4f}); retention "
            f"{100 * student['balanced_accuracy'] / best['balanced_accuracy']:.1f}%; "
            f"fit {fit['seconds']:.0f} s")
    return "\n".join(lines)
