"""Teachers: out-of-fold soft labels, folds, logits, prefit alignment."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import LabelEncoder

from skhpmkd.teachers import (
    PROBA_EPS,
    default_teachers,
    fit_teachers,
    folds_on_rows,
    make_folds,
    proba_to_logits,
)

SEEDS = np.arange(10)


class RowMemory(ClassifierMixin, BaseEstimator):
    """Remembers which rows (by their first feature, a row id) it was fitted on."""

    def fit(self, X, y):
        self.seen_ = set(X[:, 0].astype(int).tolist())
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        seen = np.array([int(row_id) in self.seen_ for row_id in X[:, 0]], dtype=float)
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, 0] = seen  # class 0 <=> "I saw this row in training"
        proba[:, 1] = 1 - seen
        return proba


def encoded(y):
    encoder = LabelEncoder().fit(y)
    return encoder, encoder.transform(y)


def test_out_of_fold_rows_were_not_seen_by_their_model():
    y = np.tile([0, 1], 30)
    X = np.column_stack([np.arange(len(y)), y])
    encoder, y_enc = encoded(y)
    fitted, proba, _, _ = fit_teachers([("mem", RowMemory())], X, y_enc,
                                       label_encoder=encoder, teacher_cv=5, seeds=SEEDS)
    assert np.all(proba[:, 0, 0] == 0)  # no row was in its own model's training set
    assert fitted[0].seen_ == set(range(len(y)))  # the final teacher saw every row


def test_in_sample_labels_come_from_the_teacher_fitted_on_all_rows():
    y = np.tile([0, 1], 30)
    X = np.column_stack([np.arange(len(y)), y])
    encoder, y_enc = encoded(y)
    fitted, proba, _, seconds = fit_teachers([("mem", RowMemory())], X, y_enc,
                                             label_encoder=encoder,
                                             teacher_cv="in_sample", seeds=SEEDS)
    assert np.all(proba[:, 0, 0] == 1)  # every row was in its labelling model's training
    assert fitted[0].seen_ == set(range(len(y)))
    assert list(seconds) == ["mem:all"]  # one fit per teacher, no folds


class SawMarkedRows(ClassifierMixin, BaseEstimator):
    """Tells every row whether any row it was fitted on was marked (second feature 1)."""

    def fit(self, X, y):
        self.saw_marked_ = float(X[:, 1].max())
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.tile([self.saw_marked_, 1 - self.saw_marked_], (len(X), 1))


def test_held_out_rows_train_no_fold_model_but_the_final_teacher():
    y = np.tile([0, 1], 30)
    held_out = np.arange(0, len(y), 6)
    marked = np.isin(np.arange(len(y)), held_out).astype(float)
    X = np.column_stack([np.arange(len(y)), marked])
    encoder, y_enc = encoded(y)
    kwargs = dict(label_encoder=encoder, teacher_cv=5, seeds=SEEDS)
    _, leaky, _, _ = fit_teachers([("saw", SawMarkedRows())], X, y_enc, **kwargs)
    assert leaky[:, 0, 0].sum() > 0  # without held_out, fold models train on them
    fitted, proba, _, _ = fit_teachers([("saw", SawMarkedRows())], X, y_enc,
                                       held_out=held_out, **kwargs)
    # no row's soft label comes from a model that saw one
    assert np.all(proba[:, 0, 0] == 0)
    assert fitted[0].saw_marked_ == 1.0  # the teacher fitted on all rows did


def test_out_of_fold_differs_from_in_sample_for_a_memorising_teacher():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = rng.integers(0, 3, size=90)  # pure noise: memorising is all a 1-NN can do
    encoder, y_enc = encoded(y)
    _, proba, _, _ = fit_teachers([("knn", KNeighborsClassifier(n_neighbors=1))],
                                  X, y_enc, label_encoder=encoder, teacher_cv=3,
                                  seeds=SEEDS)
    in_sample = KNeighborsClassifier(n_neighbors=1).fit(X, y_enc).predict_proba(X)
    assert (in_sample.argmax(1) == y_enc).mean() == 1.0
    assert (proba[:, 0].argmax(1) == y_enc).mean() < 0.6


def test_folds_shrink_to_smallest_class_and_fall_back_with_warning():
    y = np.array([0] * 10 + [1] * 3)
    assert len(make_folds(5, y, seed=0)) == 3
    with pytest.warns(UserWarning, match="in-sample"):
        assert make_folds(5, np.array([0] * 10 + [1]), seed=0) is None


def test_user_splitter_must_partition_rows():
    y = np.tile([0, 1], 10)
    assert len(make_folds(KFold(4), y, seed=0)) == 4
    with pytest.raises(ValueError, match="exactly one test fold"):
        make_folds(ShuffleSplit(n_splits=3, test_size=0.2, random_state=0), y, seed=0)


def test_folds_on_rows_keep_the_users_grouping_on_a_subset():
    folds = make_folds(KFold(3), np.tile([0, 1], 6), seed=0)  # tests 0-3, 4-7, 8-11
    rows = np.array([1, 2, 3, 9, 10])  # the second fold's test rows all left out
    restricted = folds_on_rows(folds, rows)
    assert len(restricted) == 2
    for (train, test), expected_test in zip(restricted, ([1, 2, 3], [9, 10])):
        np.testing.assert_array_equal(rows[test], expected_test)
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])),
                                      np.arange(len(rows)))


def test_proba_to_logits_is_finite_and_keeps_order():
    proba = np.array([[1.0, 0.0, 0.0], [0.2, 0.5, 0.3]])
    logits = proba_to_logits(proba)
    assert logits.dtype == np.float32 and np.all(np.isfinite(logits))
    np.testing.assert_array_equal(logits.argmax(1), proba.argmax(1))
    np.testing.assert_allclose(logits.mean(axis=1), 0, atol=1e-6)
    assert logits[0, 0] - logits[0, 1] == pytest.approx(-np.log(PROBA_EPS), rel=1e-5)


def test_missing_class_in_a_teacher_gets_a_zero_column():
    y = np.array([0, 1, 2] * 10)
    X = np.column_stack([np.arange(30), y])
    encoder, y_enc = encoded(np.array(["a", "b", "c"])[y])

    class TwoClassTeacher(RowMemory):
        pass

    fitted, proba, _, _ = fit_teachers([("mem", TwoClassTeacher())], X, y_enc,
                                 label_encoder=encoder, teacher_cv=3, seeds=SEEDS)
    assert proba.shape == (30, 1, 3)
    assert np.all(proba[:, 0, 2] == 0)  # RowMemory only writes classes 0 and 1


def test_default_teachers_are_named_and_unfitted():
    teachers = default_teachers()
    assert [name for name, _ in teachers] == ["xgb", "hgb", "rf"]
    assert all(not hasattr(est, "classes_") or est.__class__.__name__ == "XGBClassifier"
               for _, est in teachers)


class OverconfidentTeacher(LogisticRegression):
    """Returns five times its probabilities: rows that are not distributions."""

    def predict_proba(self, X):
        return 5 * super().predict_proba(X)


def _small_task():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_a_teacher_whose_rows_are_not_probabilities_is_named():
    X, y = _small_task()
    encoder, y_encoded = encoded(y)
    with pytest.raises(ValueError, match="OverconfidentTeacher's predict_proba gives "
                                         "rows that are not probabilities"):
        fit_teachers([("five", OverconfidentTeacher())], X, y_encoded,
                     label_encoder=encoder, teacher_cv=3, seeds=SEEDS)


@pytest.mark.parametrize("teacher_cv", [3, "in_sample"])
def test_kept_teachers_predict_with_the_n_jobs_they_were_given(teacher_cv):
    """Tasks sharing the cores cap a teacher's n_jobs while it fits; the teacher kept
    gets the user's value back (a lone task is not capped at all)."""
    X, y = _small_task()
    encoder, y_encoded = encoded(y)
    given = RandomForestClassifier(n_estimators=5, n_jobs=-1)
    fitted, *_ = fit_teachers([("rf", given)], X, y_encoded, label_encoder=encoder,
                              teacher_cv=teacher_cv, seeds=SEEDS, n_jobs=2)
    assert fitted[0].n_jobs == -1 and given.n_jobs == -1
