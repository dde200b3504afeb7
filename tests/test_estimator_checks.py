"""scikit-learn's estimator checks over HPMKDClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import fast_classifier

#: Checks that are expected to fail, with the reason. Keep this empty where possible.
EXPECTED_FAILURES = {}


@parametrize_with_checks([fast_classifier(),
                          fast_classifier(config="auto", search_budget=3, memory=None)],
                         expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
