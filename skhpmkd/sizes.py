"""Model size accounting: pickled bytes, tree nodes of teachers, parameters of students."""

import pickle


def pickled_nbytes(obj):
    """Size in bytes of ``obj`` as pickled (highest protocol)."""
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def count_parameters(module):
    """Number of scalar parameters of a torch module."""
    return int(sum(param.numel() for param in module.parameters()))


def _unwrap(estimator):
    """The model inside FrozenEstimator / Pipeline wrappers."""
    while True:
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        elif type(estimator).__name__ == "FrozenEstimator":
            estimator = estimator.estimator
        else:
            return estimator


def count_tree_nodes(estimator):
    """Total decision-tree nodes of a fitted tree model, or None for non-tree models.

    Knows scikit-learn trees and forests, gradient boosting (both kinds) and XGBoost.
    """
    estimator = _unwrap(estimator)
    if hasattr(estimator, "tree_"):
        return int(estimator.tree_.node_count)
    if hasattr(estimator, "_predictors"):  # HistGradientBoosting*
        return int(sum(len(predictor.nodes) for per_iteration in estimator._predictors
                       for predictor in per_iteration))
    if hasattr(estimator, "get_booster"):  # XGBoost: one text line per node
        return int(sum(tree.count("\n") for tree in estimator.get_booster().get_dump()))
    estimators = getattr(estimator, "estimators_", None)
    if estimators is not None:
        counts = [count_tree_nodes(est) for est in
                  getattr(estimators, "ravel", lambda: estimators)()]
        if counts and all(count is not None for count in counts):
            return int(sum(counts))
    return None
