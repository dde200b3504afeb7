"""List the benchmark datasets' columns with two distinct values other than {0, 1}.

The student's input encodings pass such columns through unscaled (they are taken for
one-hot categories), so a standardised rare binary column reaches the network as,
say, {-0.04, 25.9}. Run from the repository root:

    PYTHONPATH=. python tools/two_valued_columns.py

It prints, per dataset with any, how many such columns its training split has and
the first few value pairs (protocol split, after the benchmark's preprocessing).
"""

import warnings

import numpy as np

from benchmarks.datasets import DATASETS, HOLDOUT_DATASETS
from benchmarks.runner import split_dataset


def two_valued_columns(X):
    """The value pairs of ``X``'s columns that hold two values other than {0, 1}."""
    pairs = [tuple(np.unique(column)) for column in np.asarray(X, dtype=float).T]
    return [pair for pair in pairs if len(pair) == 2 and not set(pair) <= {0.0, 1.0}]


def main():
    warnings.simplefilter("ignore")
    for name in [*DATASETS, *HOLDOUT_DATASETS]:
        pairs = two_valued_columns(split_dataset(name)[0])
        if pairs:
            shown = [tuple(round(float(value), 2) for value in pair) for pair in pairs]
            print(f"{name}: {len(pairs)} column(s), e.g. {shown[:4]}", flush=True)


if __name__ == "__main__":
    main()
