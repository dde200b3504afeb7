"""Repeated fits: a seeded fit's student stored in the memory and restored."""

import os
import pickle
import signal
import sqlite3
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from skorch.callbacks import Callback

from conftest import TinyModule, fast_classifier
from skhpmkd import HPMKDClassifier, make_student
from skhpmkd.memory import OptimizationMemory
from skhpmkd.reuse import (
    code_digest,
    fit_key,
    load_fit,
    package_digest,
    signatures_match,
    store_fit,
    teacher_signature,
)


def fit_twice(X, y, path, **second_params):
    first = fast_classifier(memory=str(path)).fit(X, y)
    second = fast_classifier(memory=str(path), **second_params)
    return first, second.fit(X, y)


@pytest.mark.parametrize("n_members", [1, 2])
def test_the_same_fit_restores_the_student_without_training(data3, tmp_path, n_members):
    X, y = data3
    first = fast_classifier(memory=str(tmp_path / "m.sqlite"), n_members=n_members)
    first.fit(X, y)
    assert first.restored_ is False and first.n_members_ == n_members
    second = fast_classifier(memory=str(tmp_path / "m.sqlite"), n_members=n_members)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HPMKDClassifier, "_distil", lambda *a: pytest.fail("trained"))
        rng_before = torch.random.get_rng_state()
        second.fit(X, y)
        assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert second.restored_ is True
    assert np.array_equal(second.predict_proba(X), first.predict_proba(X))
    for name in ("config_", "config_source_", "chain_length_", "n_synthetic_",
                 "memory_run_id_", "student_n_params_", "compression_ratio_",
                 "n_members_", "members_", "chain_"):
        assert getattr(second, name) == getattr(first, name), name
    assert second.chain_ == pickle.loads(pickle.dumps(second.chain_))
    assert (second.student_.module__hidden_units
            == first.student_.module__hidden_units)  # a tuple, as trained
    assert [e["valid_loss"] for e in second.student_.history] == [
        e["valid_loss"] for e in first.student_.history]
    assert np.allclose(second.teacher_weights_, first.teacher_weights_)
    # one run recorded: the restored fit adds none
    assert len(OptimizationMemory(tmp_path / "m.sqlite")) == 1
    again = pickle.loads(pickle.dumps(second))
    assert np.array_equal(again.predict_proba(X), first.predict_proba(X))


def test_where_and_how_loudly_a_fit_runs_do_not_matter(data3, tmp_path):
    X, y = data3
    _, second = fit_twice(X, y, tmp_path / "m.sqlite", n_jobs=2, verbose=0)
    assert second.restored_


@pytest.mark.parametrize("change", [{"alpha": 0.3}, {"teacher_cv": 2},
                                    {"random_state": 1}])
def test_another_fit_trains(data3, tmp_path, change):
    X, y = data3
    _, second = fit_twice(X, y, tmp_path / "m.sqlite", **change)
    assert second.restored_ is False


def test_other_data_trains(data3, tmp_path):
    X, y = data3
    path = tmp_path / "m.sqlite"
    fast_classifier(memory=str(path)).fit(X, y)
    X_other = X.copy()
    X_other[0, 0] += 1.0
    assert fast_classifier(memory=str(path)).fit(X_other, y).restored_ is False


def test_unseeded_fits_are_never_stored(data3, tmp_path):
    X, y = data3
    path = tmp_path / "m.sqlite"
    fast_classifier(memory=str(path), random_state=None).fit(X, y)
    again = fast_classifier(memory=str(path), random_state=None).fit(X, y)
    assert again.restored_ is False
    assert fit_key({"random_state": np.random.RandomState(0)}, "data", "cpu") is None
    assert fit_key({"random_state": True}, "data", "cpu") is None


def test_fit_key_ignores_neutral_params_only():
    base = {"random_state": 0, "alpha": 0.5, "n_jobs": None, "verbose": 0}
    key = fit_key(base, "data", "cpu")
    assert key == fit_key(dict(base, n_jobs=4, verbose=2), "data", "cpu")
    assert key != fit_key(dict(base, alpha=0.6), "data", "cpu")
    assert key != fit_key(base, "other data", "cpu")
    assert key != fit_key(base, "data", "cuda")


def test_the_key_holds_the_package_code_and_its_shipped_prior(tmp_path):
    import shutil
    from pathlib import Path

    import skhpmkd
    package = Path(skhpmkd.__file__).parent
    assert code_digest() == package_digest(package)
    copy = tmp_path / "skhpmkd"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    digest = package_digest(copy)
    (copy / "notes.txt").write_text("not code")
    assert package_digest(copy) == digest
    prior = copy / "data" / "prior.json"
    prior.write_text(prior.read_text().replace(" ", "  ", 1))
    assert package_digest(copy) != digest


def test_teachers_that_changed_behaviour_make_the_fit_train(data3, tmp_path):
    X, y = data3
    first = fast_classifier(memory=str(tmp_path / "m.sqlite")).fit(X, y)
    memory = OptimizationMemory(tmp_path / "m.sqlite")
    key = fit_key(first.get_params(deep=False), _fingerprint(X, y), "cpu")
    proba = np.full((len(y), 2, 3), 1 / 3)
    assert load_fit(memory, key, teacher_signature(proba, y)) is None
    stored = memory.stored_student(key)["payload"]["teacher_signature"]
    assert load_fit(memory, key, stored) is not None
    assert load_fit(memory, key, np.asarray(stored) * (1 + 1e-3)) is None
    assert load_fit(memory, key, stored[:1]) is None
    assert not signatures_match(["not", "numbers"], stored)
    assert not signatures_match(None, stored)


def _fingerprint(X, y):
    from skhpmkd.memory import data_fingerprint
    return data_fingerprint(X.astype(np.float32), np.unique(y, return_inverse=True)[1])


def test_teacher_signature_is_each_teachers_log_loss():
    y = np.array([0, 1, 1])
    proba = np.array([[[0.5, 0.5], [1.0, 0.0]],
                      [[0.5, 0.5], [0.0, 1.0]],
                      [[0.5, 0.5], [0.0, 1.0]]])
    signature = teacher_signature(proba, y)
    assert signature == pytest.approx([np.log(2), 0.0])


def test_a_student_that_is_not_data_is_not_stored(data3, tmp_path, monkeypatch):
    import skhpmkd.reuse
    from skhpmkd.student import student_snapshot

    X, y = data3
    clf = fast_classifier(memory=None).fit(X, y)
    memory = OptimizationMemory(tmp_path / "m.sqlite")
    snapshot = student_snapshot(clf.student_)
    monkeypatch.setattr(skhpmkd.reuse, "student_snapshot", lambda net: dict(
        snapshot, params={**snapshot["params"], "module__activation": torch.nn.ReLU}))
    attributes = {"config_": clf.config_}
    assert store_fit(memory, "key", [0.1], clf.student_, attributes) is False
    assert memory.stored_student("key") is None
    monkeypatch.setattr(skhpmkd.reuse, "student_snapshot", lambda net: snapshot)
    assert store_fit(memory, "key", [0.1], clf.student_, attributes) is True
    assert memory.stored_student("key")["payload"]["config_"] == clf.config_


def test_a_module_of_the_users_own_always_trains(data3, tmp_path):
    X, y = data3
    student = make_student(module=TinyModule, max_epochs=5)
    path = str(tmp_path / "m.sqlite")
    fast_classifier(memory=path, student=student).fit(X, y)
    second = fast_classifier(memory=path, student=student).fit(X, y)
    assert second.restored_ is False
    with sqlite3.connect(tmp_path / "m.sqlite") as connection:  # nothing was stored
        assert connection.execute("SELECT count(*) FROM students").fetchone() == (0,)
    connection.close()


def test_a_stored_student_that_does_not_fit_is_trained_again(data3, tmp_path,
                                                           monkeypatch):
    import skhpmkd.classifier

    X, y = data3
    first = fast_classifier(memory=str(tmp_path / "m.sqlite")).fit(X, y)

    def broken(*args):
        raise RuntimeError("size mismatch for layers.0.weight")

    monkeypatch.setattr(skhpmkd.classifier, "restore_student", broken)
    second = fast_classifier(memory=str(tmp_path / "m.sqlite")).fit(X, y)
    assert second.restored_ is False
    assert np.array_equal(second.predict_proba(X), first.predict_proba(X))


class CountingTeacher(ClassifierMixin, BaseEstimator):
    """A logistic-regression teacher that counts its fits; ``shift`` (class-level)
    changes what it predicts without changing its parameters."""

    n_fits = 0
    shift = 0.0

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression
        type(self).n_fits += 1
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        proba = self.model_.predict_proba(X) + type(self).shift
        return proba / proba.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("ensemble", ["attention", "mean"])
def test_a_restore_fits_the_teachers_on_all_rows_only(data3, tmp_path, ensemble):
    """No fold fits and no weighting fit: the teachers once each, the weighting (the
    gate's weights included) and the meta-features from the memory."""
    from skhpmkd.ensemble import TeacherWeighting

    X, y = data3
    CountingTeacher.n_fits, CountingTeacher.shift = 0, 0.0

    def make():
        return fast_classifier(teachers=[("a", CountingTeacher()),
                                         ("b", CountingTeacher(C=0.01))],
                               ensemble=ensemble, memory=str(tmp_path / "m.sqlite"))

    first = make().fit(X, y)
    assert CountingTeacher.n_fits == 2 * (3 + 1)  # 3 folds and all rows, per teacher
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TeacherWeighting, "fit", lambda *a: pytest.fail("weighting fit"))
        second = make().fit(X, y)
    assert second.restored_ and CountingTeacher.n_fits == 2 * 4 + 2
    assert np.array_equal(second.predict_proba(X), first.predict_proba(X))
    assert second.teacher_weighting_.method_ == first.teacher_weighting_.method_
    np.testing.assert_array_equal(second.teacher_weights(X), first.teacher_weights(X))
    assert second.meta_features_ == first.meta_features_


def test_teachers_whose_outputs_changed_make_the_restore_train(data3, tmp_path):
    X, y = data3
    CountingTeacher.n_fits, CountingTeacher.shift = 0, 0.0
    make = lambda: fast_classifier(teachers=[("a", CountingTeacher())],
                                   memory=str(tmp_path / "m.sqlite"))
    make().fit(X, y)
    CountingTeacher.shift = 0.05
    try:
        second = make().fit(X, y)
    finally:
        CountingTeacher.shift = 0.0
    # one fit on all rows for the check, then the whole teacher stage again
    assert not second.restored_ and CountingTeacher.n_fits == 4 + 1 + 4


class RecallingTeacher(ClassifierMixin, BaseEstimator):
    """A one-nearest-neighbour teacher (it recalls its training rows) on the first
    column scaled by ``scale`` (class-level): a change of it moves what the teacher
    predicts off its training rows only."""

    scale = 1.0

    def _scaled(self, X):
        return np.column_stack([X[:, :1] * type(self).scale, X[:, 1:]])

    def fit(self, X, y):
        from sklearn.neighbors import KNeighborsClassifier
        self.model_ = KNeighborsClassifier(n_neighbors=1).fit(self._scaled(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(self._scaled(X))


def test_a_teacher_changed_off_its_training_rows_makes_the_restore_train(data3,
                                                                        tmp_path):
    X, y = data3
    make = lambda: fast_classifier(teachers=[("a", RecallingTeacher())],
                                   memory=str(tmp_path / "m.sqlite"))
    first = make().fit(X, y)
    assert make().fit(X, y).restored_
    RecallingTeacher.scale = 25.0
    try:
        second = make().fit(X, y)
        retrained = fast_classifier(teachers=[("a", RecallingTeacher())],
                                    memory=None).fit(X, y)
    finally:
        RecallingTeacher.scale = 1.0
    assert not second.restored_
    assert not np.array_equal(second.predict_proba(X), first.predict_proba(X))
    assert np.array_equal(second.predict_proba(X), retrained.predict_proba(X))


def test_with_a_teacher_cache_the_restore_checks_the_cached_stage(data3, tmp_path):
    X, y = data3
    CountingTeacher.n_fits, CountingTeacher.shift = 0, 0.0
    make = lambda: fast_classifier(teachers=[("a", CountingTeacher())],
                                   memory=str(tmp_path / "m.sqlite"),
                                   teacher_cache=str(tmp_path / "cache"))
    first = make().fit(X, y)
    second = make().fit(X, y)
    assert second.restored_ and CountingTeacher.n_fits == 4  # all from the cache
    assert np.array_equal(second.predict_proba(X), first.predict_proba(X))


def test_an_edited_teacher_misses_the_teacher_cache(data3, tmp_path):
    """joblib knows a teacher class by its name: the cached teachers are checked
    against what they predicted when cached, and refitted where that changed."""
    X, y = data3
    CountingTeacher.n_fits, CountingTeacher.shift = 0, 0.0
    make = lambda **p: fast_classifier(teachers=[("a", CountingTeacher())],
                                       memory=None, **p)
    make(teacher_cache=str(tmp_path)).fit(X, y)
    assert CountingTeacher.n_fits == 4
    CountingTeacher.shift = 0.05
    try:
        with pytest.warns(UserWarning, match="cached teachers predict otherwise now"):
            edited = make(teacher_cache=str(tmp_path)).fit(X, y)
        assert CountingTeacher.n_fits == 8
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            make(teacher_cache=str(tmp_path)).fit(X, y)  # the entry was replaced
        assert CountingTeacher.n_fits == 8
        uncached = make().fit(X, y)
    finally:
        CountingTeacher.shift = 0.0
    assert np.array_equal(edited.predict_proba(X), uncached.predict_proba(X))


def test_teachers_the_cache_cannot_key_fit_without_it(data3, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data3
    teachers = [("lambda", make_pipeline(FunctionTransformer(lambda Z: Z),
                                         LogisticRegression()))]
    with pytest.warns(UserWarning, match="teacher_cache cannot key these teachers"):
        clf = fast_classifier(teachers=teachers, memory=None,
                              teacher_cache=str(tmp_path)).fit(X, y)
    assert clf.score(X, y) > 0.5


def test_folds_from_a_generator_are_read_once_and_cached(data3, tmp_path):
    from sklearn.model_selection import StratifiedKFold

    X, y = data3
    CountingTeacher.shift, CountingTeacher.n_fits = 0.0, 0
    fits = [fast_classifier(teachers=[("c", CountingTeacher())], memory=None,
                            teacher_cache=str(tmp_path),
                            teacher_cv=StratifiedKFold(3).split(X, y)).fit(X, y)
            for _ in range(2)]
    assert CountingTeacher.n_fits == 4  # three folds and all rows, once
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_prefit_teachers_are_not_refitted_to_restore(data3, tmp_path):
    X, y = data3
    CountingTeacher.shift = 0.0
    teacher = CountingTeacher().fit(X, y)
    CountingTeacher.n_fits = 0
    make = lambda: fast_classifier(teachers=[("a", teacher)], teacher_cv="prefit",
                                   memory=str(tmp_path / "m.sqlite"))
    first = make().fit(X, y)
    second = make().fit(X, y)
    assert second.restored_ and CountingTeacher.n_fits == 0
    assert np.array_equal(second.predict_proba(X), first.predict_proba(X))


class CtrlCAtEpoch(Callback):
    """Stands in for the user pressing Ctrl-C as epoch ``at`` ends (a real SIGINT)."""

    def __init__(self, at=None):
        self.at = at

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("at", [1, 3])
def test_ctrl_c_while_the_student_trains_stops_the_fit_and_stores_nothing(
        data3, tmp_path, request, at):
    # skorch's training loop swallows KeyboardInterrupt (its early stopping raises
    # one): the fit had returned a half-trained student and stored it in the memory,
    # or (in the first epoch) failed with a KeyError of the history
    X, y = data3
    memory = str(tmp_path / "m.sqlite")
    # Python's own Ctrl-C handler, as in a terminal or a notebook (a shell's
    # background job, as CI may run this, ignores SIGINT)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))

    def make(callback):
        return fast_classifier(memory=memory, student=make_student(
            max_epochs=20, lr=1e-2, batch_size=32, module__hidden_units=(16,),
            callbacks=[("ctrl_c", callback)]))

    def stored():
        with sqlite3.connect(memory) as connection:
            return connection.execute("SELECT COUNT(*) FROM students").fetchone()[0]

    callback = CtrlCAtEpoch()
    fitted = make(callback).fit(X, y)
    proba, n_stored = fitted.predict_proba(X), stored()
    callback.at = at
    with pytest.raises(KeyboardInterrupt):
        fitted.fit(X[:100], y[:100])
    np.testing.assert_array_equal(fitted.predict_proba(X), proba)  # kept as it was
    assert stored() == n_stored == 1

