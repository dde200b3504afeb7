"""tools/decision_thresholds.py replays the final decisions as the classifier takes
them (docs/benchmarks.md, "The final decisions' noise guard")."""

import numpy as np
import pytest
from conftest import load_tool

from skhpmkd.ensemble import SIGNIFICANCE_Z, paired_advantage, significantly_lower


@pytest.fixture(scope="module")
def tool():
    return load_tool("decision_thresholds")


def _decision(kind, kept_losses, rival_losses, accuracy_kept=0.8, accuracy_rival=0.9):
    mean, standard_error = paired_advantage(rival_losses, kept_losses)
    return {"kind": kind, "mean": mean, "se": standard_error, "n": len(kept_losses),
            "accuracy_kept": accuracy_kept, "accuracy_rival": accuracy_rival}


@pytest.mark.parametrize("shift", [-0.3, -0.05, 0.0, 0.05, 0.3])
def test_replay_at_the_shipped_threshold_is_the_classifiers_decision(tool, shift):
    rng = np.random.default_rng(0)
    kept = rng.exponential(0.5, size=60)
    rival = kept + shift + rng.normal(0, 0.3, size=60)
    # the augment trial: the augmented student (rival) replaces the plain one
    assert tool.rival_wins(_decision("augment", kept, rival), SIGNIFICANCE_Z) == (
        significantly_lower(rival, kept))
    # the confirmation: the winner (kept) stays only if it beats the favourite
    assert tool.rival_wins(_decision("confirm", kept, rival), SIGNIFICANCE_Z) == (
        not significantly_lower(kept, rival))


def test_replayed_gain_counts_only_decisions_the_threshold_flips(tool):
    rng = np.random.default_rng(1)
    kept = rng.exponential(0.5, size=100)
    noise = rng.normal(0, 0.2, size=100)
    # the rival about one standard error better: flipped at z=0 and z=0.5, not at z=2
    close = _decision("augment", kept, kept - 0.02 + noise, 0.80, 0.83)
    far = _decision("augment", kept, kept - 1.0 + noise, 0.70, 0.75)  # always wins
    z_close = close["mean"] / close["se"]
    assert 0.5 < z_close < SIGNIFICANCE_Z
    assert tool.replayed_gain([close, far], SIGNIFICANCE_Z) == 0.0
    assert tool.replayed_gain([close, far], 0.0) == pytest.approx(3.0)
    assert tool.replayed_gain([close, far], 3.0 * z_close) == 0.0
    summary = tool.summary([{"decisions": [close]}, {"decisions": [far]}])
    assert "augment: 2 decisions in 2 fits" in summary
    assert "z=0: rival wins 2, +3.00 pp in all, +1.500 pp per fit" in summary
