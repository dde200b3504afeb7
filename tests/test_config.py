"""Configuration manager: meta-features."""

import numpy as np
import pytest

from skhpmkd.config import meta_features


def test_meta_features_values():
    X = np.column_stack([np.arange(100.0), np.tile([0.0, 1.0], 50)])
    y = np.array([0] * 75 + [1] * 25)
    proba = np.zeros((100, 2, 2))
    proba[:, 0, :] = [0.9, 0.1]          # teacher 0 always says class 0
    proba[np.arange(100), 1, y] = 0.8    # teacher 1 is right with 0.8
    proba[np.arange(100), 1, 1 - y] = 0.2
    features = meta_features(X, y, proba, teacher_nbytes=1000, student_nbytes=10)
    assert features["log_rows"] == pytest.approx(2.0)
    assert features["imbalance"] == pytest.approx(3.0)
    assert features["binary_feature_share"] == pytest.approx(0.5)
    assert features["teacher_accuracy_mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert features["teacher_accuracy_max"] == pytest.approx(1.0)
    assert features["teacher_confidence"] == pytest.approx(0.85)
    assert features["teacher_disagreement"] == pytest.approx(0.25)
    assert features["log_size_ratio"] == pytest.approx(2.0)
    assert all(isinstance(value, float) for value in features.values())


def test_meta_features_weights_count_as_repetitions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array([0] * 45 + [1] * 15)
    proba = rng.dirichlet([1.0, 1.0], size=(60, 2))
    weights = rng.integers(0, 4, size=60).astype(float)
    weighted = meta_features(X, y, proba, sample_weight=weights)
    rows = np.repeat(np.arange(60), weights.astype(int))
    repeated = meta_features(X[rows], y[rows], proba[rows])
    for name in ("imbalance", "teacher_accuracy_mean", "teacher_accuracy_max",
                 "teacher_confidence", "teacher_disagreement"):
        assert weighted[name] == pytest.approx(repeated[name]), name
    # the columns and the row count stay those of the rows given
    plain = meta_features(X, y, proba)
    for name in ("log_rows", "log_skewness", "distinct_share"):
        assert weighted[name] == plain[name], name
    balanced = meta_features(X, y, proba, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert balanced["imbalance"] == pytest.approx(1.0)
    assert plain["imbalance"] == pytest.approx(3.0)


# -- the learned prior and the candidates -----------------------------------------------

from skhpmkd.config import (  # noqa: E402
    PORTFOLIO,
    PRIOR_FEATURES,
    STATIC_DEFAULTS,
    Prior,
    load_prior,
    propose_candidates,
    remembered_best,
)


def _two_task_prior():
    """Task 0 (small data) is best with config 0, task 1 (big data) with config 1."""
    portfolio = [dict(STATIC_DEFAULTS, temperature=1.0), dict(STATIC_DEFAULTS,
                                                              temperature=8.0)]
    features = np.array([[2.0, 1.0], [5.0, 1.0]])
    losses = np.array([[0.1, 0.5], [0.6, 0.2]])
    return Prior.from_losses(portfolio, ["log_rows", "log_features"], features, losses,
                             k=1)


def test_prior_ranks_by_the_nearest_task():
    prior = _two_task_prior()
    assert prior.rank({"log_rows": 2.2, "log_features": 1.0})[0]["temperature"] == 1.0
    assert prior.rank({"log_rows": 4.8, "log_features": 1.0})[0]["temperature"] == 8.0
    np.testing.assert_allclose(prior.regret, [[0, 1], [1, 0]])


def test_prior_round_trips_through_json_and_checks_its_version():
    import json

    prior = _two_task_prior()
    again = Prior.from_dict(json.loads(json.dumps(prior.to_dict())))
    assert again.rank({"log_rows": 5.0}) == prior.rank({"log_rows": 5.0})
    with pytest.raises(ValueError, match="format version"):
        Prior.from_dict(dict(prior.to_dict(), format_version=99))
    with pytest.raises(ValueError, match="do not match"):
        Prior.from_dict(dict(prior.to_dict(), regret=[[0.0], [1.0]]))


def test_packaged_prior_covers_the_portfolio():
    prior = load_prior()
    assert prior.portfolio == list(PORTFOLIO)
    assert prior.features == list(PRIOR_FEATURES)
    assert prior.regret.shape == (len(prior.task_features), len(PORTFOLIO))
    assert len(prior.task_features) >= 20 and 1 <= prior.k <= len(prior.task_features)
    ranked = prior.rank({name: 0.0 for name in PRIOR_FEATURES})
    assert sorted(map(str, ranked)) == sorted(map(str, PORTFOLIO))


def test_candidates_put_the_default_first_then_prior_memory_and_user_values_over_all():
    prior = _two_task_prior()
    run = {"config": dict(STATIC_DEFAULTS, temperature=2.0)}
    candidates = propose_candidates({"log_rows": 2.0}, {}, 10, prior=prior,
                                    nearest_runs=[run])
    assert [c["temperature"] for c, _ in candidates] == [4.0, 1.0, 2.0, 8.0]
    assert [source for _, source in candidates] == ["default", "prior", "memory",
                                                    "prior"]
    assert candidates[0][0] == STATIC_DEFAULTS
    # Without room for a search, the prior's first proposal is taken.
    (only, source), = propose_candidates({"log_rows": 2.0}, {}, 1, prior=prior)
    assert (only["temperature"], source) == (1.0, "prior")
    (only, source), = propose_candidates({"log_rows": 2.0}, {}, 1)
    assert (only, source) == (STATIC_DEFAULTS, "default")
    fixed = propose_candidates({"log_rows": 2.0}, {"temperature": 3.0}, 10,
                               prior=prior, nearest_runs=[run])
    assert [c for c, _ in fixed] == [dict(STATIC_DEFAULTS, temperature=3.0)]
    assert len(propose_candidates({}, {}, 0, prior=prior)) == 1


def test_spread_over_tries_every_value_of_the_covered_parameters_early():
    from skhpmkd.config import spread_over

    def config(t, a, e="ple"):
        return ({"temperature": t, "alpha": a, "numeric_embedding": e}, "prior")

    ranked = [config(1, 0.1), config(2, 0.1), config(2, 0.9), config(1, 0.1, "none"),
              config(8, 0.5)]
    spread = spread_over(ranked, ("alpha", "numeric_embedding"),
                         seen=[STATIC_DEFAULTS])
    assert [c for c, _ in spread] == [ranked[i][0] for i in (0, 2, 3, 1, 4)]
    assert spread_over(ranked, ()) == ranked


def test_candidates_cover_every_alpha_and_encoding_with_the_packaged_prior():
    candidates = propose_candidates({name: 0.0 for name in PRIOR_FEATURES}, {}, 6,
                                    prior=load_prior())
    assert {c["alpha"] for c, _ in candidates} == {0.1, 0.5, 0.9}
    assert {c["numeric_embedding"] for c, _ in candidates} == {"ple", "none", "periodic"}


def test_remembered_best_takes_the_lowest_loss_with_the_same_teachers():
    def run(temperature, loss, teachers=("A",), source="search", fixed=None):
        return {"config": dict(STATIC_DEFAULTS, temperature=temperature,
                               teachers=list(teachers), config_source=source,
                               fixed=fixed or {}),
                "scores": {"valid_log_loss": loss}}

    runs = [run(1.0, 0.5), run(2.0, 0.3), run(8.0, 0.1, teachers=("B",)),
            run(4.0, 0.2, source="default"), run(1.5, 0.05, fixed={"alpha": 0.95})]
    assert remembered_best(runs, ["A"])["temperature"] == 2.0
    assert remembered_best(runs, ["C"]) is None
    # a run that fixed a value is reused only by a fit that fixes it the same way
    assert remembered_best(runs, ["A"], {"alpha": 0.95})["temperature"] == 1.5
    assert remembered_best(runs, ["A"], {"alpha": 0.5})["temperature"] == 2.0
    unrecorded = dict(runs[1], config={k: v for k, v in runs[1]["config"].items()
                                       if k != "fixed"})
    assert remembered_best([unrecorded], ["A"]) is None


def test_portfolio_varies_every_searched_parameter():
    from skhpmkd.config import SEARCHED_PARAMS, config_key

    assert all(set(config) == set(SEARCHED_PARAMS) for config in PORTFOLIO)
    assert len({config_key(config) for config in PORTFOLIO}) == len(PORTFOLIO)
    for name in SEARCHED_PARAMS:
        assert len({str(config[name]) for config in PORTFOLIO}) >= 2, name
    assert STATIC_DEFAULTS in PORTFOLIO


def test_check_config_fills_in_the_defaults_and_rejects_unknown_names():
    from skhpmkd.config import check_config

    assert check_config({"lr": 0.01}) == dict(STATIC_DEFAULTS, lr=0.01)
    with pytest.raises(ValueError, match=r"unknown keys \['tempreature'\]"):
        check_config({"tempreature": 2.0})


def test_describe_config_names_only_what_differs_from_the_defaults():
    from skhpmkd.config import describe_config

    assert describe_config(STATIC_DEFAULTS) == "T=4 a=0.5 ple"
    assert describe_config(dict(STATIC_DEFAULTS, numeric_embedding="none", lr=0.01,
                                ensemble="attention")) == (
        "T=4 a=0.5 none ensemble=attention lr=0.01")


def test_candidates_that_would_train_the_same_student_count_once():
    wide = dict(STATIC_DEFAULTS, width=4.0)
    portfolio = [wide, dict(STATIC_DEFAULTS, temperature=1.0),
                 dict(STATIC_DEFAULTS, temperature=8.0)]
    prior = Prior.from_losses(portfolio, ["log_rows"], np.array([[2.0]]),
                              np.array([[0.1, 0.2, 0.3]]), k=1)
    without = propose_candidates({"log_rows": 2.0}, {}, 3, prior=prior)
    assert [c["width"] for c, _ in without] == [1.0, 4.0, 1.0]
    # a size budget narrows the wide student back to the default's units: the wide
    # candidate would train the default's student again, so the next one takes its slot
    same_units = propose_candidates({"log_rows": 2.0}, {}, 3, prior=prior,
                                    student_of=lambda config: ("ple", (64, 64), 0))
    assert [(c["width"], c["temperature"]) for c, _ in same_units] == [
        (1.0, 4.0), (1.0, 1.0), (1.0, 8.0)]
    distinct = propose_candidates(
        {"log_rows": 2.0}, {}, 3, prior=prior,
        student_of=lambda c: ("ple", (int(64 * c["width"]),) * 2, 0))
    assert [c for c, _ in distinct] == [c for c, _ in without]


def test_planned_student_follows_the_budget_the_columns_the_rows_and_the_module():
    import torch

    from skhpmkd.student import MLPModule, make_student, pickled_nbytes
    from skhpmkd.training import planned_student

    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    template = make_student()
    free = planned_student(template, X, np.arange(200), 3)
    encoding, default, synthetic = free(dict(STATIC_DEFAULTS))
    assert (encoding, synthetic) == ("ple", 0)
    wide = tuple(4 * u for u in default)
    assert free(dict(STATIC_DEFAULTS, width=4.0)) == ("ple", wide, 0)
    budget = pickled_nbytes(MLPModule(6, 3, default, bin_edges=None)) * 1.5
    bound = planned_student(template, X, np.arange(200), 3, budget)
    assert bound(dict(STATIC_DEFAULTS, numeric_embedding="none", width=4.0)) == (
        "none", default, 0)
    # no numeric column (every one binary): no encoding encodes anything
    binary = planned_student(template, (X > 0).astype(np.float32), np.arange(200), 3)
    assert {binary(dict(STATIC_DEFAULTS, numeric_embedding=e))
            for e in ("ple", "periodic", "none")} == {("none", default, 0)}
    # augmentation adds rows on small data, none on 20,000 rows
    assert free(dict(STATIC_DEFAULTS, augment="auto"))[2] > 0
    big = planned_student(template, np.repeat(X, 100, axis=0), np.arange(20000), 3)
    assert big(dict(STATIC_DEFAULTS, augment="auto"))[2] == 0
    own_units = planned_student(make_student(module__hidden_units=(16, 8)), X,
                                np.arange(200), 3, budget)
    assert own_units(dict(STATIC_DEFAULTS, width=4.0)) == ("ple", (16, 8), 0)
    # a module of the user's own takes no encoding and keeps its size
    own_module = planned_student(make_student(module=torch.nn.Linear), X,
                                 np.arange(200), 3)
    assert {own_module(dict(STATIC_DEFAULTS, numeric_embedding=e))
            for e in ("ple", "periodic", "none")} == {("none", None, 0)}
