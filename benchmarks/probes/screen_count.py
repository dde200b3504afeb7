"""screen67k (docs/benchmarks.md): would choosing how many columns the student keeps
on the validation rows beat keeping 100?

Per dataset, seed 0: the default fit with ``student_features`` 30, 100 and 300 (every
column where X has no more), the three sharing one teacher cache so the teachers fit
once; the count whose student has the lowest validation log-loss
(``validation_scores_["student"]``, the rows that judged it, the same rows for the
three) is the one a component choosing on validation rows would keep. One JSON line
per dataset: each count's test accuracy, validation log-loss and seconds.

    python -m benchmarks.probes.screen_count hepatic_injury make:400:1000:10:1 ...
    python -m benchmarks.probes.screen_count pd_speech_status ... \
        --counts 100 all --seeds 0 1 2

``--counts`` takes "all" (every column) beside ints; ``--seeds`` fits each seed (the
model's ``random_state``; the split stays). count68: ``--ranking training`` ranks the
columns by clones of the fitted teachers refitted on the fit's training rows alone, so
the validation rows that choose the count lent the ranking no labels (the default,
``teachers``, is the library's ranking by ``teachers_``, which saw them).
"""

import argparse
import contextlib
import json
import tempfile
from unittest import mock

from sklearn.base import clone

from skhpmkd import HPMKDClassifier, screening
from skhpmkd.student import take_rows

from ..runner import timed_fit
from .screening import split

#: The counts compared.
COUNTS = (30, 100, 300)


@contextlib.contextmanager
def ranked_on_training_rows():
    """Within it, fits rank the student's columns by clones of their fitted teachers
    refitted on the fit's training rows alone (the rows its validation split leaves
    for training); the refitted teachers' ranking is kept for later fits on the same
    rows."""
    split_rows, rankings = {}, {}
    validation_split = HPMKDClassifier._validation_split

    def recording_split(self, y, seed):
        rows = validation_split(self, y, seed)
        split_rows["train"] = rows[0]
        return rows

    def training_row_ranking(teachers, X, y, sample_weight=None, random_state=None):
        train = split_rows["train"]
        key = (X.shape, train.tobytes(), random_state)
        if key not in rankings:
            weights = take_rows(sample_weight, train)
            refitted = [clone(teacher).fit(X[train], y[train], sample_weight=weights)
                        for teacher in teachers]
            rankings[key] = screening.column_ranking(refitted, X[train], y[train],
                                                     weights, random_state)
        return rankings[key]

    with mock.patch.object(HPMKDClassifier, "_validation_split", recording_split), \
            mock.patch("skhpmkd.classifier.column_ranking", training_row_ranking):
        yield


def compare_counts(name, counts=COUNTS, seed=0, ranking="teachers"):
    """Each count's fit, and the count the validation rows would choose."""
    X_train, X_test, y_train, y_test, _ = split(name)
    record = {"dataset": name, "seed": seed, "shape": list(X_train.shape),
              "ranking": ranking}
    with tempfile.TemporaryDirectory() as cache, (
            ranked_on_training_rows() if ranking == "training"
            else contextlib.nullcontext()):
        for count in counts:
            fitted, seconds = timed_fit(HPMKDClassifier(
                random_state=seed, memory=None, student_features=count,
                teacher_cache=cache), X_train, y_train)
            record[str(count)] = {
                "acc": float(fitted.score(X_test, y_test)),
                "valid_loss": fitted.validation_scores_["student"],
                "kept": (X_train.shape[1] if fitted.student_columns_ is None
                         else len(fitted.student_columns_)),
                "s": round(seconds, 1)}
    record["chosen"] = min(map(str, counts), key=lambda k: record[k]["valid_loss"])
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--counts", nargs="+", default=list(COUNTS),
                        type=lambda count: count if count == "all" else int(count))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--ranking", choices=("teachers", "training"),
                        default="teachers")
    args = parser.parse_args()
    for name in args.datasets:
        for seed in args.seeds:
            print(json.dumps(compare_counts(name, args.counts, seed, args.ranking)),
                  flush=True)


if __name__ == "__main__":
    main()
