"""Teacher weighting: attention gate, mean and best rules, held-out fallback."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skhpmkd.ensemble import (
    ENSEMBLE_METHODS,
    TeacherWeighting,
    mixture_nll,
    teacher_features,
)


def regional_teachers(n, seed):
    """Teacher 0 is right where x0 < 0 and misleading elsewhere; teacher 1 the opposite.

    Three classes set by x1. A right teacher gives 0.7 to the true class; a misleading
    one gives 0.9 to a wrong class, so the plain average is wrong on every row.
    """
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = np.digitize(X[:, 1], [-1 / 3, 1 / 3])
    wrong = (y + 1) % 3
    rows = np.arange(n)

    def teacher(right):
        proba = np.full((n, 3), 0.05)
        proba[right] = 0.15
        proba[rows[right], y[right]] = 0.7
        proba[rows[~right], wrong[~right]] = 0.9
        return proba

    left = X[:, 0] < 0
    return X, np.stack([teacher(left), teacher(~left)], axis=1), y


def random_teachers(n=300, n_teachers=3, n_classes=4, seed=0):
    """Random features, labels and Dirichlet teacher probabilities."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = rng.randint(n_classes, size=n)
    proba = rng.dirichlet(np.ones(n_classes), size=(n, n_teachers))
    return X, proba, y


def label_proba(proba, y):
    return proba[np.arange(len(y)), :, y]


def test_attention_trusts_each_teacher_where_it_is_right():
    X, proba, y = regional_teachers(2000, seed=0)
    weighting = TeacherWeighting(random_state=0).fit(X, proba, y)
    assert weighting.method_ == "attention"
    nll = weighting.validation_nll_
    assert nll["attention"] < min(nll["mean"], nll["best"])

    X_new, proba_new, y_new = regional_teachers(2000, seed=1)
    weights = weighting.weights(X_new, proba_new)
    left = X_new[:, 0] < 0
    assert weights[left, 0].mean() > 0.7
    assert weights[~left, 0].mean() < 0.3

    uniform = np.full_like(weights, 0.5)
    p_y = label_proba(proba_new, y_new)
    assert mixture_nll(weights, p_y) < mixture_nll(uniform, p_y) - 0.3
    attention_mix = np.einsum("nk,nkc->nc", weights, proba_new)
    attention_accuracy = np.mean(attention_mix.argmax(axis=1) == y_new)
    average_accuracy = np.mean(proba_new.mean(axis=1).argmax(axis=1) == y_new)
    assert attention_accuracy > 0.95 and average_accuracy < 0.05


@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
def test_weights_are_distributions_over_teachers(method):
    X, proba, y = random_teachers()
    X[:, 2] = 1.0  # a constant column must not break the standardisation
    weighting = TeacherWeighting(method, random_state=0).fit(X, proba, y)
    weights = weighting.weights(X, proba)
    assert weights.shape == (300, 3) and weights.dtype == np.float32
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert weighting.mean_weights_.shape == (3,)
    assert set(weighting.validation_nll_) >= {"mean", "best"}


def test_mean_gives_uniform_weights():
    X, proba, y = random_teachers()
    weighting = TeacherWeighting("mean", random_state=0).fit(X, proba, y)
    assert weighting.method_ == "mean"
    np.testing.assert_allclose(weighting.weights(X, proba), 1 / 3)


def test_best_puts_all_weight_on_lowest_log_loss_teacher():
    X, proba, y = random_teachers(n_teachers=2, n_classes=2)
    sharp = np.zeros_like(proba[:, 0])
    sharp[np.arange(len(y)), y] = 0.8
    sharp[np.arange(len(y)), 1 - y] = 0.2
    proba[:, 1] = sharp
    proba[:5, 0] = np.eye(2)[1 - y[:5]]  # exact zeros on the true class: clipped
    weighting = TeacherWeighting("best", random_state=0).fit(X, proba, y)
    assert weighting.method_ == "best" and weighting.best_teacher_ == 1
    np.testing.assert_array_equal(weighting.weights(X, proba), [[0, 1]] * len(y))
    np.testing.assert_allclose(weighting.mean_weights_, [0, 1])


def test_exchangeable_teachers_fall_back_from_attention():
    X, proba, y = random_teachers(n=400)
    proba[:] = proba[:, :1]  # three identical copies of one teacher
    weighting = TeacherWeighting(random_state=0).fit(X, proba, y)
    assert weighting.method_ == "mean"
    assert weighting.gate_ is None
    nll = weighting.validation_nll_
    assert nll["attention"] == pytest.approx(nll["mean"], abs=1e-4)
    np.testing.assert_allclose(weighting.weights(X, proba), 1 / 3)


@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
def test_single_teacher_gets_weight_one(method):
    X, proba, y = random_teachers(n_teachers=1)
    weighting = TeacherWeighting(method, random_state=0).fit(X, proba, y)
    assert weighting.gate_ is None and weighting.n_epochs_ == 0
    np.testing.assert_array_equal(weighting.weights(X, proba), np.ones((300, 1)))


def test_too_few_rows_to_hold_out_falls_back_without_error():
    X, proba, y = random_teachers(n=5, n_classes=2)
    y[:] = [0, 0, 0, 0, 1]  # class 1 has one row: no stratified split
    weighting = TeacherWeighting(random_state=0).fit(X, proba, y)
    assert weighting.method_ in ("mean", "best")
    assert "attention" not in weighting.validation_nll_


def test_fixed_seed_is_deterministic_and_global_rngs_are_untouched():
    X, proba, y = regional_teachers(600, seed=0)
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    threads = torch.get_num_threads()
    first = TeacherWeighting(random_state=0).fit(X, proba, y)
    second = TeacherWeighting(random_state=0).fit(X, proba, y)
    TeacherWeighting(random_state=None, max_epochs=1).fit(X, proba, y)
    TeacherWeighting(random_state=np.random.RandomState(0), max_epochs=1).fit(
        X, proba, y)
    np.testing.assert_array_equal(first.weights(X, proba), second.weights(X, proba))
    assert first.validation_nll_ == second.validation_nll_
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(numpy_state, after))
    assert torch.equal(torch_state, torch.get_rng_state())
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("change, message", [
    (dict(method="median"), "attention"),
    (dict(proba=np.full((20, 3), 1 / 3)), "3-D"),
    (dict(proba=np.full((19, 2, 3), 1 / 3)), "rows"),
    (dict(y=np.zeros(19, dtype=int)), "1-D with 20"),
    (dict(y=np.full(20, 3)), "0 .. 2"),
    (dict(y=np.full(20, 0.5)), "integer"),
    (dict(X=np.zeros(20)), "2-D"),
    (dict(validation_fraction=1.0), "validation_fraction"),
])
def test_bad_input_raises_clear_errors(change, message):
    X, proba, y = random_teachers(n=20, n_teachers=2, n_classes=3)
    X, proba, y = change.get("X", X), change.get("proba", proba), change.get("y", y)
    params = {key: value for key, value in change.items()
              if key in ("method", "validation_fraction")}
    with pytest.raises(ValueError, match=message):
        TeacherWeighting(**params).fit(X, proba, y)


def test_weights_check_fit_and_shapes():
    X, proba, y = random_teachers(n=40)
    weighting = TeacherWeighting("mean")
    with pytest.raises(NotFittedError):
        weighting.weights(X, proba)
    weighting.fit(X, proba, y)
    with pytest.raises(ValueError, match="fitted on 5 features"):
        weighting.weights(X, proba[:, :2])
    with pytest.raises(ValueError, match="fitted on 5 features"):
        weighting.weights(X[:, :4], proba)


def test_teacher_features_by_hand():
    proba = np.array([
        [[0.8, 0.2], [0.4, 0.6]],  # average [0.6, 0.4] -> class 0
        [[0.0, 1.0], [0.5, 0.5]],  # average [0.25, 0.75] -> class 1; an exact 0
    ])
    entropy = -(0.8 * np.log(0.8) + 0.2 * np.log(0.2)) / np.log(2)
    entropy_b = -(0.4 * np.log(0.4) + 0.6 * np.log(0.6)) / np.log(2)
    expected = [
        # teacher 0: confidence, entropy, agreement | teacher 1: ...
        [0.8, entropy, 0.8, 0.6, entropy_b, 0.4],
        [1.0, 0.0, 1.0, 0.5, 1.0, 0.5],
    ]
    features = teacher_features(proba)
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, expected, atol=1e-6)


def test_teacher_features_shape_and_range():
    _, proba, _ = random_teachers(n=50, n_teachers=3, n_classes=5)
    features = teacher_features(proba)
    assert features.shape == (50, 9)
    assert np.all((features >= 0) & (features <= 1 + 1e-6))
    with pytest.raises(ValueError, match="n_teachers"):
        teacher_features(proba[:, 0])


def test_significance_guard_needs_more_than_noise():
    from skhpmkd.ensemble import significantly_lower

    rng = np.random.default_rng(0)
    reference = rng.exponential(size=150)
    noisy = reference + rng.normal(0, 0.5, size=150) - 0.01  # tiny gain, large noise
    assert not significantly_lower(noisy, reference)
    clear = reference - 0.2 + rng.normal(0, 0.05, size=150)
    assert significantly_lower(clear, reference)
    assert not significantly_lower(reference, reference)


@pytest.mark.parametrize("method", ["attention", "best", "mean"])
def test_a_weighting_comes_back_from_its_snapshot_as_json(method):
    """The memory stores a fitted weighting as JSON (arrays as text): it gives the
    same weights on new rows, its gate included, and leaves torch's RNG alone."""
    import json

    from skhpmkd.ensemble import restore_weighting, weighting_snapshot
    from skhpmkd.memory import decode_arrays, encode_arrays

    X, proba, y = regional_teachers(600, seed=0)
    fitted = TeacherWeighting(method, random_state=0).fit(X, proba, y)
    text = json.dumps(encode_arrays(weighting_snapshot(fitted)))
    rng_before = torch.random.get_rng_state()
    restored = restore_weighting(decode_arrays(json.loads(text)))
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert restored.method_ == fitted.method_ == method
    assert (restored.gate_ is None) == (method != "attention")
    X_new, proba_new, _ = regional_teachers(300, seed=1)
    np.testing.assert_array_equal(restored.weights(X_new, proba_new),
                                  fitted.weights(X_new, proba_new))
    np.testing.assert_array_equal(restored.mean_weights_, fitted.mean_weights_)
    assert restored.validation_nll_ == fitted.validation_nll_
    assert restored.get_params() == fitted.get_params()
