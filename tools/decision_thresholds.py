"""Do the final decisions' noise guards pay on test rows? Both sides of each decision.

Fits the benchmark's ``hpmkd`` row (``HPMKDClassifier(random_state=seed,
memory=None)``, default teachers) on each ``dataset:seed`` given and records, for each
of the two decisions taken after the search, both students it weighed: the winner's
confirmation against the favourite (``confirm_winner``) and the augment trial
(``augment_trial``). Per decision: the mean and standard error of the paired
per-row validation differences, the kept student's losses minus the rival's (the
favourite in the confirmation, the augmented student in the trial), and both
students' test accuracy. The summary replays each decision at other thresholds
``z`` and prints the test accuracy each would have given, in pp against the shipped
rule (``SIGNIFICANCE_Z``, 2), summed over all fits: the search's winner stays where
it is lower than the favourite by ``z`` standard errors, the augmented student
replaces the plain one where it is lower by ``z`` standard errors (docs/benchmarks.md,
"The final decisions' noise guard").

    python tools/decision_thresholds.py --out FILE.jsonl dataset:seed ...
    python tools/decision_thresholds.py --summary FILE.jsonl
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import split_dataset  # noqa: E402
from skhpmkd import HPMKDClassifier  # noqa: E402
from skhpmkd.ensemble import SIGNIFICANCE_Z, beyond_noise, paired_advantage  # noqa: E402
from skhpmkd.student import predict_proba_fast  # noqa: E402

#: Thresholds the summary replays.
THRESHOLDS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


class RecordingClassifier(HPMKDClassifier):
    """The classifier, keeping both students of every decision after the search."""

    def fit(self, X, y, sample_weight=None):
        self.weighed_ = []
        return super().fit(X, y, sample_weight)

    def _rival(self, trainer, net, config, max_members=None):
        rival = super()._rival(trainer, net, config, max_members)
        self.weighed_.append((net, rival[0], np.asarray(rival[3]), np.asarray(rival[4])))
        return rival


def accuracy(net, X, y):
    """Test accuracy of a trained student network."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    return float(np.mean(predict_proba_fast(net.module_, X).argmax(axis=1) == y))


def decision_records(name, seed):
    """One fit's decisions as plain data."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    model = RecordingClassifier(random_state=seed, memory=None)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    kinds = ["confirm"] * bool(model.confirmation_) + ["augment"]
    decisions = []
    for kind, (net, rival, net_losses, rival_losses) in zip(kinds, model.weighed_):
        mean, standard_error = paired_advantage(rival_losses, net_losses)
        decisions.append({
            "kind": kind, "mean": mean, "se": standard_error, "n": len(net_losses),
            "accuracy_kept": accuracy(net, X_test, y_test),
            "accuracy_rival": accuracy(rival, X_test, y_test)})
    return {"dataset": name, "seed": seed, "seconds": seconds,
            "accuracy": float(np.mean(model.predict(X_test) == y_test)),
            "decisions": decisions}


def rival_wins(decision, z):
    """Whether the rival is shipped under the rule at ``z`` (the classifier's
    :func:`skhpmkd.ensemble.beyond_noise`)."""
    if decision["kind"] == "confirm":  # the winner must beat the favourite
        return not beyond_noise(-decision["mean"], decision["se"], z)
    return beyond_noise(decision["mean"], decision["se"], z)


def replayed_gain(decisions, z):
    """Test accuracy (pp) the rule at ``z`` gains over the shipped rule."""
    gain = 0.0
    for decision in decisions:
        accuracy = (decision["accuracy_kept"], decision["accuracy_rival"])
        gain += (accuracy[rival_wins(decision, z)]
                 - accuracy[rival_wins(decision, SIGNIFICANCE_Z)])
    return 100 * gain


def summary(records):
    """Per decision kind and threshold: rival wins, and pp over the shipped rule."""
    lines = []
    for kind in ("confirm", "augment"):
        decisions = [d for record in records for d in record["decisions"]
                     if d["kind"] == kind]
        lines.append(f"{kind}: {len(decisions)} decisions in {len(records)} fits")
        for z in THRESHOLDS:
            wins = sum(rival_wins(d, z) for d in decisions)
            gain = replayed_gain(decisions, z)
            lines.append(f"  z={z:g}: rival wins {wins}, {gain:+.2f} pp in all, "
                         f"{gain / len(records):+.3f} pp per fit")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fits", nargs="*", help="dataset:seed")
    parser.add_argument("--out", help="append one JSON line per fit")
    parser.add_argument("--summary", help="summarise a file written with --out")
    args = parser.parse_args(argv)
    if args.summary:
        records = [json.loads(line) for line in open(args.summary) if line.strip()]
        print(summary(records))
        return
    with open(args.out, "a") if args.out else open("/dev/null", "w") as out:
        for fit in args.fits:
            name, seed = fit.rsplit(":", 1)
            record = decision_records(name, int(seed))
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
