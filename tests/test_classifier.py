"""HPMKDClassifier: sklearn integration, reproducibility, devices, sizes, bad input."""

import contextlib
import pickle
import warnings
from pathlib import Path
from unittest.mock import patch

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import (
    ColumnTransformer,
    make_column_selector,
    make_column_transformer,
)
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from skorch.dataset import ValidSplit

from conftest import TinyModule, fast_classifier, fast_teachers
from skhpmkd import (
    DistillationReport,
    HPMKDClassifier,
    TrainingHistoryDisplay,
    make_student,
)
from skhpmkd.members import MAX_MEMBERS
from skhpmkd.student import (
    DistillationNet,
    PeriodicEncoding,
    PiecewiseLinearEncoding,
    StandardisedColumns,
)
from skhpmkd.training import CrossValidatedTrainer


def make_student_like_net():
    """A plain skorch net: has fit/initialize, but is not a DistillationNet."""
    from skorch import NeuralNetClassifier
    return NeuralNetClassifier(torch.nn.Linear, module__in_features=6,
                               module__out_features=3)


def trained_rows(clf):
    """How many rows the student trained on in its last epoch."""
    return sum(batch.get("train_batch_size", 0)
               for batch in clf.student_.history[-1, "batches"])


class CountingTeacher(ClassifierMixin, BaseEstimator):
    """A logistic-regression teacher that counts calls to fit (class-level counter)."""

    n_fits = 0

    def fit(self, X, y):
        type(self).n_fits += 1
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


# -- basic use ---------------------------------------------------------------------------

def test_fit_predict_in_pipeline(data3):
    X, y = data3
    clf = make_pipeline(StandardScaler(), fast_classifier()).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.8


def test_string_and_non_contiguous_labels(data3):
    X, y = data3
    for labels in (np.array(["cat", "dog", "emu"]), np.array([-5, 10, 99])):
        clf = fast_classifier().fit(X, labels[y])
        assert list(clf.classes_) == sorted(labels.tolist())
        assert set(clf.predict(X)) <= set(labels.tolist())
        assert clf.score(X, labels[y]) > 0.8


def test_fitted_attributes_and_sizes(data3):
    X, y = data3
    clf = fast_classifier().fit(X, y)
    assert clf.n_features_in_ == X.shape[1]
    assert set(clf.named_teachers_) == {"tree", "lr"}
    assert clf.student_n_params_ == sum(
        p.numel() for p in clf.student_.module_.parameters())
    assert clf.teacher_n_nodes_ is None  # logistic regression has no tree nodes
    assert clf.compression_ratio_ == pytest.approx(
        clf.teacher_nbytes_ / clf.student_nbytes_)
    assert set(clf.fit_times_) == {"teachers", "weighting", "student"}


def test_feature_names_and_renamed_columns(data3):
    X, y = data3
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = fast_classifier().fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    renamed = frame.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)


def test_lean_predict_matches_skorch(data3):
    X, y = data3
    clf = fast_classifier().fit(X, y)
    skorch_proba = clf.student_.predict_proba(X.astype(np.float32))
    np.testing.assert_allclose(clf.predict_proba(X), skorch_proba, atol=1e-6)


def test_predict_log_proba_is_the_log_of_predict_proba(data3):
    X, y = data3
    clf = fast_classifier().fit(X, y)
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == (len(X), 3) and log_proba.dtype == np.float64
    np.testing.assert_array_equal(log_proba, np.log(clf.predict_proba(X)))
    # a probability that underflowed to 0 is -inf, without a warning
    with torch.no_grad():
        for layer in clf.student_.module_.modules():
            if isinstance(layer, torch.nn.Linear) and layer.out_features == 3:
                layer.bias[0] = -1e4  # every output layer (of each member)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_proba = clf.predict_log_proba(X)
    assert np.all(log_proba[:, 0] == -np.inf) and np.all(np.isfinite(log_proba[:, 1:]))


# -- parameters, GridSearchCV ------------------------------------------------------------

def test_nested_params_reach_teachers_and_student(data3):
    clf = fast_classifier()
    params = clf.get_params(deep=True)
    assert params["tree__max_depth"] == 4
    assert params["student__lr"] == 1e-2
    clf.set_params(tree__max_depth=2, student__lr=3e-3)
    assert clf.teachers[0][1].max_depth == 2
    assert clf.student.lr == 3e-3


def test_set_params_on_default_teachers_and_student():
    clf = HPMKDClassifier()
    clf.set_params(xgb__max_depth=3, student__lr=1e-3, student__module__hidden_units=(8,))
    names = [name for name, _ in clf.teachers]
    assert names == ["xgb", "hgb", "rf"]
    assert clf.teachers[0][1].max_depth == 3
    assert isinstance(clf.student, DistillationNet)
    assert clf.student.lr == 1e-3
    assert clf.get_params()["student__module__hidden_units"] == (8,)
    # the untouched default stays None
    assert HPMKDClassifier().get_params()["student"] is None
    # a default teacher replaced whole, as a grid over estimators does
    from sklearn.ensemble import RandomForestClassifier
    smaller = RandomForestClassifier(n_estimators=5)
    clf = HPMKDClassifier().set_params(rf=smaller)
    assert [name for name, _ in clf.teachers] == ["xgb", "hgb", "rf"]
    assert clf.teachers[2][1] is smaller


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_teacher_student_and_loss_params(data3, n_jobs):
    X, y = data3
    grid = GridSearchCV(
        fast_classifier(),
        {"temperature": [2, 4], "tree__max_depth": [2, 4], "student__lr": [1e-2, 3e-2]},
        cv=2, n_jobs=n_jobs)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_.student_.lr in (1e-2, 3e-2)


def test_cross_val_score_and_clone(data3):
    X, y = data3
    clf = fast_classifier()
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7
    fitted = clf.fit(X, y)
    cloned = clone(fitted)
    assert not hasattr(cloned, "student_")
    assert cloned.get_params()["student__lr"] == clf.get_params()["student__lr"]


# -- validation split: explicit, never skorch's silent 20 % ------------------------------

def test_student_sees_all_rows_without_early_stopping(data3):
    X, y = data3
    template = make_student(max_epochs=3, train_split=ValidSplit(5))
    clf = fast_classifier(student=template, early_stopping=False).fit(X, y)
    assert trained_rows(clf) == len(X)
    assert clf.student_.train_split is None


def test_early_stopping_holds_out_validation_fraction(data3):
    X, y = data3
    clf = fast_classifier(early_stopping=True, validation_fraction=0.25).fit(X, y)
    assert trained_rows(clf) == len(X) - 30
    assert "valid_loss" in clf.student_.history[-1]
    # neither the validation rows nor the early-stopping callback stay in the model
    assert clf.student_.train_split is None
    assert "hpmkd_early_stopping" not in dict(clf.student_.callbacks_)


def test_a_validation_fraction_that_holds_out_no_rows_warns(data3):
    X, y = data3
    for fraction, match in ((0.001, "holds out no stratified validation rows"),
                            (0.999, "leaves too few rows to train on")):
        with pytest.warns(UserWarning, match=rf"validation_fraction={fraction} on "
                                             rf"these 120 rows {match}") as caught:
            clf = fast_classifier(validation_fraction=fraction, memory=None).fit(X, y)
        assert [w.filename for w in caught if "validation_fraction" in str(w.message)
                ] == [__file__]  # the line that called fit
        assert trained_rows(clf) == len(X)
    lone = np.where(np.arange(len(y)) == 0, 3, y)  # class 3 has a single row
    with pytest.warns(UserWarning, match="cannot stratify them: a class has a single "
                                         "row: .* Set early_stopping=False"):
        fast_classifier(memory=None).fit(X, lone)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rows asked for, none missed
        fast_classifier(early_stopping=False, memory=None).fit(X, y)


def test_early_stopping_stops_and_restores_best_epoch(data3):
    X, y = data3
    template = make_student(max_epochs=300, lr=5e-2, module__hidden_units=(64, 64))
    clf = fast_classifier(student=template, n_iter_no_change=3).fit(X, y)
    history = clf.student_.history
    assert len(history) < 300
    best = int(np.argmin(history[:, "valid_loss"]))
    assert len(history) - 1 - best == 3


# -- reproducibility, pickling, devices --------------------------------------------------

def test_same_seed_same_predictions_and_global_rng_untouched(data3):
    X, y = data3
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    first = fast_classifier(random_state=7).fit(X, y).predict_proba(X)
    second = fast_classifier(random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert np.array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)
    other = fast_classifier(random_state=8).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


def test_fits_in_threads_are_those_of_fits_alone(data3):
    # torch has one generator per process: trainings in threads (joblib's threading
    # backend, a dask worker's threads) had drawn from each other's streams
    from joblib import parallel_config
    from sklearn.model_selection import cross_val_predict

    X, y = data3
    clf = fast_classifier(memory=None, min_compression=10.0)
    alone = cross_val_predict(clf, X, y, cv=4, method="predict_proba")
    torch.manual_seed(123)
    torch_state = torch.get_rng_state().clone()
    with parallel_config(backend="threading"):
        threaded = cross_val_predict(clf, X, y, cv=4, method="predict_proba", n_jobs=2)
    np.testing.assert_array_equal(threaded, alone)
    assert torch.equal(torch.get_rng_state(), torch_state)


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads),
                                        ("joblib", "joblib")])
def test_pickle_round_trip(data3, tmp_path, dump, load):
    X, y = data3
    clf = fast_classifier().fit(X, y)
    if dump == "joblib":
        joblib.dump(clf, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = load(dump(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_without_teachers_ships_the_student_alone(data3):
    X, y = data3
    labels = np.array(["a", "b", "c"])[y]
    clf = fast_classifier(teachers=[("rf", RandomForestClassifier(
        n_estimators=30, random_state=0))]).fit(X, labels)
    expected = clf.predict_proba(X)
    light = clf.without_teachers()
    payload = pickle.dumps(light)
    assert b"estimators_" not in payload  # the fitted forest (its spec is a parameter)
    assert b"exp_avg" not in payload  # Adam's state
    assert len(payload) < len(pickle.dumps(clf)) - 0.9 * clf.teacher_nbytes_
    assert all("batches" not in epoch for epoch in light.student_.history)
    history = TrainingHistoryDisplay.from_estimator(light)  # epochs are kept
    assert len(history.train_loss) == len(clf.student_.history)
    restored = pickle.loads(payload)
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.score(X, labels) == clf.score(X, labels)
    assert not hasattr(restored, "teachers_")
    assert repr(restored) == repr(clf)
    for name in ("teacher_weights", "DistillationReport"):
        with pytest.raises(AttributeError, match=f"{name}.*without_teachers"):
            (restored.teacher_weights(X) if name == "teacher_weights"
             else DistillationReport.from_estimator(restored, X, labels))
    # the original keeps its teachers, optimizer state and per-batch history
    assert clf.named_teachers_.rf is clf.teachers_[0]
    assert clf.student_.optimizer_.state and "batches" in clf.student_.history[-1]
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    assert clf.teacher_weights(X).shape == (len(X), 1)
    restored.fit(X, labels)  # fits its teachers again
    assert hasattr(restored, "teachers_")


def test_without_teachers_in_a_pipeline(data3):
    """The user guide's recipe: a fitted Pipeline with its last step replaced."""
    X, y = data3
    pipe = make_pipeline(StandardScaler(), fast_classifier()).fit(X, y)
    name = pipe.steps[-1][0]
    shipped = Pipeline(pipe.steps[:-1] + [(name, pipe[-1].without_teachers())])
    np.testing.assert_array_equal(shipped.predict_proba(X), pipe.predict_proba(X))
    assert hasattr(pipe[-1], "teachers_") and not hasattr(shipped[-1], "teachers_")


def test_user_guide_recipe_for_categories_and_missing_values(data3):
    """docs/user_guide.md, "Data with categories and missing values"."""
    X, y = data3
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(X[:, :4], columns=list("abcd"))
    frame.loc[rng.random(len(frame)) < 0.1, "a"] = np.nan
    frame["colour"] = np.array(["red", "green", "blue"])[y]  # informative
    frame.loc[rng.random(len(frame)) < 0.1, "colour"] = None
    frame["size"] = pd.Categorical(rng.choice(["S", "M", "L"], len(frame)))
    preprocess = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         make_column_selector(dtype_include="number")),
        (make_pipeline(SimpleImputer(strategy="most_frequent"),
                       OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
         make_column_selector(dtype_exclude="number")),
    )
    pipe = make_pipeline(preprocess, fast_classifier()).fit(frame, y)
    assert pipe[-1].n_features_in_ == 4 + 3 + 3
    assert pipe.score(frame, y) > 0.9
    unseen = frame.head(5).assign(colour="purple")
    assert pipe.predict(unseen).shape == (5,)


def test_user_guide_recipe_for_screening_wide_data(data3):
    """docs/user_guide.md, "What to expect": the columns an XGBoost model ranks highest,
    then the distiller."""
    from sklearn.feature_selection import SelectFromModel
    from xgboost import XGBClassifier

    X, y = data3
    model = make_pipeline(SelectFromModel(XGBClassifier(n_estimators=10),
                                          max_features=3, threshold=-np.inf),
                          fast_classifier(memory=None)).fit(X, y)
    assert model[-1].n_features_in_ == 3
    assert model.score(X, y) > 0.8


def test_without_teachers_drops_fitted_teachers_from_the_parameters(data3):
    X, y = data3
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    for teachers, teacher_cv in (([("tree", tree)], "prefit"),
                                 ([("tree", FrozenEstimator(tree))], 3),
                                 ([("tree", tree)], 3)):  # fitted, cloned to refit
        clf = fast_classifier(teachers=teachers, teacher_cv=teacher_cv).fit(X, y)
        light = clf.without_teachers()
        assert light.teachers is None and clf.teachers is teachers
        assert b"DecisionTree" not in pickle.dumps(light)
        np.testing.assert_array_equal(light.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(NotFittedError):
        fast_classifier().without_teachers()


def test_device_auto_resolves_in_fit(data3):
    X, y = data3
    clf = fast_classifier(device="auto").fit(X, y)
    assert clf.device == "auto"
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_model_loads_on_cpu_only_machine(data3):
    """A net saved with device='cuda' unpickles on a machine without CUDA (as skorch
    tests)."""
    X, y = data3
    clf = fast_classifier(device="cpu").fit(X, y)
    expected = clf.predict_proba(X)
    clf.student_.device = "cuda"  # what a model fitted on a GPU carries
    clf.device_ = "cuda"
    payload = pickle.dumps(clf)
    with patch("torch.cuda.is_available", lambda *_: False), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning about the fallback
        restored = pickle.loads(payload)
    assert str(restored.student_.device) == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, atol=1e-6)


def test_cuda_requested_without_gpu_is_a_clear_error(data3):
    X, y = data3
    with patch("torch.cuda.is_available", lambda *_: False):
        with pytest.raises(ValueError, match="no CUDA device"):
            fast_classifier(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="not a torch device"):
        fast_classifier(device="gpu-please").fit(X, y)


# -- teachers: defaults, prefit, frozen, parallel ----------------------------------------

def test_default_teachers_fit_xgb_hgb_rf(data3):
    X, y = data3
    clf = HPMKDClassifier(student=make_student(max_epochs=2), random_state=0,
                          teacher_cv=2)
    clf.set_params(xgb__n_estimators=5, rf__n_estimators=5, hgb__max_iter=5)
    clf.fit(X, y)
    assert [type(t).__name__ for t in clf.teachers_] == [
        "XGBClassifier", "HistGradientBoostingClassifier", "RandomForestClassifier"]
    assert clf.teacher_n_nodes_ > 0


def test_prefit_teachers_are_used_as_given(data3):
    X, y = data3
    labels = np.array(["a", "b", "c"])[y]
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, labels)
    CountingTeacher.n_fits = 0
    counting = CountingTeacher().fit(X, labels)
    clf = fast_classifier(teachers=[("tree", tree), ("count", counting)],
                          teacher_cv="prefit").fit(X, labels)
    assert clf.teachers_[0] is tree and clf.teachers_[1] is counting
    assert CountingTeacher.n_fits == 1  # not refitted
    assert clf.score(X, labels) > 0.7


def test_in_sample_teacher_cv_fits_each_teacher_once_and_labels_with_it(data3):
    X, y = data3
    CountingTeacher.n_fits = 0
    clf = fast_classifier(teachers=[("count", CountingTeacher())],
                          teacher_cv="in_sample").fit(X, y)
    assert CountingTeacher.n_fits == 1  # no fold fits
    CountingTeacher.n_fits = 0
    fast_classifier(teachers=[("count", CountingTeacher())]).fit(X, y)
    assert CountingTeacher.n_fits == 4  # 3 folds and the final fit
    assert clf.score(X, y) > 0.7


def test_frozen_estimator_teacher_is_not_refit(data3):
    X, y = data3
    frozen = FrozenEstimator(
        DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y))
    clf = fast_classifier(teachers=[("frozen", frozen), ("lr", LogisticRegression())])
    clf.fit(X, y)
    assert clf.teachers_[0] is frozen


def test_parallel_teacher_fits_match_sequential(data3):
    X, y = data3
    sequential = fast_classifier(n_jobs=1).fit(X, y).predict_proba(X)
    parallel = fast_classifier(n_jobs=2).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(parallel, sequential, atol=1e-6)


# -- components: each switch changes behaviour -------------------------------------------

def test_attention_weighting_is_used_and_exposed(data3):
    X, y = data3
    attention = fast_classifier(ensemble="attention").fit(X, y)
    weights = attention.teacher_weights(X)
    assert weights.shape == (len(X), 2)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(attention.teacher_weights_, weights.mean(axis=0),
                               atol=0.05)
    best = fast_classifier(ensemble="best").fit(X, y)
    assert sorted(best.teacher_weights_.tolist()) == [0.0, 1.0]
    mean = fast_classifier(ensemble="mean").fit(X, y)
    np.testing.assert_allclose(mean.teacher_weights_, [0.5, 0.5])


def test_temperature_schedule_is_recorded_per_epoch(data3):
    X, y = data3
    constant = fast_classifier(temperature_schedule="constant", early_stopping=False)
    temperatures = constant.fit(X, y).student_.history[:, "temperature"]
    assert temperatures == [4.0] * len(temperatures)
    annealed = fast_classifier(temperature_schedule="annealed", early_stopping=False,
                               temperature_params={"final": 1.0, "epochs": 10})
    temperatures = annealed.fit(X, y).student_.history[:, "temperature"]
    assert temperatures[0] == 4.0 and temperatures[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(temperatures, temperatures[1:]))


def test_chain_records_every_step(data3):
    X, y = data3
    clf = fast_classifier(chain=[32], chain_min_gain=0.0).fit(X, y)
    roles = [(step["length"], step["role"]) for step in clf.chain_]
    assert roles == [(0, "target"), (1, "assistant"), (1, "target")]
    assert clf.chain_[1]["hidden_units"] == (32, 32)
    assert clf.chain_length_ in (0, 1)
    assert clf.student_.module_.layers[0].out_features == 16  # the target size
    off = fast_classifier(chain="off").fit(X, y)
    assert len(off.chain_) == 1 and off.chain_length_ == 0


def test_no_augment_trial_where_a_chain_was_planned(data3):
    """A chain whose assistants did not pay keeps its steps in ``chain_``: the
    augment trial (documented for no chain) does not run and replace them."""
    X, y = data3
    for chain, tried in (([32], False), ("off", True)):
        with _prior_proposing_no_augmentation():
            clf = fast_classifier(config="auto", augment=None, chain=chain,
                                  chain_min_gain=10.0, memory=None).fit(X, y)
        assert bool(clf.augment_trial_) == tried, chain
        roles = [step["role"] for step in clf.chain_]
        assert ("assistant" in roles) == (chain != "off") and clf.chain_length_ == 0


@pytest.mark.parametrize("embedding", ["ple", "periodic"])
def test_a_two_valued_column_trains_alike_whatever_its_two_values(embedding):
    """A year pair or a standardised rare category is mapped onto {0, 1} by the
    encodings: {1999, 2000} had taken the student from 0.95 to 0.5."""
    X, y = make_classification(200, 3, n_informative=3, n_redundant=0,
                               n_clusters_per_class=1, random_state=1)
    flag = np.random.RandomState(0).randint(0, 2, 200).astype(float)
    scores = [fast_classifier(numeric_embedding=embedding, memory=None,
                              student=make_student(max_epochs=40, lr=1e-2))
              .fit(np.c_[X, column], y).score(np.c_[X, column], y)
              for column in (flag, 1999 + flag, 1e6 * flag)]
    assert scores[0] > 0.9 and max(scores) - min(scores) <= 0.02, scores


def test_members_switch_averages_students_of_the_chosen_config(data3):
    X, y = data3
    single = fast_classifier().fit(X, y)
    assert single.n_members_ == 1 and single.student_.module_.members is None
    three = fast_classifier(n_members=3).fit(X, y)
    assert three.n_members_ == 3 and [m["seed"] for m in three.members_] == [0, 1, 2]
    assert len(three.student_.module_.members) == 3
    assert three.student_n_params_ == 3 * single.student_n_params_
    assert three.compression_ratio_ < single.compression_ratio_ / 2.5
    assert not np.allclose(single.predict_proba(X), three.predict_proba(X))
    restored = pickle.loads(pickle.dumps(three))
    np.testing.assert_array_equal(restored.predict_proba(X), three.predict_proba(X))
    unvalidated = fast_classifier(n_members=2, early_stopping=False).fit(X, y)
    assert unvalidated.n_members_ == 2


def test_auto_members_keep_the_size_budget_and_need_validation_rows(data3):
    X, y = data3
    single_ratio = fast_classifier().fit(X, y).compression_ratio_
    roomy = fast_classifier(n_members="auto", min_compression=single_ratio / 10).fit(X, y)
    kept = [member["kept"] for member in roomy.members_]
    assert 1 <= roomy.n_members_ <= MAX_MEMBERS
    assert kept == [True] * roomy.n_members_ + [False] * (len(kept) - roomy.n_members_)
    assert all(member["jensen_gap"] >= 0 for member in roomy.members_)
    tight = fast_classifier(n_members="auto", min_compression=single_ratio / 1.5)
    assert tight.fit(X, y).n_members_ == 1 and len(tight.members_) == 1
    unvalidated = fast_classifier(n_members="auto", early_stopping=False).fit(X, y)
    assert unvalidated.n_members_ == 1 and unvalidated.members_ == []


def test_auto_members_are_not_tried_on_large_data(data3, monkeypatch):
    X, y = data3
    single_ratio = fast_classifier().fit(X, y).compression_ratio_
    roomy = dict(n_members="auto", min_compression=single_ratio / 10, memory=None)
    assert len(fast_classifier(**roomy).fit(X, y).members_) > 1
    monkeypatch.setattr("skhpmkd.members.LARGE_DATA_ROWS", len(y) // 2)
    large = fast_classifier(**roomy).fit(X, y)
    assert large.n_members_ == 1 and len(large.members_) == 1


def _search_won_by(winner):
    """A successive_halving whose winner is candidate ``winner``, trained as the real
    last rung trains it."""
    def search(candidates, train, max_epochs, *, final_train, **kwargs):
        net, loss = final_train(candidates[winner])
        return winner, net, [{"candidate": winner, "rung": 0, "max_epochs": max_epochs,
                              "epochs": len(net.history), "rows": None, "folds": 1,
                              "valid_loss": loss, "seconds": 0.0}]
    return search


@pytest.mark.parametrize("stalled", ["challenger", "favourite"])
def test_the_winner_must_beat_the_averaged_favourite(data3, stalled):
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    learns = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    # a student with a vanishing learning rate stays near its initial guess
    favourite, challenger = ((learns, dict(learns, temperature=2.0, lr=1e-7))
                             if stalled == "challenger" else
                             (dict(learns, lr=1e-7), dict(learns, temperature=2.0)))
    proposals = [(favourite, "default"), (challenger, "prior")]
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals), \
            patch("skhpmkd.classifier.successive_halving", _search_won_by(1)):
        clf = fast_classifier(config="auto", n_members=2, memory=None).fit(X, y)
        unconfirmed = fast_classifier(config="auto", n_members=2, memory=None,
                                      confirm_winner=False).fit(X, y)
    confirmed = stalled == "favourite"
    assert clf.confirmation_["confirmed"] == confirmed
    assert (clf.confirmation_["winner_loss"] < clf.confirmation_["favourite_loss"]) \
        == confirmed
    assert clf.config_ == (challenger if confirmed else favourite)
    assert clf.n_members_ == 2 and clf.confirmation_["favourite_members"] == 2
    assert clf.student_.criterion_.temperature == clf.config_["temperature"]
    assert unconfirmed.confirmation_ == {} and unconfirmed.config_ == challenger
    if not confirmed:  # the favourite's students, as a fit of that configuration
        direct = fast_classifier(config=favourite, n_members=2, memory=None).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), direct.predict_proba(X))
    else:
        np.testing.assert_allclose(clf.predict_proba(X), unconfirmed.predict_proba(X))


def test_no_confirmation_for_the_favourite_or_a_single_student(data3):
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    base = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    proposals = [(dict(base, lr=1e-7), "default"), (dict(base, temperature=2.0), "prior")]
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals):
        with patch("skhpmkd.classifier.successive_halving", _search_won_by(1)):
            single = fast_classifier(config="auto", memory=None).fit(X, y)
        with patch("skhpmkd.classifier.successive_halving", _search_won_by(0)):
            favourite = fast_classifier(config="auto", n_members=2, memory=None).fit(X, y)
    assert single.n_members_ == 1 and single.confirmation_ == {}
    assert single.config_ == proposals[1][0]
    assert favourite.n_members_ == 2 and favourite.confirmation_ == {}
    assert favourite.config_ == proposals[0][0]


@pytest.mark.parametrize("trial", [True, "split"])
@pytest.mark.parametrize("keep", [True, False])
def test_the_augment_trial_keeps_augmentation_only_when_the_guard_says_so(data3, keep,
                                                                          trial):
    from skhpmkd.config import STATIC_DEFAULTS

    judged_on_split = trial == "split"
    X, y = data3
    plain = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    proposals = [(plain, "default"), (dict(plain, temperature=2.0), "prior")]
    judged = []

    def guard(candidate, reference, **_):
        judged.append((np.mean(candidate), np.mean(reference)))
        return keep

    params = dict(config="auto", augment=None, n_members=2, memory=None)
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals), \
            patch("skhpmkd.classifier.successive_halving", _search_won_by(0)), \
            patch("skhpmkd.classifier.significantly_lower", guard):
        clf = fast_classifier(**params, augment_trial=trial).fit(X, y)
        untried = fast_classifier(**params, augment_trial=False).fit(X, y)
    trial = clf.augment_trial_
    assert judged == [(trial["augmented_loss"], trial["plain_loss"])]
    assert trial["kept"] == keep and trial["augmented_members"] in (1, 2)
    # 12 validation rows: folds unless "split"; folds that decline train no members
    assert trial["folds"] == (0 if judged_on_split else 5)
    assert [member["seed"] for member in trial["members"]][:1] == (
        [0] if keep or judged_on_split else [])
    assert trial["augmented_members"] == max(1, sum(m["kept"] for m in trial["members"]))
    assert untried.augment_trial_ == {} and untried.n_synthetic_ == 0
    augmented = dict(plain, augment="auto")
    assert clf.config_ == (augmented if keep else plain)
    assert (clf.n_synthetic_ > 0) == keep
    # what is shipped is the fit of the configuration kept
    direct = fast_classifier(config=augmented, augment=None, n_members=2,
                             memory=None).fit(X, y)
    assert direct.config_ == augmented
    np.testing.assert_allclose(clf.predict_proba(X), (direct if keep else untried)
                               .predict_proba(X))


def test_fold_students_join_the_shipped_average_where_the_trial_declines(data3,
                                                                       tmp_path):
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    plain = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    proposals = [(plain, "default"), (dict(plain, temperature=2.0), "prior")]
    params = dict(config="auto", augment=None, n_members=2, min_compression=None,
                  fold_members=True)
    memory = str(tmp_path / "m.sqlite")
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals), \
            patch("skhpmkd.classifier.successive_halving", _search_won_by(0)), \
            patch("skhpmkd.classifier.significantly_lower", return_value=False):
        joined = fast_classifier(**params, memory=memory).fit(X, y)
        alone = fast_classifier(**dict(params, fold_members=False),
                                memory=None).fit(X, y)
        split = fast_classifier(**params, augment_trial="split", memory=None).fit(X, y)
        with patch("skhpmkd.classifier.members_within_budget", return_value=4):
            budgeted = fast_classifier(**params, memory=None).fit(X, y)
        restored = fast_classifier(**params, memory=memory).fit(X, y)
    # 12 validation rows: the trial judged on 5 folds, declined, and its 5 plain
    # students joined the 2 shipped members
    assert joined.augment_trial_["folds"] == 5 and not joined.augment_trial_["kept"]
    assert joined.augment_trial_["fold_members"] == 5
    assert alone.augment_trial_["fold_members"] == 0
    assert split.augment_trial_["fold_members"] == 0  # judged on the split: no folds
    assert budgeted.augment_trial_["fold_members"] == 2  # room for 4 networks in all
    assert joined.n_members_ == 7 == len(joined.student_.module_.members)
    assert alone.n_members_ == split.n_members_ == 2 and budgeted.n_members_ == 4
    shipped = [member.state_dict() for member in alone.student_.module_.members]
    for member, state in zip(joined.student_.module_.members, shipped):
        assert all(torch.equal(member.state_dict()[name], value)
                   for name, value in state.items())
    np.testing.assert_array_equal(split.predict_proba(X), alone.predict_proba(X))
    assert not np.allclose(joined.predict_proba(X), alone.predict_proba(X))
    assert restored.restored_ and restored.n_members_ == 7
    np.testing.assert_array_equal(restored.predict_proba(X), joined.predict_proba(X))
    again = pickle.loads(pickle.dumps(joined))
    np.testing.assert_array_equal(again.predict_proba(X), joined.predict_proba(X))


def _prior_proposing_no_augmentation():
    from skhpmkd.config import STATIC_DEFAULTS

    plain = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    return patch("skhpmkd.classifier.propose_candidates", return_value=[(plain, "prior")])


def test_the_augment_trial_averages_no_more_members_than_the_plain_student(data3):
    from skhpmkd.classifier import grow_members
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    plain = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    asked = []

    def one_plain_member(train, first, valid_proba, labels, n_members, min_gain,
                         sample_weight=None):
        asked.append(n_members)  # the plain student keeps its first network only
        n_members = 1 if len(asked) == 1 else n_members
        return grow_members(train, first, valid_proba, labels, n_members, min_gain,
                            sample_weight)

    with patch("skhpmkd.classifier.propose_candidates",
               return_value=[(plain, "default"), (dict(plain, alpha=0.9), "prior")]), \
            patch("skhpmkd.classifier.successive_halving", _search_won_by(0)), \
            patch("skhpmkd.classifier.grow_members", one_plain_member):
        clf = fast_classifier(config="auto", augment=None, n_members=3,
                              augment_trial="split", memory=None).fit(X, y)
    assert asked == [3, 1]
    assert clf.augment_trial_["members"] and len(clf.augment_trial_["members"]) == 1


@pytest.mark.parametrize("params, tried", [
    (dict(), True), (dict(augment="off"), False), (dict(config="default"), False),
    (dict(early_stopping=False), False), (dict(augment_trial=False), False)])
def test_the_augment_trial_runs_only_where_the_manager_chose(data3, params, tried):
    X, y = data3
    with _prior_proposing_no_augmentation():
        clf = fast_classifier(**{"config": "auto", "augment": None, "memory": None,
                                 "augment_trial": "split", **params}).fit(X, y)
    assert (clf.augment_trial_ != {}) == tried


@pytest.mark.parametrize("trial", [True, "split"])
def test_the_augment_trial_pools_folds_where_the_validation_split_is_small(data3,
                                                                           trial):
    """120 rows hold 12 validation rows: the trial judges one plain and one augmented
    student per fold on the held-out rows of 5 folds (60 rows), each fold's soft
    targets and synthetic rows from the teacher stage rerun on its training rows
    alone (3 folds and a final fit each); "split" judges the shipped student on the
    validation rows and fits no teacher more."""
    from skhpmkd.augment import TRIAL_POOLED_ROWS
    from skhpmkd.search import search_folds

    X, y = data3
    X = np.column_stack([np.arange(len(y)), X])
    trial_folds = []

    def recording_folds(*args, **kwargs):
        folds = search_folds(*args, **kwargs)
        if kwargs.get("min_rows") == TRIAL_POOLED_ROWS:
            trial_folds.append(folds)
        return folds

    RowRecordingTeacher.fitted_rows = []
    with _prior_proposing_no_augmentation(), \
            patch("skhpmkd.classifier.search_folds", recording_folds), \
            patch("skhpmkd.classifier.CrossValidatedTrainer",
                  wraps=CrossValidatedTrainer) as cross_validated:
        clf = fast_classifier(teachers=[("rows", RowRecordingTeacher())],
                              config="auto", augment=None, augment_trial=trial,
                              memory=None).fit(X, y)
    fits = RowRecordingTeacher.fitted_rows
    if trial == "split":
        assert clf.augment_trial_["folds"] == 0 and len(fits) == 4
        assert not cross_validated.called
        return
    (folds,) = trial_folds
    assert clf.augment_trial_["folds"] == len(folds) == 5
    assert len(fits) == 4 + 5 * 4
    for k, (train, _) in enumerate(folds):
        stage = fits[4 + 4 * k:8 + 4 * k]
        assert max(stage, key=len) == frozenset(train)
        assert all(rows <= frozenset(train) for rows in stage)
    (trainers,) = cross_validated.call_args.args
    for trainer, (train, judged) in zip(trainers, folds):
        X_set, targets = trainer.transfer_set(clf.config_)
        assert set(X_set[targets["label"] >= 0, 0].astype(int)) == set(train)
        assert set(trainer.valid[0][:, 0].astype(int)) == set(judged)
    assert np.isfinite(clf.predict_proba(X[:5])).all()


class ColumnRecordingTeacher(ClassifierMixin, BaseEstimator):
    """A logistic-regression teacher that records how many columns each fit and each
    prediction takes (class-level lists); its importances are its mean |coef|."""

    fitted_columns, predicted_columns = [], []

    def fit(self, X, y):
        type(self).fitted_columns.append(X.shape[1])
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        self.feature_importances_ = np.abs(self.model_.coef_).mean(axis=0)
        return self

    def predict_proba(self, X):
        type(self).predicted_columns.append(X.shape[1])
        return self.model_.predict_proba(X)


@pytest.mark.parametrize("student_features, own_teachers", [(3, False), ("all", False),
                                                            (3, True)])
def test_the_augment_trial_fits_its_fold_teachers_on_the_students_columns(
        data3, student_features, own_teachers):
    """Where the student's columns are screened, the trial's fold teachers (5 folds
    of 3 teacher folds and a final fit) take the student's 3 columns, and label its
    synthetic rows on them; the teacher stage the student learns from keeps all 6,
    and teachers the user passed keep them in the trial too."""
    X, y = data3
    recorder = ColumnRecordingTeacher
    recorder.fitted_columns, recorder.predicted_columns = [], []
    teachers = [("columns", recorder())]
    params = dict(teachers=teachers) if own_teachers else dict(teachers=None)
    with _prior_proposing_no_augmentation(), patch(
            "skhpmkd.classifier.default_teachers", return_value=teachers):
        clf = fast_classifier(**params, config="auto", augment=None,
                              student_features=student_features,
                              memory=None).fit(X, y)
    assert clf.augment_trial_["folds"] == 5
    trial = 3 if student_features == 3 and not own_teachers else 6
    assert recorder.fitted_columns == [6] * 4 + [trial] * 5 * 4
    assert len(clf.teachers_[0].model_.coef_[0]) == 6
    assert trial in recorder.predicted_columns
    assert np.isfinite(clf.predict_proba(X[:5])).all()


def test_the_augment_trial_keeps_every_named_column_for_teachers_of_the_users(data3):
    """A teacher of the user's may pick columns by name: the trial's teachers then
    take every column, as the fit's do, where the student keeps 3 of 6."""
    X, y = data3
    X = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    picking = make_pipeline(
        ColumnTransformer([("picked", "passthrough", ["c0", "c5"])]),
        LogisticRegression())
    with _prior_proposing_no_augmentation():
        clf = fast_classifier(teachers=[("picking", picking)], config="auto",
                              augment=None, student_features=3, memory=None).fit(X, y)
    assert clf.augment_trial_["folds"] == 5 and len(clf.student_columns_) == 3
    assert np.isfinite(clf.predict_proba(X.iloc[:5])).all()


def test_augmentation_must_gain_what_a_member_must():
    """A gain beyond noise but under ``MEMBER_MIN_GAIN`` nats a row keeps no
    augmentation (near-perfect data); a larger one does."""
    from skhpmkd.classifier import augmentation_pays
    from skhpmkd.ensemble import significantly_lower
    from skhpmkd.members import MEMBER_MIN_GAIN

    plain = np.random.default_rng(0).uniform(0.0, 0.01, 200)
    slightly = plain - MEMBER_MIN_GAIN / 2
    assert significantly_lower(slightly, plain)
    assert not augmentation_pays(slightly, plain)
    assert augmentation_pays(plain - 2 * MEMBER_MIN_GAIN, plain)


def test_no_augment_trial_where_augmentation_adds_no_rows(data3, monkeypatch):
    X, y = data3
    monkeypatch.setattr("skhpmkd.classifier.synthetic_rows", lambda n_rows, augment: 0)
    with _prior_proposing_no_augmentation():
        clf = fast_classifier(config="auto", augment=None, memory=None).fit(X, y)
    assert clf.augment_trial_ == {}


def test_no_augment_trial_for_a_configuration_from_the_memory(data3, tmp_path):
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    plain = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0, augment="off")
    proposals = [(plain, "default"), (dict(plain, temperature=2.0), "prior")]
    params = dict(config="auto", augment=None, augment_trial="split",
                  memory=str(tmp_path / "m.sqlite"))
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals), \
            patch("skhpmkd.classifier.successive_halving", _search_won_by(0)), \
            patch("skhpmkd.classifier.significantly_lower", return_value=False):
        searched = fast_classifier(**params).fit(X, y)
    remembered = fast_classifier(**params, random_state=1).fit(X, y)
    assert (searched.config_source_ == "search"
            and searched.augment_trial_["kept"] is False)
    assert remembered.config_source_ == "memory" and remembered.restored_ is False
    assert remembered.config_["augment"] == "off" and remembered.augment_trial_ == {}


def test_no_augment_trial_for_a_module_of_the_users_own(data3):
    X, y = data3
    student = make_student(module=TinyModule, max_epochs=5, lr=1e-2)
    with _prior_proposing_no_augmentation():
        clf = fast_classifier(config="auto", augment=None, memory=None,
                              student=student).fit(X, y)
    assert clf.config_["augment"] == "off" and clf.augment_trial_ == {}


def test_settings_a_module_of_the_users_own_leaves_unused_are_named(data3):
    X, y = data3
    student = make_student(module=TinyModule, max_epochs=5, lr=1e-2)
    with pytest.warns(UserWarning, match=r"chain='auto', n_members=3, "
                      r"numeric_embedding='ple' apply to the default MLP student "
                      r"only; the student's module 'TinyModule'") as caught:
        fast_classifier(student=student, chain="auto", n_members=3,
                        numeric_embedding="ple").fit(X, y)
    assert [w.filename for w in caught if "default MLP" in str(w.message)] == [
        __file__]  # the line that called fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HPMKDClassifier(teachers=fast_teachers(), student=student, memory=None,
                        random_state=0).fit(X, y)  # the defaults ask for nothing


def test_no_augment_trial_after_a_kept_chain(data3):
    import skhpmkd.classifier

    X, y = data3
    run_chain = skhpmkd.classifier.run_chain

    def chain_kept(*args, **kwargs):  # the real chain, reported as one step kept
        net, steps, _ = run_chain(*args, **kwargs)
        return net, steps, 1

    with _prior_proposing_no_augmentation(), \
            patch("skhpmkd.classifier.run_chain", chain_kept):
        clf = fast_classifier(config="auto", augment=None, chain=[32],
                              memory=None).fit(X, y)
    assert clf.chain_length_ == 1 and clf.augment_trial_ == {}


def test_augmentation_adds_teacher_labelled_rows(data3):
    X, y = data3
    clf = fast_classifier(augment=2.0, early_stopping=False).fit(X, y)
    assert clf.n_synthetic_ == 2 * len(X)
    assert trained_rows(clf) == 3 * len(X)
    assert fast_classifier(augment="off").fit(X, y).n_synthetic_ == 0


def test_numeric_embedding_switch(data3):
    X, y = data3
    ple = fast_classifier(numeric_embedding="ple").fit(X, y)
    assert isinstance(ple.student_.module_.encoding, PiecewiseLinearEncoding)
    periodic = fast_classifier(numeric_embedding="periodic").fit(X, y)
    assert isinstance(periodic.student_.module_.encoding, PeriodicEncoding)
    assert periodic.config_["numeric_embedding"] == "periodic"
    assert isinstance(fast_classifier(numeric_embedding="none").fit(X, y)
                      .student_.module_.encoding, StandardisedColumns)


def test_every_numeric_embedding_is_independent_of_the_columns_units(data3):
    X, y = data3
    in_units = X * np.array([1e3, 1e-3, 1.0, 50.0, 1e4, 1.0]) + np.array(
        [1e5, -7.0, 0.0, 300.0, 0.0, 2e4])
    trees = [("tree", DecisionTreeClassifier(max_depth=4, random_state=0))]
    for numeric_embedding in ("none", "ple", "periodic"):
        probas = [fast_classifier(teachers=trees, numeric_embedding=numeric_embedding,
                                  memory=None).fit(data, y).predict_proba(data)
                  for data in (X, in_units)]
        # float32 rounds the offsets' columns, and training amplifies it a little
        np.testing.assert_allclose(*probas, atol=0.05)  # "none" had been 1.0 apart


def test_a_constant_column_does_not_swamp_the_student(data3):
    X, y = data3
    with_constant = np.column_stack([X, np.full(len(X), 1e6)])
    for numeric_embedding in ("none", "ple", "periodic"):
        clf = fast_classifier(numeric_embedding=numeric_embedding, memory=None)
        assert clf.fit(with_constant, y).score(with_constant, y) > 0.8  # had been 1/3


def test_weight_averaging_switch(data3):
    X, y = data3
    averaged = fast_classifier(early_stopping=False).fit(X, y)
    assert averaged.weight_averaging == 0.99
    raw = fast_classifier(early_stopping=False, weight_averaging=0.0).fit(X, y)
    assert not np.allclose(averaged.predict_proba(X), raw.predict_proba(X))
    again = fast_classifier(early_stopping=False, weight_averaging=0.0).fit(X, y)
    np.testing.assert_array_equal(raw.predict_proba(X), again.predict_proba(X))


def test_lr_schedule_switch(data3):
    X, y = data3
    constant = fast_classifier(early_stopping=False).fit(X, y)
    assert constant.lr_schedule == "constant"
    assert "event_lr" not in constant.student_.history[-1]
    plateau = fast_classifier(early_stopping=False, lr_schedule="plateau").fit(X, y)
    assert plateau.student_.history[0, "event_lr"] == constant.student_.lr


def test_early_stopping_on_switch(data3):
    X, y = data3
    plain = fast_classifier().fit(X, y)
    assert plain.early_stopping_on == "log_loss"
    assert "valid_objective" not in plain.student_.history[-1]
    objective = fast_classifier(early_stopping_on="objective").fit(X, y)
    assert "valid_objective" in objective.student_.history[-1]


def test_min_compression_budget_narrows_the_default_student(data3):
    X, y = data3
    template = make_student(max_epochs=2)  # no hidden_units: the default size
    roomy = fast_classifier(student=template, min_compression=None).fit(X, y)
    tight = fast_classifier(student=template,
                            min_compression=roomy.compression_ratio_ * 4)
    tight.fit(X, y)
    assert tight.student_n_params_ < roomy.student_n_params_
    assert tight.compression_ratio_ > roomy.compression_ratio_ * 1.5


def noise_data(n=150, seed=0):
    """Labels drawn independently of the features: nothing to learn."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 2, n)


def learned_nothing_warnings(caught):
    return [w for w in caught if "learned nothing" in str(w.message)]


def test_a_student_that_learned_nothing_is_named_to_the_caller(tmp_path):
    X, y = noise_data()
    with pytest.warns(UserWarning, match="the student learned nothing its 15 "
                                         "validation rows can see") as caught:
        clf = fast_classifier(memory=str(tmp_path / "memory.sqlite")).fit(X, y)
    assert [w.filename for w in learned_nothing_warnings(caught)] == [__file__]
    scores = clf.validation_scores_
    assert scores["rows"] == 15
    assert scores["student"] > scores["class_shares"] - 1e-4
    # the same fit restored from the memory says so again
    with pytest.warns(UserWarning, match="learned nothing"):
        again = fast_classifier(memory=str(tmp_path / "memory.sqlite")).fit(X, y)
    assert again.restored_ and again.validation_scores_ == scores


def test_learned_nothing_means_not_one_percent_below_the_class_shares():
    from skhpmkd.training import learned_nothing

    def scores(student, rows=20):
        return {"rows": rows, "student": student, "class_shares": 0.6932,
                "teachers": 0.6}

    assert learned_nothing(scores(0.6930))  # 0.03% below: the 400 x 5,000 task's
    assert learned_nothing(scores(0.75))  # worse than the class shares
    assert not learned_nothing(scores(0.6850))  # 1.2% below
    assert not learned_nothing(scores(0.75, rows=1)) and not learned_nothing(None)


@pytest.mark.parametrize("n_features, advice", [
    (100, r"let the student take only the columns the teachers rank highest "
          r"\(student_features\)"),  # "auto" screens more than 100 columns only
    (150, r"the student took the 100 columns the teachers rank highest; fewer "
          r"\(student_features\) may help")])
def test_a_wide_student_that_learned_nothing_is_pointed_at_screening(n_features,
                                                                       advice):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, n_features)), rng.integers(0, 2, 60)
    with pytest.warns(UserWarning, match=rf"learned nothing .* with more columns "
                                         rf"\({n_features}\) than rows \(60\), {advice}"):
        fast_classifier(memory=None).fit(X, y)


def test_a_student_that_learned_is_not_warned_about(data3):
    X, y = data3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = fast_classifier(memory=None).fit(X, y)
    assert not learned_nothing_warnings(caught)
    scores = clf.validation_scores_
    assert scores["rows"] == 12
    assert scores["student"] < scores["class_shares"] - 0.2
    assert scores["teachers"] < scores["class_shares"] - 0.2


def test_validation_scores_without_validation_rows_are_none():
    X, y = noise_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = fast_classifier(early_stopping=False, memory=None).fit(X, y)
    assert clf.validation_scores_ is None and not learned_nothing_warnings(caught)


def test_validation_scores_of_the_teachers_are_of_their_probabilities(data3):
    """A teacher that remembers every row scores near 0 on the validation rows; one
    that predicts the class shares scores about what the class shares do."""
    from sklearn.dummy import DummyClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data3
    for teacher, near_shares in ((KNeighborsClassifier(1), False),
                                 (DummyClassifier(strategy="prior"), True)):
        clf = fast_classifier(teachers=[("t", teacher.fit(X, y))], teacher_cv="prefit",
                              memory=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the class-shares teacher teaches nothing
            scores = clf.fit(X, y).validation_scores_
        if near_shares:
            assert scores["teachers"] == pytest.approx(scores["class_shares"], abs=0.02)
        else:
            assert scores["teachers"] < 1e-3


def test_each_fit_is_recorded_in_the_memory(data3, tmp_path):
    from skhpmkd.memory import OptimizationMemory

    X, y = data3
    path = tmp_path / "runs.sqlite"
    clf = fast_classifier(memory=str(path)).fit(X, y)
    (run,) = OptimizationMemory(path).runs()
    assert run["id"] == clf.memory_run_id_
    assert run["meta_features"]["n_classes"] == 3.0
    assert 0 < run["meta_features"]["teacher_accuracy_max"] <= 1
    assert run["config"]["temperature"] == 4.0 and run["config"]["chain"] == "off"
    assert run["config"]["config_source"] == "default"
    assert run["config"]["teachers"] == ["DecisionTreeClassifier", "LogisticRegression"]
    assert run["scores"]["compression"] == pytest.approx(clf.compression_ratio_)
    assert set(run["timings"]) == {"teachers", "weighting", "student", "teacher_tasks"}
    assert set(run["timings"]["teacher_tasks"]) == {
        f"{name}:{part}" for name in ("tree", "lr")
        for part in ("all", "fold0", "fold1", "fold2")}


def test_default_memory_records_and_none_switches_it_off(data3, isolated_memory):
    from skhpmkd.memory import OptimizationMemory

    X, y = data3
    before = len(OptimizationMemory(isolated_memory))
    fast_classifier().fit(X, y)
    assert len(OptimizationMemory(isolated_memory)) == before + 1
    off = fast_classifier(memory=None).fit(X, y)
    assert not hasattr(off, "memory_run_id_")
    recorded = fast_classifier().fit(X, y)
    assert not hasattr(recorded.set_params(memory=None).fit(X, y), "memory_run_id_")
    assert len(OptimizationMemory(isolated_memory)) == before + 1


def test_corrupt_memory_warns_and_fit_goes_on(data3, tmp_path):
    from skhpmkd.memory import MemoryWarning

    X, y = data3
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.warns(MemoryWarning):
        clf = fast_classifier(memory=str(path)).fit(X, y)
    assert clf.score(X, y) > 0.8
    assert list(tmp_path.glob("broken.sqlite.corrupt-*"))


@pytest.mark.parametrize("as_location", [str, Path])
def test_teacher_cache_skips_refitting_teachers(data3, tmp_path, as_location):
    X, y = data3
    CountingTeacher.n_fits = 0
    make = lambda **p: fast_classifier(teachers=[("count", CountingTeacher())],
                                       teacher_cache=as_location(tmp_path), **p)
    first = make(temperature=2.0).fit(X, y)
    fits = CountingTeacher.n_fits
    assert fits == 4  # 3 folds + the final fit
    second = make(temperature=8.0).fit(X, y)
    assert CountingTeacher.n_fits == fits
    np.testing.assert_allclose(first.teachers_[0].predict_proba(X),
                               second.teachers_[0].predict_proba(X))


def test_validation_held_out_keeps_them_from_fold_teachers(data3):
    """With ``validation_held_out``, the student's validation rows are held out of
    every fold's teacher (see fit_teachers); without it, or without validation rows,
    they are not. The teacher weighting fits on the training rows either way."""
    from skhpmkd import classifier
    from skhpmkd.ensemble import TeacherWeighting
    X, y = data3
    with patch.object(classifier, "fit_teachers", wraps=classifier.fit_teachers) as fit, \
            patch.object(TeacherWeighting, "fit", autospec=True,
                         side_effect=TeacherWeighting.fit) as weighting_fit:
        for params, held_out, weighting_rows in (
                ({"validation_held_out": True}, 12, 120 - 12),  # 0.1 of 120 rows
                ({}, None, 120 - 12),
                ({"validation_held_out": True, "early_stopping": False}, None, 120)):
            fast_classifier(ensemble="attention", **params).fit(X, y)
            rows = fit.call_args.kwargs["held_out"]
            assert (None if rows is None else len(rows)) == held_out, params
            assert len(weighting_fit.call_args.args[1]) == weighting_rows, params


def test_no_teacher_weighting_fits_on_rows_that_judge_a_student(data3):
    """The teacher weighting is fitted on the rows students train on: the validation
    rows, a cross-validated search's judged rows and the augment trial's lend it no
    labels (it would favour "attention" and "best" there)."""
    from skhpmkd.ensemble import TeacherWeighting
    from skhpmkd.search import search_folds

    X, y = data3
    X = np.column_stack([np.arange(len(y)), X])
    teachers = [("a", RowRecordingTeacher()), ("b", RowRecordingTeacher())]
    folds = []

    def recording_folds(*args, **kwargs):
        made = search_folds(*args, **kwargs)
        folds.extend(made)
        return made

    def fitted_rows(params, *patches):
        folds.clear()
        with contextlib.ExitStack() as stack:
            for context in patches:
                stack.enter_context(context)
            weighting_fit = stack.enter_context(patch.object(
                TeacherWeighting, "fit", autospec=True,
                side_effect=TeacherWeighting.fit))
            stack.enter_context(patch("skhpmkd.classifier.search_folds",
                                      recording_folds))
            fast_classifier(teachers=teachers, memory=None, **params).fit(X, y)
        return [frozenset(call.args[1][:, 0].astype(int))
                for call in weighting_fit.call_args_list]

    for params, patches, n_folds in (
            ({"config": "auto", "search_budget": 3, "search_folds": 3,
              "augment_trial": False}, (), 3),
            ({"config": "auto", "augment": None}, (_prior_proposing_no_augmentation(),),
             5)):
        rows = fitted_rows(params, *patches)
        assert len(folds) == n_folds, params
        assert 120 - 12 in map(len, rows) and max(map(len, rows)) < 120, params
        for train, judged in folds:
            assert frozenset(train) in rows and not frozenset(judged) & frozenset(
                train)


class RowRecordingTeacher(ClassifierMixin, BaseEstimator):
    """A logistic-regression teacher that records the row ids (column 0) of each fit
    (class-level list)."""

    fitted_rows = []

    def fit(self, X, y):
        type(self).fitted_rows.append(frozenset(X[:, 0].astype(int)))
        self.model_ = LogisticRegression().fit(X[:, 1:], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X[:, 1:])


@pytest.mark.parametrize("search_labels", ["held_out", "shared"])
def test_search_ranks_on_teachers_that_never_saw_the_validation_rows(data3,
                                                                       search_labels):
    """``search_labels="held_out"`` reruns the teacher stage on the training rows
    alone (3 folds + a final fit, none of them on a validation row) and ranks the
    search's short rungs on those labels; "shared" fits the teachers once."""
    X, y = data3
    X = np.column_stack([np.arange(len(y)), X])
    RowRecordingTeacher.fitted_rows = []
    params = dict(teachers=[("rows", RowRecordingTeacher())], config="auto",
                  search_budget=3, memory=None)
    clf = fast_classifier(search_labels=search_labels, **params).fit(X, y)
    fits = RowRecordingTeacher.fitted_rows
    assert clf.search_labels_ == search_labels
    assert frozenset(range(120)) in fits[:4]  # the final teacher: every row
    if search_labels == "shared":
        assert len(fits) == 4
        return
    assert len(fits) == 4 + 4
    train = max(fits[4:], key=len)
    assert len(train) == 120 - 12  # validation_fraction=0.1 of 120 rows
    assert all(rows <= train for rows in fits[4:])
    assert not all(rows <= train for rows in fits[:4])  # the fold teachers saw them
    shared = fast_classifier(search_labels="shared", **params).fit(X, y)
    assert ([record["valid_loss"] for record in clf.config_search_[:-1]]
            != [record["valid_loss"] for record in shared.config_search_[:-1]])


def test_the_search_teachers_fit_on_a_sample_where_its_rungs_use_fewer_rows(data3):
    """Where the short rungs train on fewer rows than the fit has, the search's own
    teacher stage fits on a sample of that many; the fit goes through."""
    X, y = data3
    X = np.column_stack([np.arange(len(y)), X])
    RowRecordingTeacher.fitted_rows = []
    with patch("skhpmkd.classifier.short_rung_rows_cap", return_value=60):
        clf = fast_classifier(teachers=[("rows", RowRecordingTeacher())], config="auto",
                              search_budget=3, memory=None,
                              search_labels="held_out").fit(X, y)
    fits = RowRecordingTeacher.fitted_rows
    assert clf.search_labels_ == "held_out" and len(fits) == 8
    assert len(max(fits[4:], key=len)) == 60
    assert np.isfinite(clf.predict_proba(X[:5])).all()


def test_no_second_teacher_stage_without_a_search_or_a_leak(data3):
    """The search's own teacher stage runs only when it ranks candidates on shared
    validation rows that the fold teachers saw."""
    X, y = data3
    for params, labels in [({"config": "default"}, None),
                           ({"validation_held_out": True}, "shared"),
                           ({"search_folds": 2}, "shared"),
                           ({"search_labels": "shared"}, "shared")]:
        CountingTeacher.n_fits = 0
        clf = fast_classifier(teachers=[("count", CountingTeacher())],
                              **{"config": "auto", "search_budget": 3, "memory": None,
                                 "search_labels": "held_out", **params}).fit(X, y)
        assert clf.search_labels_ == labels and CountingTeacher.n_fits == 4, params
    assert HPMKDClassifier().search_labels == "shared"


# -- bad input: clear errors before expensive work --------------------------------------

@pytest.mark.parametrize("make_bad, message", [
    (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), "NaN"),
    (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), "infinity"),
    (lambda X: X[:0], "0 sample"),
])
def test_bad_X_is_rejected_before_teachers_fit(data3, make_bad, message):
    X, y = data3
    CountingTeacher.n_fits = 0
    clf = fast_classifier(teachers=[("count", CountingTeacher())])
    bad = make_bad(X)
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(bad, y[:bad.shape[0]])
    assert CountingTeacher.n_fits == 0


def test_non_numeric_dataframe_columns_are_named_before_teachers_fit(data3):
    X, y = data3
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["colour"] = pd.Categorical(np.where(y == 0, "red", "blue"))
    frame["city"] = np.where(y == 1, "Oslo", "Lima")
    CountingTeacher.n_fits = 0
    clf = fast_classifier(teachers=[("count", CountingTeacher())])
    named = r"2 non-numeric column\(s\): \['colour', 'city'\]"
    with pytest.raises(ValueError, match=named):
        clf.fit(frame, y)
    assert CountingTeacher.n_fits == 0
    numeric = frame.drop(columns=["colour", "city"])
    numeric["flag"] = y == 1
    fitted = fast_classifier().fit(numeric, y)
    with pytest.raises(ValueError, match=r"non-numeric column\(s\): \['x0'\]"):
        fitted.predict(numeric.assign(x0="text"))
    as_objects = numeric.astype(object)  # numbers in object columns are numbers
    np.testing.assert_allclose(fitted.predict_proba(as_objects),
                               fitted.predict_proba(numeric))
    with pytest.raises(ValueError, match=r"non-numeric column\(s\): \['x0'\]"):
        fitted.predict(numeric.assign(x0=pd.Categorical(numeric["x0"])))


@pytest.mark.parametrize("sparse_format", ["csr", "csc", "coo"])
def test_sparse_X_is_densified(data3, sparse_format):
    X, y = data3
    X = np.where(np.abs(X) > 0.5, X, 0.0)
    X_sparse = sp.csr_matrix(X).asformat(sparse_format)
    dense = fast_classifier(random_state=0).fit(X, y)
    sparse = fast_classifier(random_state=0).fit(X_sparse, y)
    np.testing.assert_allclose(sparse.predict_proba(X_sparse), dense.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sparse.teacher_weights(X_sparse),
                               dense.teacher_weights(X))


def test_one_class_and_continuous_y_are_rejected(data3):
    X, y = data3
    CountingTeacher.n_fits = 0
    clf = fast_classifier(teachers=[("count", CountingTeacher())])
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, np.linspace(0, 1, len(X)))
    assert CountingTeacher.n_fits == 0


def test_wrong_number_of_features_at_predict(data3):
    X, y = data3
    clf = fast_classifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])


def test_teacher_without_predict_proba_is_rejected_before_fitting(data3):
    X, y = data3
    CountingTeacher.n_fits = 0
    clf = fast_classifier(teachers=[("count", CountingTeacher()), ("svc", SVC())])
    with pytest.raises(TypeError, match="'svc'.*predict_proba"):
        clf.fit(X, y)
    assert CountingTeacher.n_fits == 0


@pytest.mark.parametrize("teachers, message", [
    ([], "non-empty"),
    ([("a", LogisticRegression()), ("a", LogisticRegression())], "unique"),
    ([("a__b", LogisticRegression())], "'__'"),
    ([LogisticRegression()], r"\(name, estimator\)"),
    ([("alpha", LogisticRegression()), ("student", LogisticRegression())],
     r"\['alpha', 'student'\] are also parameters"),
])
def test_malformed_teacher_lists(data3, teachers, message):
    X, y = data3
    with pytest.raises(ValueError, match=message):
        fast_classifier(teachers=teachers).fit(X, y)


class ForwardOnlyLoss(torch.nn.Module):
    """A loss of the user's own with no ``__init__``: torch.nn.Module's takes
    ``**kwargs`` but refuses ``temperature`` and ``alpha``."""

    def forward(self, logits, labels, teacher_logits, teacher_weights):
        return torch.nn.functional.cross_entropy(logits, labels.clamp(min=0))


@pytest.mark.parametrize("params, message", [
    ({"chain": [-3]}, "got -3"), ({"chain": ["a"]}, "got 'a'"),
    ({"chain": [0]}, "got 0"), ({"chain": [True]}, "got True"),
    ({"chain": [(32, 0)]}, r"got \(32, 0\)"), ({"chain": [()]}, r"got \(\)"),
    ({"student": make_student(max_epochs=0)}, "max_epochs must be an int >= 1"),
    ({"student": make_student(lr=0.0)}, "lr must be a positive number"),
    ({"student": make_student(module__hidden_units=[0])},
     "hidden_units must be a tuple of ints"),
    ({"student": make_student(module__hidden_units=8)},
     r"hidden_units must be a tuple of ints >= 1, one per hidden layer; got 8"),
    ({"student": make_student(batch_size=0)}, "batch_size must be an int >= 1"),
    ({"student": make_student(module__dropout=2.0)}, r"dropout must be .* \[0, 1\)"),
    ({"student": make_student(optimizer="adam")}, "optimizer must be a torch optimizer"),
    ({"student": make_student(optimizer=torch.nn.Linear)},
     "optimizer must be a torch optimizer"),
    ({"student": make_student(criterion=ForwardOnlyLoss)},
     "criterion ForwardOnlyLoss does not take temperature and alpha"),
    ({"student": make_student(criterion=torch.nn.MSELoss)},
     "criterion MSELoss does not take temperature and alpha"),
    ({"temperature_params": {"final": 0.5}, "temperature_schedule": "constant"},
     r"temperature_params: Unknown parameters \['final'\]"),
    ({"temperature_params": {"bogus": 1}}, "no temperature schedule takes"),
    ({"temperature_params": {"factor": 2.0}}, "temperature_params: factor"),
    ({"temperature_params": {"epochs": 0}, "config": "auto"},
     "temperature_params: epochs"),
])
def test_settings_that_cannot_train_fail_before_any_teacher_fits(data3, params, message):
    X, y = data3
    CountingTeacher.n_fits = 0
    with pytest.raises(ValueError, match=message):
        fast_classifier(teachers=[("count", CountingTeacher())], **params).fit(X, y)
    assert CountingTeacher.n_fits == 0


def test_values_beyond_float32_fail_before_any_teacher_fits(data3):
    X, y = data3
    X = X.copy()
    X[0, 0] = 1e39  # finite in float64, infinite in the student's float32
    CountingTeacher.n_fits = 0
    with pytest.raises(ValueError, match="beyond float32's range"):
        fast_classifier(teachers=[("count", CountingTeacher())]).fit(X, y)
    assert CountingTeacher.n_fits == 0
    X[0, 0] = 1e19  # within range, but its cube is not in float32
    clf = fast_classifier(teachers=[("count", CountingTeacher())]).fit(X, y)
    assert np.isfinite(list(clf.meta_features_.values())).all()


def test_optimizer_and_criterion_partials_train(data3):
    import functools

    from skhpmkd.losses import DistillationLoss
    X, y = data3
    student = make_student(max_epochs=2,
                           optimizer=functools.partial(torch.optim.SGD, momentum=0.9),
                           criterion=functools.partial(DistillationLoss))
    assert fast_classifier(student=student, memory=None).fit(X, y).score(X, y) > 0


def test_a_teacher_class_instead_of_an_instance_is_named(data3):
    X, y = data3
    with pytest.raises(TypeError, match="'lr' is the class LogisticRegression"):
        fast_classifier(teachers=[("lr", LogisticRegression)]).fit(X, y)


def test_a_chain_of_numpy_ints_is_planned(data3):
    X, y = data3
    clf = fast_classifier(chain=[np.int64(32)], memory=None).fit(X, y)
    assert (32, 32) in [step["hidden_units"] for step in clf.chain_]


def test_a_teacher_named_like_a_parameter_is_named_after_set_params(data3):
    X, y = data3
    clf = fast_classifier(teachers=[("alpha", LogisticRegression())])
    clf.set_params(alpha=0.3)  # routed to the teacher of that name, as in sklearn
    with pytest.raises(ValueError, match=r"\['alpha'\] are also parameters"):
        clf.fit(X, y)


def test_a_stacking_teacher_without_final_estimator_gets_a_hint(data3):
    X, y = data3
    stacking = StackingClassifier([("lr", LogisticRegression())])
    with pytest.raises(TypeError, match="final_estimator that has predict_proba"):
        fast_classifier(teachers=[("stack", stacking)]).fit(X, y)
    stacking.set_params(final_estimator=LogisticRegression())
    assert fast_classifier(teachers=[("stack", stacking)],
                           memory=None).fit(X, y).score(X, y) > 0.7


def test_prefit_teachers_that_disagree_on_classes(data3):
    X, y = data3
    two_classes = LogisticRegression().fit(X, np.minimum(y, 1))
    three_classes = LogisticRegression().fit(X, y)
    clf = fast_classifier(teachers=[("three", three_classes), ("two", two_classes)],
                          teacher_cv="prefit")
    with pytest.raises(ValueError, match="'two' was fitted on classes"):
        clf.fit(X, y)


def _named(X):
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


def test_prefit_teachers_fitted_on_named_columns_get_them(data3):
    """A prefit pipeline that selects columns by name works, and one fitted on a
    DataFrame is not warned about feature names on every prediction."""
    X, y = data3
    frame = _named(X)
    by_name = make_pipeline(
        ColumnTransformer([("scaled", StandardScaler(), ["x0", "x3"])],
                          remainder="passthrough"),
        LogisticRegression(max_iter=500)).fit(frame, y)
    scaled = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        frame, y)
    clf = fast_classifier(teachers=[("by_name", by_name), ("scaled", scaled)],
                          teacher_cv="prefit", memory=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.fit(frame, y)
        weights = clf.teacher_weights(frame)
    assert weights.shape == (len(X), 2)
    assert clf.score(frame, y) > 0.7


def test_prefit_teachers_survive_clone_in_a_grid_search(data3):
    X, y = data3
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    clf = fast_classifier(teachers=[("lr", teacher)], teacher_cv="prefit", memory=None)
    assert clone(clf).teachers[0][1] is teacher
    assert clone(clf.set_params(teacher_cv=3)).teachers[0][1] is not teacher
    search = GridSearchCV(clf.set_params(teacher_cv="prefit"), {"alpha": [0.1, 0.9]},
                          cv=3, error_score="raise").fit(X, y)
    assert search.best_estimator_.teachers_[0] is teacher
    assert teacher.coef_.shape == (3, X.shape[1])  # still the fitted one


def test_teachers_fitted_here_get_the_column_names_of_X(data3):
    X, y = data3
    by_name = make_pipeline(ColumnTransformer([("num", StandardScaler(), ["x0", "x1"])]),
                            LogisticRegression(max_iter=500))
    for teacher_cv in (3, "in_sample"):
        clf = fast_classifier(teachers=[("cols", by_name)], teacher_cv=teacher_cv,
                              memory=None).fit(_named(X), y)
        assert list(clf.teachers_[0].feature_names_in_) == list(_named(X).columns)
        assert clf.score(_named(X), y) > 0.5


def test_set_params_refuses_a_prefit_teachers_parameters(data3):
    X, y = data3
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    clf = fast_classifier(teachers=[("lr", teacher)], teacher_cv="prefit")
    with pytest.raises(ValueError, match=r"\['lr'\] are prefit"):
        clf.set_params(lr__C=0.01)
    with pytest.raises(ValueError, match="are prefit"):
        GridSearchCV(clf, {"lr__C": [0.01, 1.0]}, cv=2, error_score="raise").fit(X, y)
    assert teacher.C == 1.0  # the user's model is untouched
    clf.set_params(teacher_cv=3, lr__C=0.5)  # refitted teachers take parameters
    assert clf.teachers[0][1].C == 0.5
    malformed = fast_classifier(teachers=[teacher], teacher_cv="prefit")
    with pytest.raises(ValueError, match=r"each teacher must be a \(name, estimator\)"):
        malformed.set_params(lr__C=0.01)


def test_prefit_teacher_column_names_must_match_X(data3):
    X, y = data3
    teacher = LogisticRegression(max_iter=500).fit(_named(X), y)
    CountingTeacher.n_fits = 0
    reordered = _named(X)[[f"x{i}" for i in reversed(range(X.shape[1]))]]
    clf = fast_classifier(teachers=[("lr", teacher), ("count", CountingTeacher())],
                          teacher_cv="prefit")
    with pytest.raises(ValueError, match=r"'lr' was fitted on the columns \['x0'"):
        clf.fit(reordered, y)
    with pytest.warns(UserWarning, match="'lr' was fitted on named columns"):
        fast_classifier(teachers=[("lr", teacher)], teacher_cv="prefit",
                        memory=None).fit(X, y)


def test_unfitted_teacher_with_prefit_is_rejected(data3):
    X, y = data3
    clf = fast_classifier(teachers=[("lr", LogisticRegression())], teacher_cv="prefit")
    with pytest.raises(ValueError, match="'lr' is not fitted"):
        clf.fit(X, y)


def test_student_of_wrong_type_is_rejected(data3):
    X, y = data3
    with pytest.raises(TypeError, match="make_student"):
        fast_classifier(student=make_student_like_net()).fit(X, y)
    with pytest.raises(ValueError, match="'student' parameter"):
        fast_classifier(student=LogisticRegression()).fit(X, y)


def test_invalid_parameters_are_rejected(data3):
    X, y = data3
    for bad in ({"temperature": 0}, {"alpha": 1.5}, {"teacher_cv": "sometimes"},
                {"weight_averaging": 1.0}, {"lr_schedule": "cosine"},
                {"early_stopping_on": "accuracy"}, {"n_jobs": 0}):
        with pytest.raises(ValueError, match=list(bad)[0]):
            fast_classifier(**bad).fit(X, y)


def test_temperature_params_go_to_the_schedules_that_take_them(data3):
    """With the schedule left to the configuration manager, parameters of one schedule
    do not break the others it tries."""
    X, y = data3
    clf = fast_classifier(config="auto", search_budget=3, memory=None,
                          temperature_params={"final": 0.5, "patience": 2})
    clf.fit(X, y)
    assert {record["config"]["temperature_schedule"]
            for record in clf.config_search_} >= {"constant"}
    annealed = fast_classifier(config={"temperature_schedule": "annealed"},
                               early_stopping=False,
                               temperature_params={"final": 0.5, "epochs": 3,
                                                   "patience": 2}).fit(X, y)
    assert annealed.student_.history[-1, "temperature"] == pytest.approx(0.5)


def test_user_objects_are_not_modified(data3):
    X, y = data3
    X_before, y_before = X.copy(), y.copy()
    teachers = fast_teachers()
    template = make_student(max_epochs=2)
    fast_classifier(teachers=teachers, student=template).fit(X, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert not hasattr(teachers[0][1], "tree_")
    assert not hasattr(template, "module_")


# -- configuration --------------------------------------------------------------------


def test_default_config_uses_the_static_values(data3):
    X, y = data3
    clf = fast_classifier(config="default", memory=None).fit(X, y)
    assert clf.config_ == {"temperature": 4.0, "alpha": 0.5, "numeric_embedding": "ple",
                           "temperature_schedule": "constant", "ensemble": "mean",
                           "augment": "off", "lr": 1e-2, "width": 1.0}
    assert clf.config_source_ == "default" and clf.config_search_ == []


def test_a_config_dict_sets_every_searched_component(data3):
    X, y = data3
    config = {"temperature": 2.0, "temperature_schedule": "annealed",
              "ensemble": "best", "augment": 1.0, "lr": 5e-3, "width": 0.5}
    clf = HPMKDClassifier(teachers=fast_teachers(), teacher_cv=3, config=config,
                          memory=None, random_state=0,
                          student=None).set_params(student__max_epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the template's rate is the default: no clash
        clf.fit(X, y)
    assert clf.config_source_ == "config" and clf.config_search_ == []
    assert clf.config_["lr"] == 5e-3
    plain = HPMKDClassifier(teachers=fast_teachers(), teacher_cv=3, config=config,
                            min_compression=None, memory=None, random_state=0)
    plain.fit(X[:60], y[:60])
    assert {key: plain.config_[key] for key in config} == config
    assert plain.student_.optimizer_.param_groups[0]["lr"] == 5e-3
    assert plain.teacher_weighting_.method_ == "best"
    assert plain.n_synthetic_ == 54  # augment=1.0: one per training row (60 - 6 held out)
    assert list(plain.student_.history[:, "temperature"])[0] == pytest.approx(2.0)
    full = HPMKDClassifier(teachers=fast_teachers(), teacher_cv=3, memory=None,
                           min_compression=None, config=dict(config, width=1.0),
                           random_state=0)
    full.fit(X[:60], y[:60])
    assert plain.chain_[-1]["hidden_units"] == tuple(
        units // 2 for units in full.chain_[-1]["hidden_units"])


def test_a_refit_that_raises_leaves_the_fitted_model_as_it_was(data3):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data3
    clf = fast_classifier(teachers=[("knn", KNeighborsClassifier())], memory=None)
    clf.fit(X, np.array(["a", "b", "c"])[y])
    before, proba = dict(clf.__dict__), clf.predict_proba(X)
    with pytest.raises(ValueError, match="does not take sample_weight"):
        # found after classes_ and n_features_in_ are set: the teacher takes no weights
        clf.fit(X[:, :4], np.array(["x", "y", "z"])[y],
                sample_weight=np.linspace(1, 2, len(y)))
    assert clf.__dict__.keys() == before.keys()
    assert all(clf.__dict__[name] is value for name, value in before.items())
    assert list(clf.classes_) == ["a", "b", "c"] and clf.n_features_in_ == 6
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("search_labels", ["shared", "held_out"])
def test_the_users_folds_serve_the_reruns_of_the_teacher_stage(search_labels):
    # 150 rows: the augment trial reruns the teachers on folds of the rows, as the
    # held-out search labels do on the training rows; a list of folds of all 150
    # rows must be restricted to them (it had failed "exactly one test fold")
    X, y = make_classification(150, 6, random_state=0)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    clf = fast_classifier(teacher_cv=folds, config="auto", search_budget=2,
                          augment=None, search_labels=search_labels).fit(X, y)
    assert clf.augment_trial_["folds"] > 0
    assert clf.search_labels_ == search_labels


def test_a_student_parameter_set_alone_leaves_the_rest_to_the_manager():
    # set_params(student__*) creates the default template: its default rate and
    # size stay the configuration manager's to choose, as without the template
    plain = HPMKDClassifier(temperature=2.0)
    tuned = HPMKDClassifier(temperature=2.0).set_params(student__max_epochs=50)
    assert tuned._fixed_config(tuned.student) == plain._fixed_config(make_student())
    assert "lr" not in clone(tuned)._fixed_config(clone(tuned).student)
    # a rate given is kept, the default's value included (a grid cell of student__lr)
    for given in (HPMKDClassifier(student=make_student(lr=3e-3)),
                  clone(tuned).set_params(student__lr=3e-3)):
        assert given._fixed_config(given.student)["lr"] == 3e-3
    assert "lr" not in tuned._fixed_config(tuned.student)
    assert tuned.set_params(student__lr=1e-2)._fixed_config(tuned.student)["lr"] == 1e-2


def test_a_config_dict_value_that_a_parameter_overrides_is_named(data3):
    X, y = data3
    clf = fast_classifier(temperature=2.0, config={"temperature": 8.0, "alpha": 0.9,
                                                   "lr": 5e-3, "width": 2.0})
    with pytest.warns(UserWarning) as caught:
        clf.fit(X, y)
    messages = [str(w.message) for w in caught if "config sets" in str(w.message)]
    # the warning points at the line that called fit
    assert {w.filename for w in caught if "config sets" in str(w.message)} == {__file__}
    # the template's rate is 1e-2, its size its own (module__hidden_units)
    assert messages == [
        "config sets temperature=8.0 (2.0 is used), lr=0.005 (0.01 is used), "
        "width=2.0 (1.0 is used): the classifier's own parameters "
        "and a student template's learning rate and size win over a config dict. "
        "Remove those keys from config, or leave the parameters that override them "
        "unset."]
    assert clf.config_["temperature"] == 2.0 and clf.config_["alpha"] == 0.9
    assert clf.config_["lr"] == 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast_classifier(config={"temperature": 2.0}, temperature=2.0).fit(X, y)


def test_a_config_dict_with_unknown_keys_or_bad_values_fails_before_fitting(data3):
    X, y = data3
    CountingTeacher.n_fits = 0
    with pytest.raises(ValueError, match="unknown keys"):
        fast_classifier(teachers=[("c", CountingTeacher())],
                        config={"temprature": 2.0}).fit(X, y)
    for bad in ({"ensemble": "median"}, {"lr": 0.0}, {"width": -1.0},
                {"augment": "more"}, {"alpha": 1.5}):
        with pytest.raises(ValueError, match=f"'{next(iter(bad))}' parameter of config"):
            fast_classifier(teachers=[("c", CountingTeacher())], config=bad).fit(X, y)
    assert CountingTeacher.n_fits == 0


def test_auto_config_searches_the_prior_candidates(data3):
    from skhpmkd.config import PORTFOLIO, STATIC_DEFAULTS

    X, y = data3
    clf = fast_classifier(config="auto", search_budget=3, memory=None).fit(X, y)
    assert clf.config_source_ == "search"
    searched = [record["config"] for record in clf.config_search_]
    assert len(clf.config_search_) == 3 + 1 and clf.config_ == searched[-1]
    # The test student fixes lr and width; augment is set by fast_classifier.
    fixed = {"lr": 1e-2, "width": 1.0, "augment": "off"}
    assert all(config in [dict(c, **fixed) for c in PORTFOLIO] for config in searched)
    # the favourite, the search's null hypothesis:
    assert searched[0] == dict(STATIC_DEFAULTS, **fixed)
    final = clf.config_search_[-1]
    assert final["valid_loss"] == pytest.approx(clf.chain_[0]["valid_loss"])
    assert clf.student_.criterion_.temperature == clf.config_["temperature"]
    assert clf.student_.criterion_.alpha == clf.config_["alpha"]


def test_a_lone_teacher_gets_no_weighting_candidates(data3, monkeypatch):
    """With one teacher every weighting gives it weight one, so candidates that differ
    only in ``ensemble`` would train the same student: the search tries other ones."""
    from skhpmkd.config import STATIC_DEFAULTS, Prior

    weighted = [dict(STATIC_DEFAULTS, ensemble=e) for e in ("attention", "best")]
    portfolio = weighted + [dict(STATIC_DEFAULTS, temperature=t) for t in (1.0, 2.0)]
    prior = Prior.from_losses(portfolio, ["log_rows"], np.array([[2.0]]),
                              np.array([[0.1, 0.2, 0.3, 0.4]]), k=1)
    monkeypatch.setattr("skhpmkd.classifier.load_prior", lambda: prior)
    X, y = data3
    lone = fast_classifier(teachers=[("lr", LogisticRegression())], config="auto",
                           search_budget=3, memory=None).fit(X, y)
    tried = [(r["config"]["ensemble"], r["config"]["temperature"])
             for r in lone.config_search_ if r["rung"] == 0]
    assert tried == [("mean", 4.0), ("mean", 1.0), ("mean", 2.0)]
    # with several teachers the weightings are real candidates
    several = fast_classifier(config="auto", search_budget=3, memory=None).fit(X, y)
    assert [r["config"]["ensemble"] for r in several.config_search_
            if r["rung"] == 0] == ["mean", "attention", "best"]
    # a weighting the user sets is kept
    chosen = fast_classifier(teachers=[("lr", LogisticRegression())], config="auto",
                             ensemble="best", search_budget=3, memory=None).fit(X, y)
    assert {r["config"]["ensemble"] for r in chosen.config_search_} == {"best"}


def test_values_set_by_the_user_win_over_proposals(data3):
    X, y = data3
    clf = fast_classifier(config="auto", search_budget=3, memory=None, temperature=3.0,
                          numeric_embedding="none").fit(X, y)
    assert all(r["config"]["temperature"] == 3.0 and
               r["config"]["numeric_embedding"] == "none" for r in clf.config_search_)
    assert isinstance(clf.student_.module_.encoding, StandardisedColumns)
    everything = fast_classifier(config="auto", memory=None, temperature=3.0,
                                 alpha=0.2, numeric_embedding="ple",
                                 temperature_schedule="constant",
                                 ensemble="mean").fit(X, y)
    assert everything.config_source_ == "default" and everything.config_search_ == []


def test_no_search_without_budget_or_validation_rows(data3):
    X, y = data3
    prior = fast_classifier(config="auto", search_budget=0, memory=None).fit(X, y)
    assert prior.config_source_ == "prior" and prior.config_search_ == []
    no_valid = fast_classifier(config="auto", early_stopping=False, memory=None)
    assert no_valid.fit(X, y).config_source_ == "prior"


def test_warm_memory_reuses_the_search(data3, tmp_path):
    X, y = data3
    make = lambda seed=0: fast_classifier(config="auto", search_budget=3,
                                          memory=str(tmp_path / "m.sqlite"),
                                          random_state=seed)
    cold = make().fit(X, y)
    # another seed on the same data: not the same fit (nothing restored), but the
    # past search's choice is reused
    warm = make(seed=1).fit(X, y)
    assert cold.config_source_ == "search" and warm.config_source_ == "memory"
    assert warm.config_ == cold.config_ and warm.config_search_ == []
    assert not warm.restored_
    other_data = make().fit(X[:100], y[:100])
    assert other_data.config_source_ == "search"
    # values the user fixed were not searched: a fit that leaves them free searches
    forced = make(seed=2).set_params(alpha=0.95).fit(X[:90], y[:90])
    free = make(seed=3).fit(X[:90], y[:90])
    assert forced.config_source_ == free.config_source_ == "search"
    assert make(seed=4).set_params(alpha=0.95).fit(
        X[:90], y[:90]).config_source_ == "memory"


def test_search_runs_in_parallel_workers(data3):
    X, y = data3
    serial = fast_classifier(config="auto", search_budget=3, memory=None).fit(X, y)
    parallel = fast_classifier(config="auto", search_budget=3, memory=None,
                               n_jobs=2).fit(X, y)
    assert [r["config"] for r in parallel.config_search_] == [
        r["config"] for r in serial.config_search_]
    assert parallel.config_ == serial.config_
    assert abs(parallel.score(X, y) - serial.score(X, y)) <= 0.02


def test_the_search_trains_each_candidate_on_its_own_transfer_set(data3):
    from skhpmkd.config import STATIC_DEFAULTS

    X, y = data3
    base = dict(STATIC_DEFAULTS, lr=1e-2, width=1.0)
    other = dict(base, ensemble="best", augment=1.0)
    proposals = [(base, "default"), (other, "prior")]
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals):
        clf = fast_classifier(config="auto", augment=None, memory=None).fit(X, y)
    assert [r["config"] for r in clf.config_search_[:2]] == [base, other]
    chosen_other = clf.config_ == other
    assert clf.teacher_weighting_.method == ("best" if chosen_other else "mean")
    assert (clf.n_synthetic_ > 0) == chosen_other
    with patch("skhpmkd.classifier.propose_candidates", return_value=proposals[::-1]):
        flipped = fast_classifier(config="auto", augment=None, memory=None).fit(X, y)
    assert flipped.config_search_[0]["config"] == other
    assert (flipped.n_synthetic_ > 0) == (flipped.config_ == other)


def test_the_search_judges_small_data_on_pooled_folds(data3):
    X, y = data3
    folds = [r["folds"] for r in fast_classifier(
        config="auto", search_budget=3, memory=None,
        search_folds="auto").fit(X, y).config_search_]
    assert folds == [10, 10, 10, 1]  # 12 validation rows: as many folds as allowed
    three = fast_classifier(config="auto", search_budget=3, memory=None, search_folds=3)
    assert [r["folds"] for r in three.fit(X, y).config_search_] == [3, 3, 3, 1]
    default = fast_classifier(config="auto", search_budget=3, memory=None)
    assert [r["folds"] for r in default.fit(X, y).config_search_] == [1, 1, 1, 1]


def test_the_search_can_warm_start_its_last_rung(data3):
    X, y = data3
    # "auto" (the default) does not: the short rung trained on all 108 rows
    cold, warm = (fast_classifier(config="auto", search_budget=3, memory=None,
                                  search_warm_start=warm_start).fit(X, y)
                  for warm_start in ("auto", True))
    assert [r["warm_start"] for r in warm.config_search_] == [False] * 3 + [True]
    assert not any(r["warm_start"] for r in cold.config_search_)
    assert warm.config_ == cold.config_
    # the last rung starts from the short rung's trained network, not afresh
    assert (warm.student_.history[0, "valid_loss"]
            < cold.student_.history[0, "valid_loss"])


def test_a_lone_student_goes_on_from_a_short_training_on_large_data(data3, monkeypatch):
    """Without a search, a student on more rows than the search's second rung takes
    first trains briefly on a sample of them (here 60 rows for 5 epochs, as if the
    data were large), then on all rows from that network."""
    from skhpmkd import classifier

    X, y = data3
    monkeypatch.setattr(classifier, "pretraining_rung", lambda n_rows, epochs: (5, 60))
    calls = []
    real_call = classifier.StudentTrainer.__call__

    def spy(self, config, *args, **kwargs):
        calls.append((kwargs.get("max_rows"), kwargs.get("max_epochs"),
                      kwargs.get("init") is not None))
        return real_call(self, config, *args, **kwargs)

    monkeypatch.setattr(classifier.StudentTrainer, "__call__", spy)
    warm = fast_classifier().fit(X, y)
    assert calls == [(60, 5, False), (None, None, True)]
    calls.clear()
    cold = fast_classifier(search_warm_start=False).fit(X, y)
    assert calls == [(None, None, False)]
    assert (warm.student_.history[0, "valid_loss"]
            < cold.student_.history[0, "valid_loss"])


@pytest.mark.parametrize("scoring, stop_rows, ranking_rows", [
    ("shared", [12, 12, 12, 12], [12] * 3), ("split", [6, 6, 6, 12], [6] * 6)])
def test_split_scoring_ranks_on_rows_early_stopping_did_not_watch(
        data3, scoring, stop_rows, ranking_rows):
    from skhpmkd import training

    X, y = data3
    stopped_on, ranked_on = [], []
    real_fit_student = training.fit_student
    real_row_losses = training.StudentTrainer.valid_row_losses

    def fit_student(*args, valid=None, **kwargs):
        stopped_on.append(len(valid[0]))
        return real_fit_student(*args, valid=valid, **kwargs)

    def row_losses(self, net):
        losses = real_row_losses(self, net)
        ranked_on.append(len(losses))
        return losses

    clf = fast_classifier(config="auto", search_budget=3, memory=None,
                          search_scoring=scoring)
    with patch("skhpmkd.training.fit_student", fit_student), patch.object(
            training.StudentTrainer, "valid_row_losses", row_losses):
        records = clf.fit(X, y).config_search_
    # 12 validation rows; the last rung stops on them all and is not ranked. The
    # paired noise guard scores each short-rung training; with "split" its loss too;
    # then validation_scores_ scores the shipped student on all 12.
    assert stopped_on == stop_rows
    assert ranked_on == ranking_rows + [12]
    assert len(records) == 4


def test_cross_validated_search_runs_in_parallel_workers(data3):
    X, y = data3
    make = lambda n_jobs: fast_classifier(config="auto", search_budget=3, memory=None,
                                          search_folds=3, n_jobs=n_jobs)
    serial, parallel = make(None).fit(X, y), make(2).fit(X, y)
    assert [r["folds"] for r in parallel.config_search_] == [3, 3, 3, 1]
    assert parallel.config_ == serial.config_
    assert [r["valid_loss"] for r in parallel.config_search_] == pytest.approx(
        [r["valid_loss"] for r in serial.config_search_], rel=1e-4)


def test_a_wider_config_is_narrowed_to_the_size_budget(data3):
    # the twin of test_min_compression_budget_narrows_the_default_student for a
    # config width: the width scales the default size first, then the budget applies
    X, y = data3

    def fit(width, min_compression):
        return fast_classifier(student=make_student(max_epochs=2),
                               config={"width": width},
                               min_compression=min_compression).fit(X, y)

    base, wide = fit(1.0, None), fit(4.0, None)
    assert wide.chain_[-1]["hidden_units"] == tuple(
        4 * units for units in base.chain_[-1]["hidden_units"])
    budget = 2 * wide.compression_ratio_
    capped = fit(4.0, budget)
    assert capped.compression_ratio_ >= budget
    assert max(capped.chain_[-1]["hidden_units"]) < max(wide.chain_[-1]["hidden_units"])
