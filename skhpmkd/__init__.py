"""skhpmkd: scikit-learn-native knowledge distillation for tabular data (HPM-KD)."""

# scikit-learn's HistGradientBoosting before torch: torch puts its OpenMP runtime in
# the global symbol scope, and scikit-learn extensions loaded after it bind there
# while those loaded before keep scikit-learn's own runtime. With sklearn.neighbors
# loaded first (skhpmkd.augment, or user code), HistGradientBoosting ran its losses on
# one runtime and its histograms on the other, whose idle threads spun against each
# other: 3-5x slower with 2 threads (docs/benchmarks.md, "Two OpenMP runtimes").
import sklearn.ensemble  # noqa: F401, I001

from .classifier import HPMKDClassifier
from .report import DistillationReport, TeacherWeightsDisplay, TrainingHistoryDisplay
from .student import DistillationNet, MLPModule, make_student

__version__ = "0.1.0"

__all__ = ["HPMKDClassifier", "DistillationNet", "MLPModule", "make_student",
           "DistillationReport", "TeacherWeightsDisplay", "TrainingHistoryDisplay",
           "__version__"]
