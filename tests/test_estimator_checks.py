"""scikit-learn's estimator checks over HPMKDClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import fast_classifier

#: Checks that are expected to fail, with the reason. Keep this empty where possible.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "a weight is not a repetition: the rows, not their weights, make the "
        "stratified validation split, the teachers' folds and the student's "
        "minibatches, so weighting a row 2 trains on other splits and batches than "
        "repeating it (sample weights are tested in tests/test_sample_weight.py)"),
    "check_sample_weight_equivalence_on_sparse_data": (
        "as check_sample_weight_equivalence_on_dense_data"),
}


@parametrize_with_checks([fast_classifier(),
                          fast_classifier(config="auto", search_budget=3, memory=None)],
                         expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
