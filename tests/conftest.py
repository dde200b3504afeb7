"""Shared fixtures: tiny data and a fast estimator configuration."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skhpmkd import HPMKDClassifier, make_student


def load_tool(name):
    """The script ``tools/<name>.py`` as a module (tools/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TinyModule(torch.nn.Module):
    """A student module of the user's own: one linear layer. The classifier knows it
    by its name only, so it plans no encoding or size for it and never restores it
    from the memory."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X)


def fast_teachers():
    """Two cheap teachers: a shallow tree and a logistic regression."""
    return [("tree", DecisionTreeClassifier(max_depth=4)),
            ("lr", LogisticRegression(max_iter=500))]


def fast_classifier(**params):
    """HPMKDClassifier that fits in well under a second on tiny data.

    The chain, augmentation, member averaging and the configuration search multiply
    training time, so they are off here (``config="default"``: T=4, alpha=0.5, "ple";
    one student) and tested on their own (tests/test_classifier.py, "components" and
    "configuration").
    """
    defaults = dict(teachers=fast_teachers(), teacher_cv=3, chain="off", augment="off",
                    config="default", n_members=1,
                    student=make_student(max_epochs=20, lr=1e-2, batch_size=32,
                                         module__hidden_units=(16,)),
                    random_state=0)
    defaults.update(params)
    return HPMKDClassifier(**defaults)


@pytest.fixture(autouse=True)
def isolated_memory(tmp_path_factory):
    """Point the default optimization memory at a fresh temporary file for each test,
    not the user's cache (so no test restores a student another test trained)."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("memory") / "memory.sqlite"
        patch.setenv("SKHPMKD_MEMORY", str(path))
        yield path


@pytest.fixture
def data3():
    """A small 3-class problem (120 rows, 6 features)."""
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3, class_sep=2.0,
                               random_state=0)
    return X.astype(np.float64), y
