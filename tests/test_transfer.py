"""Transfer sets: rows, synthetic rows, soft targets, weights, relabelling."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skhpmkd.augment import synthetic_rows
from skhpmkd.teachers import predict_teacher_proba, proba_to_logits
from skhpmkd.training import transfer_key
from skhpmkd.transfer import TransferData


def transfer_data(sample_weight=None, n=120):
    """Two teachers fitted on three-class data, their probabilities on every row."""
    X, y = make_classification(n_samples=n, n_features=5, n_informative=4,
                               n_redundant=0, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    fitted = [LogisticRegression().fit(X, y),
              DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)]
    codes = [np.arange(3), np.arange(3)]
    proba = predict_teacher_proba(fitted, X, codes, 3)
    return TransferData(X, proba, y, (fitted, codes), 3, seed=0,
                        sample_weight=sample_weight)


def config(ensemble="mean", augment="off"):
    return {"ensemble": ensemble, "augment": augment}


def test_transfer_sets_put_the_rows_first_then_teacher_labelled_synthetic_rows():
    data = transfer_data()
    rows = np.arange(0, 120, 2)
    configs = [config(), config(augment="auto"), config(augment="auto")]
    sets = data.transfer_sets(data.weightings(configs, rows, seed=0), configs, rows)
    assert set(sets) == {transfer_key(c) for c in configs}
    X_plain, plain = sets[transfer_key(configs[0])]
    np.testing.assert_array_equal(X_plain, data.X[rows])
    np.testing.assert_array_equal(plain["label"], data.y[rows])
    X_aug, augmented = sets[transfer_key(configs[1])]
    n_synthetic = synthetic_rows(len(rows), "auto")
    assert len(X_aug) == len(rows) + n_synthetic
    np.testing.assert_array_equal(X_aug[:len(rows)], data.X[rows])
    assert (augmented["label"][len(rows):] == -1).all()
    fitted, codes = data.teachers
    expected = proba_to_logits(predict_teacher_proba(fitted, X_aug[len(rows):],
                                                     codes, 3))
    np.testing.assert_array_equal(augmented["teacher_logits"][len(rows):], expected)
    np.testing.assert_allclose(augmented["teacher_weights"].sum(axis=1), 1, atol=1e-6)


def test_a_sample_of_the_rows_gets_its_share_of_synthetic_rows():
    data = transfer_data()
    rows = np.arange(30)
    configs = [config(augment="auto")]
    weightings = data.weightings(configs, rows, seed=0)
    (X_set, _), = data.transfer_sets(weightings, configs, rows, n_train=120).values()
    assert len(X_set) - len(rows) == round(synthetic_rows(120, "auto") * 30 / 120)


def test_weighted_rows_keep_their_weights_and_synthetic_rows_weigh_one():
    weights = np.linspace(0.5, 2.0, 120)
    data = transfer_data(sample_weight=weights)
    rows = np.arange(60)
    configs = [config(augment=1.0)]
    (_, targets), = data.transfer_sets(data.weightings(configs, rows, seed=0),
                                       configs, rows).values()
    row_weights = targets["sample_weight"]
    np.testing.assert_allclose(row_weights[:60], weights[:60] / weights[:60].mean(),
                               rtol=1e-6)
    np.testing.assert_array_equal(row_weights[60:], 1.0)


def test_valid_set_holds_the_rows_and_their_labels():
    data = transfer_data()
    weighting = data.weightings([config("attention")], slice(None), seed=0)["attention"]
    rows = np.array([3, 1, 4, 1, 5])
    X_valid, targets = data.valid_set(weighting, rows)
    np.testing.assert_array_equal(X_valid, data.X[rows])
    np.testing.assert_array_equal(targets["label"], data.y[rows])
    assert data.valid_set(weighting, None) is None


def test_weightings_fit_one_weighting_per_method():
    data = transfer_data()
    weightings = data.weightings([config("mean"), config("attention"), config("mean")],
                                 slice(None), seed=0)
    assert sorted(weightings) == ["attention", "mean"]
    assert all(w.method == method and hasattr(w, "method_")
               for method, w in weightings.items())


def test_relabelled_data_takes_the_other_teachers_probabilities():
    """Relabelled, the rows carry the new probabilities and the new teachers label
    the synthetic rows (uniform teachers: every soft target is flat); the original
    data keep their own."""
    data = transfer_data()
    uniform = [DummyClassifier(strategy="uniform").fit(data.X, data.y)
               for _ in range(2)]
    relabelled = data.relabelled(np.full_like(data.proba, 1 / 3),
                                 (uniform, data.teachers[1]))
    assert relabelled.X is data.X
    configs = [config(augment=1.0)]
    rows = np.arange(10)
    for source, flat in ((relabelled, True), (data, False)):
        (_, targets), = source.transfer_sets(source.weightings(configs, rows, seed=0),
                                             configs, rows).values()
        assert len(targets["label"]) == 20  # 10 rows and 10 synthetic rows
        assert np.allclose(targets["teacher_logits"], 0.0, atol=1e-6) == flat


def test_synthetic_rows_go_to_the_teachers_in_chunks_with_the_same_labels(monkeypatch):
    import skhpmkd.transfer as transfer

    data = transfer_data()
    rows = np.arange(0, 120, 2)
    configs = [config(augment="auto")]
    whole = data.transfer_sets(data.weightings(configs, rows, seed=0), configs, rows)
    n_synthetic = len(whole[transfer_key(configs[0])][0]) - len(rows)
    seen = []
    labelled = transfer.predict_teacher_proba
    monkeypatch.setattr(transfer, "LABEL_CHUNK_ROWS", 7)
    monkeypatch.setattr(transfer, "predict_teacher_proba", lambda teachers, X, *args: (
        seen.append(len(X)) or labelled(teachers, X, *args)))
    chunked = data.transfer_sets(data.weightings(configs, rows, seed=0), configs, rows)
    assert n_synthetic > 7 and sum(seen) == n_synthetic and max(seen) == 7
    assert len(seen) == -(-n_synthetic // 7)
    (X_whole, targets_whole), (X_chunked, targets_chunked) = (
        sets[transfer_key(configs[0])] for sets in (whole, chunked))
    np.testing.assert_array_equal(X_whole, X_chunked)
    for key in targets_whole:
        np.testing.assert_array_equal(targets_whole[key], targets_chunked[key])
