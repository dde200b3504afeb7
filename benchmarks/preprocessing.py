"""Shared preprocessing that turns a benchmark dataset into a dense float matrix.

Numeric columns are median-imputed and standardised; categorical columns are
imputed with their most frequent value and one-hot encoded. Every model in
the benchmark sees the same preprocessing.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchmarks.datasets import Dataset

__all__ = ["make_pipeline_for", "make_preprocessor"]


def make_preprocessor(dataset: Dataset) -> ColumnTransformer:
    """Build the unfitted column transformer for one dataset.

    Parameters
    ----------
    dataset : Dataset
        Dataset whose ``numeric`` and ``categorical`` column names select the
        columns each branch transforms.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Maps a DataFrame with the dataset's columns to a dense ``float64``
        array: numeric columns through ``SimpleImputer(strategy="median")``
        and ``StandardScaler``, categorical columns through
        ``SimpleImputer(strategy="most_frequent")`` and
        ``OneHotEncoder(handle_unknown="ignore")``. Categories unseen during
        fitting encode as all zeros.
    """
    numeric_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]
    )
    categorical_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="ignore", sparse_output=False, dtype=np.float64
                ),
            ),
        ]
    )
    branches = []
    if dataset.numeric:
        branches.append(("numeric", numeric_steps, dataset.numeric))
    if dataset.categorical:
        branches.append(("categorical", categorical_steps, list(dataset.categorical)))
    return ColumnTransformer(branches, remainder="drop", sparse_threshold=0.0)


def make_pipeline_for(dataset: Dataset, estimator: BaseEstimator) -> Pipeline:
    """Chain the dataset's preprocessor and an estimator.

    Parameters
    ----------
    dataset : Dataset
        Dataset that fixes the preprocessing (see :func:`make_preprocessor`).
    estimator : estimator object
        Any scikit-learn compatible estimator; it receives the dense float
        matrix produced by the preprocessor.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted pipeline with steps ``"prep"`` and ``"model"``.
    """
    return Pipeline([("prep", make_preprocessor(dataset)), ("model", estimator)])
