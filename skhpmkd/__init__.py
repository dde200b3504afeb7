"""skhpmkd: scikit-learn-native knowledge distillation for tabular data (HPM-KD)."""

from .classifier import HPMKDClassifier
from .student import DistillationNet, MLPModule, make_student

__version__ = "0.1.0"

__all__ = ["HPMKDClassifier", "DistillationNet", "MLPModule", "make_student",
           "__version__"]
