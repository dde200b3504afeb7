"""skhpmkd: scikit-learn-native knowledge distillation for tabular data (HPM-KD).

The public names are imported on first use, so that a parallel worker that only fits
teachers (``skhpmkd.teachers``, ``skhpmkd.parallel``) does not import torch.
"""

from importlib import import_module

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC = {"HPMKDClassifier": ".classifier", "DistillationNet": ".student",
           "MLPModule": ".student", "make_student": ".student"}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    """Import a public name's module on first access (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
