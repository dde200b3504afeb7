"""Transfer sets: the rows and soft targets a student learns from.

:class:`TransferData` holds one fit's rows with their teachers' probabilities, and
builds from them what :class:`skhpmkd.training.StudentTrainer` trains and validates
on: each configuration's transfer set (the training rows, then MUNGE rows near them
labelled by the teachers) and the validation rows, their soft targets mixed per row
by a fitted teacher weighting.
"""

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .augment import munge, synthetic_rows
from .ensemble import TeacherWeighting
from .offsets import teacher_input
from .screening import take_columns
from .student import take_rows
from .teachers import predict_teacher_proba
from .training import distillation_targets, transfer_key


#: Synthetic rows go to the teachers this many at a time, so that their float64 copy
#: with every column (and the teachers' own converted copies) stays bounded on wide
#: data (at 5,000 columns 4,096 rows are 164 MB, where 20,000 would be 800 MB).
LABEL_CHUNK_ROWS = 4096


@dataclass(frozen=True)
class TransferData:
    """One fit's rows and the teachers' probabilities on them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_student_features)
        The rows as the student takes them (float32).
    proba : ndarray of shape (n_samples, n_teachers, n_classes)
        The teachers' probabilities on the rows (out-of-fold where they trained).
    y : ndarray of shape (n_samples,)
        Encoded labels.
    teachers : tuple
        ``(fitted teachers, their class codes)``: the teachers that label synthetic
        rows.
    n_classes : int
        Number of classes.
    seed : int
        Seed of the synthetic rows.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights (None: unweighted).
    offsets : ndarray of shape (n_features,) or None
        What the rows lack of the teachers' input (see :mod:`skhpmkd.offsets`),
        added back to the synthetic rows the teachers label (None: nothing).
    columns : ndarray of shape (n_student_features,) or None
        The teachers' columns the student takes (see :mod:`skhpmkd.screening`);
        None: all of them.
    X_teachers : ndarray of shape (n_samples, n_features) or None
        The rows as the teachers take them, which give synthetic rows the columns
        the student does not take (needed only with ``columns``).
    """

    X: np.ndarray
    proba: np.ndarray
    y: np.ndarray
    teachers: Any
    n_classes: int
    seed: int
    sample_weight: Any = None
    offsets: Any = None
    columns: Any = None
    X_teachers: Any = None

    def relabelled(self, proba, teachers, on_student_columns=False):
        """The same rows with the probabilities ``proba`` of other ``teachers``
        (``(fitted, class codes)``); ``on_student_columns``: teachers fitted on the
        student's ``columns`` alone, which take synthetic rows without the others."""
        if not on_student_columns:
            return replace(self, proba=proba, teachers=teachers)
        return replace(self, proba=proba, teachers=teachers, columns=None,
                       offsets=take_columns(self.offsets, self.columns),
                       X_teachers=None)

    def weightings(self, configs, rows, seed):
        """Method -> :class:`TeacherWeighting` fitted on the ``rows``, for each
        teacher mixture the ``configs`` use."""
        X, proba, y = self.X[rows], self.proba[rows], self.y[rows]
        weights = take_rows(self.sample_weight, rows)
        return {method: TeacherWeighting(method, random_state=seed).fit(
                    X, proba, y, weights)
                for method in dict.fromkeys(config["ensemble"] for config in configs)}

    def valid_set(self, weighting, rows):
        """``(X, targets)`` of the ``rows`` (None for None), the teachers mixed by
        ``weighting``."""
        if rows is None:
            return None
        X, proba = self.X[rows], self.proba[rows]
        return X, distillation_targets(self.y[rows], proba, weighting.weights(X, proba),
                                       take_rows(self.sample_weight, rows))

    def transfer_sets(self, weightings, configs, rows, n_train=None):
        """``{transfer_key: (X, targets)}`` that the ``configs`` train on: the
        ``rows``, then MUNGE rows near them labelled by the teachers (each
        augmentation drawn once), their soft targets mixed by the configuration's
        weighting (``weightings``: method -> fitted TeacherWeighting). ``n_train``:
        training rows the ``rows`` are a sample of (None: none), whose share of
        synthetic rows they get. Synthetic rows weigh 1 (an average row)."""
        X_train = self.X[rows]
        synthetic = {augment: self._synthetic_rows(rows, augment, n_train)
                     for augment in dict.fromkeys(c["augment"] for c in configs)}
        sets = {}
        for config in configs:
            key = transfer_key(config)
            if key in sets:
                continue
            X_synthetic, proba_synthetic = synthetic[config["augment"]]
            X_all = np.concatenate([X_train, X_synthetic])
            proba_all = np.concatenate([self.proba[rows], proba_synthetic])
            labels = np.concatenate([self.y[rows], np.full(len(X_synthetic), -1)])
            weights = weightings[config["ensemble"]].weights(X_all, proba_all)
            row_weights = (None if self.sample_weight is None else np.concatenate(
                [self.sample_weight[rows], np.ones(len(X_synthetic))]))
            sets[key] = (X_all, distillation_targets(labels, proba_all, weights,
                                                     row_weights))
        return sets

    def _synthetic_rows(self, rows, augment, n_train=None):
        """MUNGE rows near the ``rows`` for ``augment`` and the teachers'
        probabilities on them (none for ``"off"``); the ``rows``' share of the rows
        ``n_train`` rows would get."""
        fitted, class_codes = self.teachers
        X = self.X[rows]
        n_train = n_train or len(X)
        n_synthetic = round(synthetic_rows(n_train, augment) * len(X) / n_train)
        if n_synthetic == 0 or len(X) < 2:
            return X[:0], np.zeros((0, len(fitted), self.n_classes))
        X_synthetic, sources = munge(X, n_synthetic, random_state=self.seed,
                                     return_sources=True)
        sources = np.arange(len(self.y))[rows][sources]
        chunks = [slice(start, start + LABEL_CHUNK_ROWS)
                  for start in range(0, len(X_synthetic), LABEL_CHUNK_ROWS)]
        return X_synthetic, np.concatenate([predict_teacher_proba(
            fitted, self._teacher_rows(X_synthetic[chunk], sources[chunk]),
            class_codes, self.n_classes) for chunk in chunks])

    def _teacher_rows(self, X_synthetic, sources):
        """Synthetic rows as the teachers take them: the offsets added back, and
        the columns the student does not take copied from each one's source row
        (the row of ``sources`` MUNGE drew it from)."""
        if self.columns is None:
            return teacher_input(X_synthetic, self.offsets)
        rows = self.X_teachers[sources]
        rows[:, self.columns] = teacher_input(
            X_synthetic, take_columns(self.offsets, self.columns))
        return rows
