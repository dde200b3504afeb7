"""Size accounting."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from skhpmkd.sizes import count_parameters, count_tree_nodes, pickled_nbytes

X, y = make_classification(n_samples=200, random_state=0)


def test_tree_nodes_of_each_teacher_kind():
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    assert count_tree_nodes(tree) == tree.tree_.node_count
    forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    assert count_tree_nodes(forest) == sum(t.tree_.node_count for t in forest.estimators_)
    hgb = HistGradientBoostingClassifier(max_iter=3).fit(X, y)
    assert count_tree_nodes(hgb) >= 3
    xgb = XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
    assert 3 <= count_tree_nodes(xgb) <= 3 * 7
    assert (count_tree_nodes(make_pipeline(StandardScaler(), tree))
            == tree.tree_.node_count)
    assert count_tree_nodes(FrozenEstimator(tree)) == tree.tree_.node_count
    assert count_tree_nodes(LogisticRegression().fit(X, y)) is None


def test_parameters_and_bytes():
    module = torch.nn.Linear(10, 3)
    assert count_parameters(module) == 33
    assert pickled_nbytes(module) > 33 * 4
    assert pickled_nbytes(np.zeros(1000)) > pickled_nbytes(np.zeros(10))


def test_pickled_nbytes_does_not_depend_on_where_the_weights_live():
    import pickle
    import threading

    here = torch.nn.Linear(4, 3)
    made = []
    # a storage made in another thread lives in another malloc arena, whose
    # addresses (torch's pickle keys) may have another number of digits
    thread = threading.Thread(target=lambda: made.append(torch.nn.Linear(4, 3)))
    thread.start()
    thread.join()
    there = made[0]
    there.load_state_dict(here.state_dict())
    keys = {len(str(m.weight.untyped_storage()._cdata)) for m in (here, there)}
    if len(keys) == 1:
        pytest.skip("both storages' addresses have the same number of digits here")
    assert len(pickle.dumps(here, 5)) != len(pickle.dumps(there, 5))
    assert pickled_nbytes(here) == pickled_nbytes(there)


def test_what_pickle_cannot_take_is_measured_as_cloudpickle_pickles_it():
    from sklearn.preprocessing import FunctionTransformer

    with_lambda = FunctionTransformer(lambda Z: Z)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(with_lambda)
    assert pickled_nbytes(with_lambda) > pickled_nbytes(FunctionTransformer())
