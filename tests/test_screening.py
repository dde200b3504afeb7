"""Screening the student's columns: which columns, how many, and a fit whose teachers
take every column while its student takes the ones they rank highest."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from conftest import fast_classifier
from skhpmkd.screening import (
    SCREEN_COLUMNS, SCREEN_MAX_ROWS_PER_COLUMN, column_ranking, keep_count,
    take_columns, top_columns)
from skhpmkd.training import transfer_key
from skhpmkd.transfer import TransferData


def test_auto_screens_wide_data_only():
    wide = SCREEN_COLUMNS + 1
    assert keep_count(wide, SCREEN_MAX_ROWS_PER_COLUMN * wide - 1, "auto") == 100
    assert keep_count(wide, SCREEN_MAX_ROWS_PER_COLUMN * wide, "auto") is None
    assert keep_count(SCREEN_COLUMNS, 10, "auto") is None  # no more than it keeps
    assert keep_count(5000, 200, "auto") == SCREEN_COLUMNS
    assert keep_count(105, 36631, "auto") is None  # adult's: 349 rows per column


def test_an_int_keeps_that_many_where_there_are_more_and_all_keeps_every_column():
    assert keep_count(50, 10**6, 20) == 20
    assert keep_count(20, 10, 20) is None and keep_count(5000, 10, "all") is None
    for bad in (0, -1, True, 2.5, "most"):
        with pytest.raises(ValueError, match="student_features must be"):
            keep_count(50, 100, bad)


def test_top_columns_are_the_most_important_ascending_ties_to_the_earlier():
    importances = np.array([0.1, 0.4, 0.0, 0.4, 0.1])
    np.testing.assert_array_equal(top_columns(importances, 2), [1, 3])
    np.testing.assert_array_equal(top_columns(importances, 3), [0, 1, 3])


class Importances:
    """A fitted teacher that exposes the given importances."""

    def __init__(self, importances):
        self.feature_importances_ = np.asarray(importances, dtype=float)


def test_ranking_averages_the_teachers_scaled_importances_and_skips_the_others():
    teachers = [Importances([3.0, 1.0, 0.0]), Importances([0.0, 0.5, 0.5]),
                LogisticRegression(), Importances([1.0, 1.0])]  # last: other width
    ranking = column_ranking(teachers, np.zeros((4, 3)), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(ranking, [0.375, 0.375, 0.25])


def test_extra_trees_rank_the_columns_where_no_teacher_has_importances():
    X, y = make_classification(200, 10, n_informative=2, n_redundant=0,
                               n_clusters_per_class=1, shuffle=False, random_state=0)
    ranking = column_ranking([LogisticRegression()], X, y, random_state=0)
    assert ranking.sum() == pytest.approx(1.0)
    assert set(top_columns(ranking, 2)) == {0, 1}  # the informative columns


def test_take_columns_of_rows_and_of_per_column_values():
    X = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(take_columns(X, np.array([1, 3])), X[:, [1, 3]])
    np.testing.assert_array_equal(take_columns(np.arange(4.0), [0, 2]), [0.0, 2.0])
    assert take_columns(None, [0]) is None and take_columns(X, None) is X


class Recorder:
    """A fitted teacher that records the rows it labels (all classes even)."""

    classes_ = np.arange(2)

    def __init__(self):
        self.rows = []

    def predict_proba(self, X):
        self.rows.append(np.array(X))
        return np.full((len(X), 2), 0.5)


def test_synthetic_rows_take_the_unkept_columns_from_their_source_rows():
    rng = np.random.default_rng(0)
    X_teachers = rng.normal(size=(40, 6))
    X_teachers[:, 4] = np.arange(40)  # a row's own id, in a column the student lacks
    columns = np.array([0, 2])
    teacher = Recorder()
    proba = np.full((40, 1, 2), 0.5)
    data = TransferData(X_teachers[:, columns].astype(np.float32), proba,
                        np.arange(40) % 2, ([teacher], [np.arange(2)]), 2, seed=0,
                        columns=columns, X_teachers=X_teachers)
    config = {"ensemble": "mean", "augment": 2.0}
    rows = np.arange(10, 40)  # the training rows: the others never source one
    sets = data.transfer_sets(data.weightings([config], rows, seed=0), [config], rows)
    X_set, _ = sets[transfer_key(config)]
    (seen,) = teacher.rows
    assert seen.shape == (60, 6) and X_set.shape == (90, 2)
    np.testing.assert_array_equal(seen[:, columns].astype(np.float32), X_set[30:])
    sources = seen[:, 4].astype(int)
    assert set(sources) <= set(rows)
    unkept = [1, 3, 4, 5]
    np.testing.assert_array_equal(seen[:, unkept], X_teachers[sources][:, unkept])


@pytest.fixture
def wide():
    """120 rows of 150 columns: 3 informative first, the rest noise."""
    X, y = make_classification(240, 150, n_informative=3, n_redundant=0, class_sep=2.0,
                               n_clusters_per_class=1,
                               shuffle=False, random_state=0)
    order = np.random.default_rng(0).permutation(240)  # the rows, not the columns
    X, y = X[order], y[order]
    return X[:120], y[:120], X[120:], y[120:]


def test_the_student_of_wide_data_takes_the_columns_the_teachers_rank_highest(wide):
    X, y, X_test, y_test = wide
    clf = fast_classifier(memory=None).fit(X, y)
    assert len(clf.student_columns_) == SCREEN_COLUMNS
    assert {0, 1, 2} <= set(clf.student_columns_)
    assert clf.n_features_in_ == 150 and clf.teachers_[0].n_features_in_ == 150
    module = clf.student_.module_
    assert next(module.parameters()).shape[-1] != 150  # its first layer's inputs
    assert clf.meta_features_["log_features"] == pytest.approx(2.0)  # 100 columns
    proba = clf.predict_proba(X_test)
    light = pickle.loads(pickle.dumps(clf.without_teachers()))
    np.testing.assert_array_equal(light.predict_proba(X_test), proba)
    assert clf.teacher_weights(X_test).shape == (len(X_test), 2)
    assert clf.score(X_test, y_test) > 0.7


def test_all_keeps_every_column_and_an_int_keeps_that_many(wide):
    X, y, _, _ = wide
    every = fast_classifier(memory=None, student_features="all").fit(X, y)
    assert every.student_columns_ is None
    assert every.meta_features_["log_features"] == pytest.approx(np.log10(150))
    three = fast_classifier(memory=None, student_features=3).fit(X, y)
    np.testing.assert_array_equal(three.student_columns_, [0, 1, 2])
    narrow = fast_classifier(memory=None, student_features=3).fit(X[:, :3], y)
    assert narrow.student_columns_ is None


def test_a_screened_fit_restored_from_the_memory_keeps_its_columns(wide, tmp_path):
    X, y, X_test, _ = wide
    params = dict(memory=tmp_path / "memory.sqlite", student_features=10)
    first = fast_classifier(**params).fit(X, y)
    again = fast_classifier(**params).fit(X, y)
    assert again.restored_ and not first.restored_
    np.testing.assert_array_equal(again.student_columns_, first.student_columns_)
    np.testing.assert_array_equal(again.predict_proba(X_test),
                                  first.predict_proba(X_test))


def test_augmented_screened_fit_labels_full_rows(wide):
    X, y, X_test, _ = wide
    clf = fast_classifier(memory=None, augment=1.0).fit(X, y)
    assert clf.n_synthetic_ > 0 and len(clf.student_columns_) == SCREEN_COLUMNS
    assert clf.predict_proba(X_test).shape == (len(X_test), 2)


def test_student_features_is_checked_before_any_fit(wide):
    X, y, _, _ = wide
    with pytest.raises(ValueError, match="student_features"):
        fast_classifier(memory=None, student_features=0).fit(X, y)
