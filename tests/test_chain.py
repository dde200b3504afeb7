"""Progressive chain: planning, the stop rule, mixing in the previous network."""

import numpy as np
import pytest

from skhpmkd.chain import CHAIN_MIX, plan_chain, run_chain, with_previous_student
from skhpmkd.student import make_student


def test_plan_chain():
    assert plan_chain((64, 64), "auto") == [(256, 256), (128, 128)]
    assert plan_chain((512, 512), "auto") == [(1024, 1024)]
    assert plan_chain((1024,), "auto") == []
    assert plan_chain((64, 64), "off") == []
    assert plan_chain((64, 64), [300, (200, 100)]) == [(300, 300), (200, 100)]


class FakeTrainer:
    """Stands in for student training: the target's loss depends on the chain length."""

    def __init__(self, target_losses):
        self.target_losses = target_losses
        self.calls = []

    def __call__(self, hidden_units, previous):
        self.calls.append((hidden_units, previous))
        depth = 0 if previous is None else previous[1] + 1
        if hidden_units == (8, 8):  # the target
            return ("target", depth), self.target_losses[depth]
        return ("assistant", depth), 0.0


def test_chain_stops_when_gain_is_zero():
    trainer = FakeTrainer(target_losses=[0.30, 0.30, 0.10])
    net, steps, length = run_chain(trainer, (8, 8), [(32, 32), (16, 16)], min_gain=0.01)
    assert length == 0 and net == ("target", 0)
    # the direct student, then one assistant and its target; never the 2-assistant chain
    assert [(s.length, s.role) for s in steps] == [(0, "target"), (1, "assistant"),
                                                  (1, "target")]


def test_chain_grows_while_it_pays():
    trainer = FakeTrainer(target_losses=[0.30, 0.20, 0.10])
    net, steps, length = run_chain(trainer, (8, 8), [(32, 32), (16, 16)], min_gain=0.01)
    assert length == 2 and net == ("target", 2)
    two = [s for s in steps if s.length == 2]
    assert [s.hidden_units for s in two] == [(32, 32), (16, 16), (8, 8)]
    assert [s.learned_from for s in two] == ["teachers", "(32, 32)", "(16, 16)"]
    assert all(s.seconds >= 0 for s in steps)


def test_chain_without_validation_trains_the_direct_student_only():
    trainer = FakeTrainer(target_losses=[float("nan")] * 3)
    _, steps, length = run_chain(trainer, (8, 8), [(16, 16)], min_gain=0.0,
                                 has_validation=False)
    assert length == 0 and len(steps) == 1


def test_previous_student_joins_the_teachers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    targets = {"label": rng.integers(0, 2, 20),
               "teacher_logits": rng.normal(size=(20, 2, 2)).astype(np.float32),
               "teacher_weights": np.full((20, 2), 0.5, dtype=np.float32)}
    net = make_student(max_epochs=1, module__n_features=3, module__n_classes=2,
                       module__hidden_units=(4,)).initialize()
    mixed = with_previous_student(targets, net, X)
    assert mixed["teacher_logits"].shape == (20, 3, 2)
    np.testing.assert_allclose(mixed["teacher_weights"].sum(1), 1.0, rtol=1e-6)
    assert mixed["teacher_weights"][0, -1] == pytest.approx(CHAIN_MIX)
    assert mixed["label"] is targets["label"]
