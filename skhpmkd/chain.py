"""Progressive distillation chain: plan intermediate students, distil step by step,
stop rule.

A wide network can absorb more of the teachers' function than the small target
student; distilling through "teacher assistants" of shrinking width can transfer it
better than one jump. Whether it does depends on the data, so the chain is grown one
assistant at a time and every growth step must pay for itself on the validation rows:

- chain of length 0: the target student learns from the teachers directly;
- chain of length k: assistants ``plan[-k:]`` (widest first) learn in sequence, each
  from the one before it and the teachers, then the target learns from the last one;
- growth stops when the target's validation log-loss improves by less than
  ``min_gain`` over the previous length, or the plan is exhausted.
"""

from dataclasses import asdict, dataclass
from numbers import Integral
from time import perf_counter

import numpy as np

from .student import is_positive_int, predict_proba_fast
from .teachers import proba_to_logits

#: Weight of the previous network in a step's soft targets; the teachers keep the rest.
CHAIN_MIX = 0.5
#: Width multipliers of the assistants planned by ``chain="auto"``, widest first.
AUTO_MULTIPLIERS = (4, 2)
MAX_ASSISTANT_WIDTH = 1024


@dataclass
class ChainStep:
    """One trained network of the chain."""

    length: int          # chain length this network belongs to
    hidden_units: tuple  # its size
    role: str            # "assistant" or "target"
    learned_from: str    # "teachers" or the hidden units of the previous network
    valid_loss: float    # its validation log-loss (nan without a validation split)
    seconds: float

    def as_dict(self):
        """Plain-data view (for reports and the memory)."""
        return asdict(self)


def plan_chain(target_units, chain="auto"):
    """Hidden units of the assistants, widest first (the target is not included).

    Parameters
    ----------
    target_units : tuple of int
        Hidden units of the target student.
    chain : "auto", "off" or list
        "auto": geometric steps of width 4x and 2x the target's widest layer (capped at
        1024, only those wider than the target). "off": none. A list: the assistants'
        hidden units as given (each an int, meaning two layers of that width, or a
        tuple), widest first.

    Returns
    -------
    list of tuple of int
    """
    if chain == "off":
        return []
    if chain == "auto":
        width = max(target_units, default=0)
        widths = sorted({min(width * m, MAX_ASSISTANT_WIDTH) for m in AUTO_MULTIPLIERS},
                        reverse=True)
        return [(w,) * max(len(target_units), 1) for w in widths if w > width]
    return [(int(size),) * 2 if isinstance(size, Integral)
            else tuple(int(units) for units in size) for size in chain]


def check_chain(chain):
    """Raise a ValueError unless ``chain`` is "off", "auto" or a list of assistants'
    hidden units (each a positive int, or a non-empty tuple or list of them)."""
    if isinstance(chain, str):
        return
    for size in chain:
        layers = size if isinstance(size, (tuple, list)) else [size]
        if not layers or not all(is_positive_int(units) for units in layers):
            raise ValueError("chain must list the assistants' hidden units, each a "
                             "positive int or a non-empty tuple of them; got "
                             f"{size!r} in {chain!r}.")


def _units(units):
    return () if units is None else tuple(units)


def run_chain(train, target_units, assistants, min_gain, has_validation=True,
              first=None):
    """Grow the chain while it pays; return the best target network and every step.

    Parameters
    ----------
    train : callable
        ``train(hidden_units, previous_net) -> (net, valid_loss)``; ``previous_net`` is
        None when the network learns from the teachers alone.
    target_units : tuple of int
    assistants : list of tuple of int
        From :func:`plan_chain`, widest first.
    min_gain : float
        Smallest decrease of the target's validation log-loss that keeps a longer chain.
    has_validation : bool
        Without validation rows no gain can be measured, so only the direct student is
        trained.
    first : (net, valid_loss, seconds), optional
        The direct student (chain length 0) when it is already trained (by the
        configuration search); None trains it here.

    Returns
    -------
    net : the chosen target network
    steps : list of ChainStep
    chosen_length : int
    """
    steps = []

    def timed(length, units, role, previous, previous_units):
        start = perf_counter()
        net, loss = train(units, previous)
        source = "teachers" if previous is None else str(previous_units)
        steps.append(ChainStep(length, _units(units), role, source, float(loss),
                               perf_counter() - start))
        return net, loss

    if first is None:
        best_net, best_loss = timed(0, target_units, "target", None, None)
    else:
        best_net, best_loss, seconds = first
        steps.append(ChainStep(0, _units(target_units), "target", "teachers",
                               float(best_loss), seconds))
    chosen = 0
    if not has_validation:
        return best_net, steps, chosen
    for length in range(1, len(assistants) + 1):
        previous, previous_units = None, None
        for units in assistants[-length:]:
            previous, _ = timed(length, units, "assistant", previous, previous_units)
            previous_units = units
        net, loss = timed(length, target_units, "target", previous, previous_units)
        if best_loss - loss < min_gain:
            break
        best_net, best_loss, chosen = net, loss, length
    return best_net, steps, chosen


def with_previous_student(targets, previous_net, X, mix=CHAIN_MIX):
    """Targets in which the previous network joins the teachers with weight ``mix``.

    The previous network's logits become one more "teacher"; the teachers' per-sample
    weights are scaled by ``1 - mix`` so every row's weights still sum to 1.
    """
    logits = proba_to_logits(predict_proba_fast(previous_net.module_, X))
    weights = targets["teacher_weights"] * (1.0 - mix)
    return {**targets,
            "teacher_logits": np.concatenate(
                [targets["teacher_logits"], logits[:, None, :]], axis=1),
            "teacher_weights": np.concatenate(
                [weights, np.full((len(X), 1), mix, dtype=weights.dtype)], axis=1)}
