"""Model size accounting: pickled bytes, teachers' tree nodes, students' parameters."""

import io
import pickle
import struct

import torch

try:
    import cloudpickle  # a dependency of joblib
except ImportError:  # joblib before 1.5 carries its own copy
    from joblib.externals import cloudpickle

#: Digits of the highest address a 64-bit Linux process hands out (0x7fffffffffff).
_ADDRESS_DIGITS = 15


def _pickled_text(text):
    """``text`` as protocol 2 pickles a str (BINUNICODE)."""
    return b"X" + struct.pack("<I", len(text)) + text


class _SizePickler(pickle.Pickler):
    """A pickler whose output length does not depend on where torch put a storage.

    torch pickles each storage under a key made of its C object's address, which
    has 14 digits in one memory region and 15 in another; the same weights would
    measure a few bytes apart. Here every key is padded to :data:`_ADDRESS_DIGITS`.
    """

    def reducer_override(self, obj):
        if not isinstance(obj, (torch.UntypedStorage, torch.TypedStorage)):
            return NotImplemented
        rebuild, (data,) = obj.__reduce__()
        untyped = obj._untyped_storage if isinstance(obj, torch.TypedStorage) else obj
        key = str(untyped._cdata).encode()
        fixed = key.rjust(_ADDRESS_DIGITS, b"0")
        return rebuild, (data.replace(_pickled_text(key), _pickled_text(fixed)),)


def pickled_nbytes(obj):
    """Size in bytes of ``obj`` as pickled (highest protocol), the same wherever in
    memory its torch tensors live; as cloudpickle pickles it where pickle cannot (a
    teacher holding a lambda or a function defined in a function)."""
    buffer = io.BytesIO()
    try:
        _SizePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    except (pickle.PicklingError, AttributeError, TypeError):
        return len(cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    return buffer.tell()


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
