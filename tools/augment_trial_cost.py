"""What the augment trial costs, what it decides, and whether its first augmented
member foretells it.

Fits the benchmark's ``hpmkd`` row (``HPMKDClassifier(random_state=seed,
memory=None)``, default teachers; ``--split`` sets ``augment_trial="split"``) on each
``dataset:seed`` given and prints, per fit: the fit's and the trial's seconds, the
test accuracy, whether augmentation was kept, the folds the trial pooled (0: the
validation split), the plain and augmented students' held-out log-loss, and each
augmented member's own loss, the average's loss up to it and its seconds
(``augment_trial_["members"]``). The summary gives the trial's share of the fits'
time and how far an augmented average fell below its first member: the margin a
rule that stops the trial after one member would have to allow (docs/benchmarks.md,
"The augment trial's cost", "The augment trial on small data").

    python tools/augment_trial_cost.py [--split] [--out FILE.jsonl] dataset:seed ...
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import split_dataset  # noqa: E402
from skhpmkd import HPMKDClassifier  # noqa: E402


def trial_record(name, seed, augment_trial=True):
    """One fit's trial as plain data."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    start = time.perf_counter()
    model = HPMKDClassifier(random_state=seed, memory=None,
                            augment_trial=augment_trial).fit(X_train, y_train)
    return {"dataset": name, "seed": seed, "seconds": time.perf_counter() - start,
            "accuracy": float((model.predict(X_test) == y_test).mean()),
            "config": model.config_, "trial": model.augment_trial_}


def describe(record):
    """One line per fit."""
    trial = record["trial"]
    head = (f"{record['dataset']}:{record['seed']} fit {record['seconds']:.1f} s, "
            f"accuracy {record['accuracy']:.4f}")
    if not trial:
        return head + ", no trial"
    members = ", ".join(
        f"{m['valid_loss']:.4f}/{m['average_loss']:.4f}/{m['seconds']:.1f}s"
        for m in trial["members"])
    return (f"{head}, trial {trial['seconds']:.1f} s, kept {trial['kept']}, folds "
            f"{trial.get('folds', 0)}, plain {trial['plain_loss']:.4f}, augmented "
            f"{trial['augmented_loss']:.4f}, members (own/average/seconds): "
            f"{members or 'none'}")


def summary(records):
    """The trial's share of the time, and the largest fall below a first member."""
    trials = [r["trial"] for r in records if r["trial"]]
    share = sum(t["seconds"] for t in trials) / sum(r["seconds"] for r in records)
    fall = max((t["members"][0]["average_loss"] - min(m["average_loss"]
                                                      for m in t["members"])
                for t in trials if t["members"]), default=0.0)
    kept = sum(t["kept"] for t in trials)
    return (f"{len(trials)} trials in {len(records)} fits, {kept} kept; trial share "
            f"of fit time {share:.0%}; largest fall of an augmented average below "
            f"its first member {fall:.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fits", nargs="+", help="dataset:seed")
    parser.add_argument("--out", help="also write one JSON line per fit here")
    parser.add_argument("--split", action="store_true",
                        help='augment_trial="split": judge on the validation rows only')
    args = parser.parse_args(argv)
    records = []
    for fit in args.fits:
        name, seed = fit.split(":")
        records.append(trial_record(name, int(seed),
                                    augment_trial="split" if args.split else True))
        print(describe(records[-1]), flush=True)
        if args.out:
            with open(args.out, "a") as out:
                out.write(json.dumps(records[-1]) + "\n")
    print(summary(records))


if __name__ == "__main__":
    main()
