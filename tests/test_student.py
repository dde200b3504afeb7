"""Student: default sizes, devices, the lean predict path."""

import pickle
from unittest.mock import patch

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skhpmkd import HPMKDClassifier
from skhpmkd.student import (
    MAX_BINS,
    MAX_ENCODED_INPUTS,
    MAX_PERIODIC_OUTPUTS,
    MAX_WIDTH,
    MIN_BINS,
    MIN_ROWS_PER_BIN,
    MIN_WIDTH,
    PLATEAU_FACTOR,
    BatchedDataset,
    MLPModule,
    PeriodicEncoding,
    PiecewiseLinearEncoding,
    StandardisedColumns,
    WeightAveraging,
    binary_levels,
    collate_rows,
    default_hidden_units,
    fit_student,
    make_student,
    numeric_scaling,
    predict_proba_fast,
    quantile_bin_edges,
    resolve_device,
)


@pytest.mark.parametrize("n_features, n_classes, width", [
    (2, 2, MIN_WIDTH), (30, 2, 64), (50, 10, 128), (1000, 10, MAX_WIDTH)])
def test_default_hidden_units_scale_with_data_within_bounds(n_features, n_classes, width):
    assert default_hidden_units(n_features, n_classes) == (width, width)


def test_mlp_module_shapes():
    module = MLPModule(n_features=5, n_classes=4, hidden_units=(7, 3))
    assert module(torch.zeros(2, 5)).shape == (2, 4)
    assert MLPModule(5, 4, hidden_units=())(torch.zeros(1, 5)).shape == (1, 4)


def test_resolve_device():
    with patch("torch.cuda.is_available", lambda: False):
        assert resolve_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
    with patch("torch.cuda.is_available", lambda: True):
        assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("tpu-ish")
    with pytest.raises(ValueError, match="holds no data"):
        resolve_device("meta")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_resolve_device_rejects_a_known_device_this_machine_lacks():
    with pytest.raises(ValueError, match="'mps' is not available here"):
        resolve_device("mps")
    no_third_gpu = RuntimeError("CUDA error: invalid device ordinal")
    with patch("torch.cuda.is_available", lambda: True), patch(
            "torch.empty", side_effect=no_third_gpu):
        with pytest.raises(ValueError, match="invalid device ordinal"):
            resolve_device("cuda:3")


def test_predict_proba_fast_batches_and_restores_mode():
    torch.manual_seed(0)
    module = MLPModule(4, 3, hidden_units=(8,), dropout=0.5)
    module.train()
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    whole = predict_proba_fast(module, X)
    batched = predict_proba_fast(module, X, batch_size=7)
    np.testing.assert_allclose(whole, batched, atol=1e-6)
    np.testing.assert_allclose(whole.sum(1), 1, atol=1e-6)
    assert module.training  # mode restored
    module.eval()
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), 1).numpy()
    np.testing.assert_allclose(whole, expected, atol=1e-6)


def test_quantile_bin_edges_skip_binary_columns_and_shrink_on_small_data():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=400), rng.integers(0, 2, 400), np.ones(400)])
    edges = quantile_bin_edges(X)
    assert edges[1] is None and edges[2] is None
    assert len(edges[0]) == MAX_BINS + 1 and np.all(np.diff(edges[0]) > 0)
    assert len(quantile_bin_edges(X[:40])[0]) == 40 // MIN_ROWS_PER_BIN + 1
    wide = rng.normal(size=(400, 64))  # 64 numeric columns share the input budget
    assert len(quantile_bin_edges(wide)[0]) == MAX_ENCODED_INPUTS // 64 + 1
    assert len(quantile_bin_edges(rng.normal(size=(400, 500)))[0]) == MIN_BINS + 1


def test_piecewise_linear_encoding_values():
    encoding = PiecewiseLinearEncoding([np.array([0.0, 1.0, 3.0]), None])
    X = torch.tensor([[0.5, 7.0], [2.0, 8.0], [-1.0, 9.0], [5.0, 1.0]])
    out = encoding(X)
    assert encoding.n_outputs == 3 and out.shape == (4, 3)
    # passthrough column first, then [bin 1, bin 2]
    torch.testing.assert_close(out, torch.tensor([[7.0, 0.5, 0.0],
                                                  [8.0, 1.0, 0.5],
                                                  [9.0, -1.0, 0.0],  # extrapolates left
                                                  [1.0, 1.0, 2.0]]))  # and right


def test_two_valued_columns_other_than_0_1_are_mapped_onto_0_1():
    X = np.column_stack([[0.0, 1.0, 1.0, 0.0], [1999.0, 2000.0, 2000.0, 1999.0],
                         [-0.04, 25.9, -0.04, -0.04], [1.0, 2.0, 3.0, 4.0]])
    edges, scaling = quantile_bin_edges(X), numeric_scaling(X)
    levels = binary_levels(X, edges)
    assert levels == binary_levels(X, scaling)
    assert levels == [None, (1999.0, 2000.0), (-0.04, 25.9), None]
    assert binary_levels(X[:, [0, 3]], [edges[0], edges[3]]) is None  # no parameter
    for encoding in (PiecewiseLinearEncoding(edges, levels),
                     PeriodicEncoding(scaling, binary_levels=levels),
                     StandardisedColumns(scaling, binary_levels=levels)):
        passed = encoding(torch.tensor(X, dtype=torch.float32))[:, :3]
        torch.testing.assert_close(passed, torch.tensor(
            [[0.0, 0, 0], [1, 1, 1], [1, 1, 0], [0, 0, 0]]), atol=1e-6, rtol=0)
    module = MLPModule(4, 2, hidden_units=(8,), bin_edges=edges, binary_levels=levels,
                       n_members=2)
    restored = pickle.loads(pickle.dumps(module))
    np.testing.assert_allclose(predict_proba_fast(restored, X.astype(np.float32)),
                               predict_proba_fast(module, X.astype(np.float32)))


def test_constant_columns_other_than_0_or_1_are_mapped_onto_0():
    X = np.column_stack([np.full(4, 5.0), np.zeros(4), np.ones(4), np.full(4, -1e6),
                         [1.0, 2.0, 3.0, 4.0]])
    levels = binary_levels(X, numeric_scaling(X))
    assert levels == [(5.0, 10.0), None, None, (-1e6, 0.0), None]
    for encoding in (StandardisedColumns(numeric_scaling(X), binary_levels=levels),
                     PiecewiseLinearEncoding(quantile_bin_edges(X), levels)):
        passed = encoding(torch.tensor(X, dtype=torch.float32))[:, :4]
        torch.testing.assert_close(passed, torch.tensor([[0.0, 0, 1, 0]] * 4))


def test_standardised_columns_make_the_module_independent_of_units():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), rng.exponential(size=50),
                         rng.integers(0, 2, size=50)]).astype(np.float64)
    in_units = X * np.array([1e3, 1e-3, 1.0]) + np.array([1e5, -7.0, 0.0])

    def proba(X):
        torch.manual_seed(0)
        module = MLPModule(3, 2, hidden_units=(8,), standard_scaling=numeric_scaling(X))
        assert isinstance(module.encoding, StandardisedColumns)
        return predict_proba_fast(module.eval(), X.astype(np.float32))

    np.testing.assert_allclose(proba(in_units), proba(X), atol=1e-4)
    encoded = StandardisedColumns(numeric_scaling(X))(torch.tensor(X,
                                                                   dtype=torch.float32))
    assert encoded.shape == (50, 3)  # the binary column first, passed through
    np.testing.assert_allclose(encoded[:, 0].numpy(), X[:, 2])
    np.testing.assert_allclose(encoded[:, 1:].mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(encoded[:, 1:].std(0, unbiased=False).numpy(), 1,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="not both bin_edges and standard_scaling"):
        MLPModule(3, 2, bin_edges=quantile_bin_edges(X),
                  standard_scaling=numeric_scaling(X))


def test_mlp_with_bin_edges_pickles_and_predicts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    module = MLPModule(3, 2, hidden_units=(8,), bin_edges=quantile_bin_edges(X))
    restored = pickle.loads(pickle.dumps(module))
    np.testing.assert_allclose(predict_proba_fast(restored, X),
                               predict_proba_fast(module, X))
    with pytest.raises(ValueError, match="bin_edges"):
        MLPModule(4, 2, bin_edges=quantile_bin_edges(X))


def test_numeric_scaling_standardises_numeric_columns_only():
    X = np.column_stack([[1.0, 2.0, 3.0, 6.0], [0, 1, 1, 0], [5.0] * 4])
    scaling = numeric_scaling(X)
    assert scaling[1] is None and scaling[2] is None
    assert scaling[0] == pytest.approx((3.0, np.std([1.0, 2.0, 3.0, 6.0])))


def test_periodic_encoding_shapes_passthrough_and_budget():
    torch.manual_seed(0)
    encoding = PeriodicEncoding([(1.0, 2.0), None, (0.0, 1.0)], n_frequencies=4)
    X = torch.tensor([[1.0, 7.0, 0.0], [3.0, 8.0, -2.0]])
    out = encoding(X)
    assert encoding.n_outputs == 1 + 2 * MAX_PERIODIC_OUTPUTS
    assert out.shape == (2, encoding.n_outputs)
    torch.testing.assert_close(out[:, 0], X[:, 1])  # binary column passes through
    assert torch.all(out[:, 1:] >= 0)  # ReLU outputs
    # standardised value 0 (column mean) gives cos = 1, sin = 0 at any frequency
    features = torch.cat([torch.ones(4), torch.zeros(4)])
    expected = torch.relu(features @ encoding.weight[0] + encoding.bias[0])
    torch.testing.assert_close(out[0, 1:1 + MAX_PERIODIC_OUTPUTS], expected)
    many = PeriodicEncoding([(0.0, 1.0)] * 64)  # many numeric columns: fewer outputs each
    assert many.n_outputs == 64 * (MAX_ENCODED_INPUTS // 64)


def test_mlp_with_periodic_encoding_learns_a_periodic_boundary():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(512, 1)).astype(np.float32)
    y = torch.as_tensor((np.sin(8 * X[:, 0]) > 0).astype(np.int64))  # 15 stripes
    X_tensor = torch.from_numpy(X)

    def train_accuracy(**encoding):
        torch.manual_seed(0)
        module = MLPModule(1, 2, hidden_units=(16,), dropout=0.0, **encoding)
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
        for _ in range(300):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(module(X_tensor), y).backward()
            optimizer.step()
        return float((module(X_tensor).argmax(1) == y).float().mean())

    assert train_accuracy(periodic_scaling=numeric_scaling(X)) > 0.95
    assert train_accuracy() < 0.8  # the plain MLP of the same width does not
    restored = pickle.loads(pickle.dumps(MLPModule(1, 2, (8,),
                                                   periodic_scaling=numeric_scaling(X))))
    assert isinstance(restored.encoding, PeriodicEncoding)
    with pytest.raises(ValueError, match="not both"):
        MLPModule(1, 2, bin_edges=quantile_bin_edges(X),
                  periodic_scaling=numeric_scaling(X))
    with pytest.raises(ValueError, match="periodic_scaling"):
        MLPModule(2, 2, periodic_scaling=numeric_scaling(X))


def test_widest_within_budget_halves_until_it_fits():
    from skhpmkd.sizes import pickled_nbytes
    from skhpmkd.student import widest_within_budget

    full = pickled_nbytes(MLPModule(50, 3, (256, 256)))
    assert widest_within_budget(50, 3, (256, 256), max_nbytes=full) == (256, 256)
    units = widest_within_budget(50, 3, (256, 256), max_nbytes=full / 4)
    assert units[0] < 256 and pickled_nbytes(MLPModule(50, 3, units)) <= full / 4
    assert widest_within_budget(50, 3, (256, 256), max_nbytes=1) == (8, 8)


def test_fit_student_on_read_only_rows_is_silent():
    """joblib hands workers read-only memory maps; torch's one-time "not writable"
    warning must not reach the user (a fresh process, since torch warns only once)."""
    import subprocess
    import sys

    script = """
import numpy as np
from skhpmkd.student import fit_student, make_student
rng = np.random.default_rng(0)
X = rng.normal(size=(32, 3)).astype(np.float32)
targets = {"label": rng.integers(0, 2, 32), "teacher_logits": np.zeros((32, 1, 2)),
           "teacher_weights": np.ones((32, 1))}
for array in [X, *targets.values()]:
    array.setflags(write=False)
fit_student(make_student(max_epochs=1), X, targets, temperature=2.0, alpha=0.5)
"""
    result = subprocess.run([sys.executable, "-W", "default", "-c", script],
                            capture_output=True, text=True, timeout=120, check=True)
    assert "not writable" not in result.stderr


def test_weight_averaging_is_the_moving_average_validated_and_kept():
    net = type("FakeNet", (), {})()
    net.module_ = torch.nn.Linear(1, 1, bias=False)
    weight = net.module_.weight
    averaging = WeightAveraging(decay=0.5)
    with torch.no_grad():
        weight.fill_(0.0)
    averaging.on_train_begin(net)
    expected = 0.0
    for n, value in enumerate([4.0, 8.0, 2.0], start=1):
        with torch.no_grad():
            weight.fill_(value)
        averaging.on_batch_end(net, training=True)
        decay = min(0.5, (1 + n) / (10 + n))
        expected = decay * expected + (1 - decay) * value
    averaging.on_batch_end(net, training=False)  # validation batches do not move it
    assert float(averaging.average_[0]) == pytest.approx(expected)
    averaging.on_batch_begin(net, training=False)  # validation sees the average
    assert float(weight.detach()) == pytest.approx(expected)
    averaging.on_epoch_begin(net)  # training goes on from the raw weights
    assert float(weight.detach()) == 2.0
    averaging.on_train_end(net)  # no validation since: the average is kept
    assert float(weight.detach()) == pytest.approx(expected)


@pytest.mark.parametrize("weight_averaging", [0.0, 0.9])
def test_fit_student_keeps_the_weights_it_validated(weight_averaging):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 3)).astype(np.float32)
    labels = (X[:, 0] + 0.5 * rng.normal(size=96) > 0).astype(np.int64)
    targets = {"label": labels, "teacher_logits": np.zeros((96, 1, 2)),
               "teacher_weights": np.ones((96, 1))}
    valid = (X[64:], {key: value[64:] for key, value in targets.items()})
    train = (X[:64], {key: value[:64] for key, value in targets.items()})
    net, valid_loss = fit_student(
        make_student(max_epochs=15, lr=5e-2, batch_size=16), *train, valid=valid,
        temperature=2.0, alpha=0.5, patience=15, weight_averaging=weight_averaging)
    proba = predict_proba_fast(net.module_, X[64:])
    kept_loss = -np.mean(np.log(proba[np.arange(32), labels[64:]]))
    assert kept_loss == pytest.approx(valid_loss, rel=1e-4)
    if weight_averaging:
        raw, _ = fit_student(
            make_student(max_epochs=15, lr=5e-2, batch_size=16), *train, valid=valid,
            temperature=2.0, alpha=0.5, patience=15)
        assert not np.allclose(predict_proba_fast(raw.module_, X[64:]), proba)


def small_task(n=96, seed=0):
    """Rows, per-row distillation targets and a validation split of a toy task."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    labels = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(np.int64)
    targets = {"label": labels, "teacher_logits": rng.normal(size=(n, 2, 2)),
               "teacher_weights": np.full((n, 2), 0.5)}
    cut = 2 * n // 3
    return ((X[:cut], {key: value[:cut] for key, value in targets.items()}),
            (X[cut:], {key: value[cut:] for key, value in targets.items()}))


@pytest.mark.parametrize("with_y", [True, False])
def test_batched_dataset_gives_the_rows_skorch_would_collate(with_y):
    from skorch.dataset import Dataset
    from torch.utils.data import default_collate

    (X, targets), _ = small_task()
    y = targets if with_y else None
    rows = [5, 0, 17, 3]
    batch = collate_rows(BatchedDataset(X, y).__getitems__(rows))
    per_row = default_collate([Dataset(X, y)[i] for i in rows])
    torch.testing.assert_close(batch[0], per_row[0])
    if with_y:
        for key in targets:
            torch.testing.assert_close(batch[1][key], per_row[1][key])
    else:
        assert batch[1].shape == (len(rows),)


@pytest.mark.parametrize("with_validation", [True, False])
def test_plateau_schedule_lowers_the_rate_when_the_loss_stalls(with_validation):
    train, valid = small_task()
    template = make_student(max_epochs=40, lr=0.3, batch_size=16)  # too high: stalls
    fits = {schedule: fit_student(template, *train,
                                  valid=valid if with_validation else None,
                                  temperature=2.0, alpha=0.5, patience=6,
                                  lr_schedule=schedule)[0]
            for schedule in ("constant", "plateau")}
    drops = np.log(np.array(fits["plateau"].history[:, "event_lr"]) / 0.3) / np.log(
        PLATEAU_FACTOR)  # how many times the rate was multiplied by the factor
    np.testing.assert_allclose(drops, np.round(drops), atol=1e-6)
    assert drops[0] == pytest.approx(0) and drops[-1] >= 1
    assert np.all(np.diff(drops) >= -1e-6)
    assert "event_lr" not in fits["constant"].history[-1]
    assert "hpmkd_lr_plateau" not in dict(fits["plateau"].callbacks_)


def test_stopping_on_the_objective_keeps_its_best_epoch():
    train, valid = small_task()
    net, valid_loss = fit_student(
        make_student(max_epochs=25, lr=5e-2, batch_size=16), *train, valid=valid,
        temperature=2.0, alpha=0.5, patience=25, weight_averaging=0.9,
        stop_on="objective")
    objectives = np.array(net.history[:, "valid_objective"])
    best = int(np.argmin(objectives))
    assert valid_loss == pytest.approx(net.history[best, "valid_loss"])
    X_valid, targets = valid
    target = {key: torch.as_tensor(value) for key, value in targets.items()}
    with torch.no_grad():
        kept = net.criterion_(net.module_(torch.as_tensor(X_valid)), target["label"],
                              target["teacher_logits"], target["teacher_weights"])
    assert float(kept) == pytest.approx(objectives[best], rel=1e-4)
    plain, _ = fit_student(make_student(max_epochs=25, lr=5e-2, batch_size=16), *train,
                           valid=valid, temperature=2.0, alpha=0.5, patience=25,
                           weight_averaging=0.9)
    assert "valid_objective" not in plain.history[-1]


def test_fetching_whole_batches_trains_the_same_weights():
    from skorch.dataset import Dataset

    train, valid = small_task()
    fits = [fit_student(make_student(max_epochs=4, batch_size=16, **params), *train,
                        valid=valid, temperature=2.0, alpha=0.5, weight_averaging=0.9)
            for params in ({}, {"dataset": Dataset})]
    (batched, batched_loss), (per_row, per_row_loss) = fits
    assert batched_loss == per_row_loss
    for a, b in zip(batched.module_.parameters(), per_row.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fit_student_uses_the_multi_tensor_update_unless_told_otherwise():
    train, _ = small_task()
    net, _ = fit_student(make_student(max_epochs=1), *train, temperature=2.0, alpha=0.5)
    assert net.optimizer_.defaults["foreach"] is True
    net, _ = fit_student(make_student(max_epochs=1, optimizer__foreach=False), *train,
                         temperature=2.0, alpha=0.5)
    assert net.optimizer_.defaults["foreach"] is False
    # an optimizer without the option trains as it is
    net, _ = fit_student(make_student(max_epochs=1, optimizer=torch.optim.LBFGS,
                                      lr=0.1), *train, temperature=2.0, alpha=0.5)
    assert len(net.history) == 1


def test_distill_kl_is_recorded_with_any_criterion():
    from skhpmkd.losses import DistillationLoss

    class OwnLoss(torch.nn.Module):
        def __init__(self, temperature, alpha):
            super().__init__()
            self.temperature = temperature

        def forward(self, logits, labels, teacher_logits, teacher_weights):
            return torch.nn.functional.cross_entropy(logits, labels)

    train, _ = small_task()
    gaps = []
    for criterion in (DistillationLoss, OwnLoss):
        net, _ = fit_student(make_student(max_epochs=2, criterion=criterion), *train,
                             temperature=2.0, alpha=0.5)
        gaps.append(net.history[:, "batches", :, "distill_kl"])
    for gap in gaps:
        assert (np.all(np.isfinite(np.concatenate(gap)))
                and np.min(np.concatenate(gap)) >= 0)


def test_fit_student_goes_on_from_the_weights_it_is_given():
    """``init_state`` replaces the seeded initialisation; weights of another
    architecture are not loaded."""
    train, valid = small_task()

    def fit(init_state=None, lr=5e-2, units=(8,)):
        net = fit_student(make_student(max_epochs=3, batch_size=16), *train, valid=valid,
                          module_params={"hidden_units": units}, temperature=2.0,
                          alpha=0.5, lr=lr, seed=1, init_state=init_state)[0]
        return {name: value.clone() for name, value in net.module_.state_dict().items()}

    def same(state, other):
        return all(torch.equal(value, other[name]) for name, value in state.items())

    trained = fit()
    assert same(fit(trained, lr=0.0), trained)  # at lr 0 the given weights stay
    assert not same(fit(lr=0.0), trained)  # without them: the seeded start
    assert same(fit(fit(units=(4,))), trained)  # other shapes: the seeded start too


def test_student_params_are_parameters_only_and_clone_keeps_their_checks():
    student = make_student(max_epochs=3, module__dropout=0.2)
    assert "_params_to_validate" not in student.get_params(deep=False)
    assert "_params_to_validate" not in repr(HPMKDClassifier(student=student))
    copy = clone(student)
    assert copy._params_to_validate == student._params_to_validate
    assert copy.get_params(deep=False).keys() == student.get_params(deep=False).keys()
    # skorch still rejects an unknown prefixed parameter of the copy at initialize
    with pytest.raises(ValueError, match="optimiser__weight_decay"):
        clone(make_student(optimiser__weight_decay=True, module__n_features=3,
                           module__n_classes=2)).initialize()
