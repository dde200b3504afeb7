"""Member averaging: several students of one configuration, their probabilities averaged.

A small network trained on a few thousand rows varies with its initialisation and
batch order; the average of a few such networks (a deep ensemble, Lakshminarayanan
et al. 2017) has lower variance than any one of them. The fitted student stays one
torch module (:class:`skhpmkd.student.MLPModule` with ``n_members``), so prediction,
pickling and devices work as for a single network.

The gain is judged by the Jensen gap rather than by the average's loss against the
first member's: on a few dozen validation rows one seed's network is often luckier
than another's, and that lottery, not the averaging, would decide.

Members are added one at a time, each trained with its own seed on the same transfer
set and validation rows, while

- the averaged students still fit the size budget (``teacher bytes /
  min_compression``),
- each new member widens the average's Jensen gap on the validation rows (its
  members' mean log-loss minus its own log-loss, what the average gains over a
  member drawn at random) by at least :data:`MEMBER_MIN_GAIN`: on large data one
  network varies little, and a member would cost a training for nothing,
- and there are at most ``n_members`` (:data:`MAX_MEMBERS` for ``"auto"``, and
  none beyond the first from :data:`LARGE_DATA_ROWS` labelled rows).
"""

from dataclasses import asdict, dataclass
from time import perf_counter

import numpy as np

from .seeding import torch_seeded
from .student import cuda_devices, label_log_losses

#: Most members of ``n_members="auto"``.
MAX_MEMBERS = 5
#: Smallest widening of the average's Jensen gap (validation log-loss) that keeps a
#: member.
MEMBER_MIN_GAIN = 0.002
#: Labelled training rows from which ``n_members="auto"`` tries no second member: a
#: network trained on that many rows varies little with its seed, so the trial would
#: cost a full training to be rejected (adult's 33,000 rows and four synthetic tasks
#: of 25,000-37,500: second members widened the gap by 0.0004-0.0015, below
#: :data:`MEMBER_MIN_GAIN`; synth5's 13,500 rows kept two). The same size as
#: augmentation's ``AUTO_MAX_ROWS``.
LARGE_DATA_ROWS = 20000


@dataclass
class Member:
    """One trained member of the average."""

    seed: int
    valid_loss: float      # the member's own validation log-loss
    average_loss: float    # validation log-loss of the average up to this member
    jensen_gap: float      # mean of those members' log-losses minus average_loss
    kept: bool
    seconds: float

    def as_dict(self):
        """Plain-data view (for reports)."""
        return asdict(self)


def members_within_budget(member_nbytes, budget, max_members=MAX_MEMBERS):
    """How many members of ``member_nbytes`` each fit in ``budget`` bytes (at least
    1, at most ``max_members``; None: no budget)."""
    if budget is None:
        return int(max_members)
    return int(max(1, min(max_members, budget // max(1, member_nbytes))))


def auto_member_count(member_nbytes, budget, n_rows):
    """Most members of ``n_members="auto"`` for a student of ``member_nbytes`` trained
    on ``n_rows`` labelled rows: 1 from :data:`LARGE_DATA_ROWS` rows, else as many as
    fit ``budget`` (:func:`members_within_budget`)."""
    if n_rows >= LARGE_DATA_ROWS:
        return 1
    return members_within_budget(member_nbytes, budget)


def jensen_gap(probas, labels, sample_weight=None):
    """``(log-loss of the mean of probas, members' mean log-loss minus it)``; each of
    ``probas`` has shape (n_rows, n_classes); rows weighted by ``sample_weight``
    (about 1 on average) if given. The gap is never negative."""
    average = float(np.mean(label_log_losses(np.mean(probas, axis=0), labels,
                                             sample_weight)))
    members = np.mean([np.mean(label_log_losses(p, labels, sample_weight))
                       for p in probas])
    return average, float(members - average)


def grow_members(train, first, valid_proba, labels, n_members, min_gain,
                 sample_weight=None):
    """Train members while they pay; return the kept networks and every member.

    Parameters
    ----------
    train : callable
        ``train(seed_offset) -> (net, valid_loss)``: one more member (offset >= 1).
    first : (net, valid_loss, seconds)
        The member already trained (offset 0).
    valid_proba : callable or None
        ``valid_proba(net)``: the network's probabilities on the validation rows
        (None: there are none, and the average's loss is nan).
    labels : ndarray of int or None
        The validation rows' labels.
    n_members : int
        Most members (kept or not, the first included).
    min_gain : float or None
        Smallest widening of the average's Jensen gap that keeps a member; None
        keeps every member (``n_members`` of them).
    sample_weight : ndarray or None
        The validation rows' weights (None: every row weighs 1).

    Returns
    -------
    nets : list
        The kept networks, the first first.
    members : list of Member
    """
    def judged(probas):
        if valid_proba is None:
            return float("nan"), float("nan")
        return jensen_gap(probas, labels, sample_weight)

    def proba(net):
        return None if valid_proba is None else valid_proba(net)

    net, loss, seconds = first
    nets, probas = [net], [proba(net)]
    members = [Member(0, float(loss), *judged(probas), True, float(seconds))]
    for offset in range(1, n_members):
        start = perf_counter()
        net, loss = train(offset)
        candidate = probas + [proba(net)]
        average, gap = judged(candidate)
        kept = min_gain is None or gap - members[-1].jensen_gap >= min_gain
        members.append(Member(offset, float(loss), average, gap, kept,
                              perf_counter() - start))
        if not kept:
            break
        nets, probas = nets + [net], candidate
    return nets, members


def merge_members(nets):
    """One network whose module averages the probabilities of ``nets``' modules.

    The first network becomes the result (its history and training parameters stay);
    its module is replaced by an ``MLPModule`` holding every network's weights as a
    member (a network that is itself an average adds each of its members). Members
    whose module parameters differ from the first's (an encoding learned on other
    rows, another width) keep their own through ``member_params``. Torch's global
    random state is left as it was.
    """
    net = nets[0]
    if len(nets) == 1:
        return net
    members = [member for source in nets for member in network_members(source)]
    shared = members[0][0]
    own = [{name: value for name, value in params.items()
            if not same_value(value, shared.get(name))} for params, _ in members]
    merged = {"module__n_members": len(members)}
    if any(own):
        merged["module__member_params"] = own
    with torch_seeded(cuda_devices=cuda_devices(net.device)):
        net.set_params(**merged)
    for member, (_, state) in zip(net.module_.members, members):
        member.load_state_dict(state)
    return net


#: Module parameters that describe an average, not one of its members.
_AVERAGE_PARAMS = ("n_members", "member_params")


def network_members(net):
    """``[(module parameters, state_dict), ...]``: the single networks that the
    fitted ``net`` averages (itself alone where it is not an average)."""
    module_params = {name.removeprefix("module__"): value
                     for name, value in net.get_params().items()
                     if name.startswith("module__")}
    params = {name: value for name, value in module_params.items()
              if name not in _AVERAGE_PARAMS}
    module = net.module_
    if module.members is None:
        return [(params, module.state_dict())]
    own = module_params.get("member_params") or [{}] * len(module.members)
    return [({**params, **member_params}, member.state_dict())
            for member_params, member in zip(own, module.members)]


def same_value(first, second):
    """Whether two module parameter values are equal (nested lists, tuples and
    arrays compared element by element)."""
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        return (isinstance(first, np.ndarray) and isinstance(second, np.ndarray)
                and first.shape == second.shape and np.array_equal(first, second))
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        return len(first) == len(second) and all(
            same_value(a, b) for a, b in zip(first, second))
    if isinstance(first, (list, tuple)) or isinstance(second, (list, tuple)):
        return False
    return first == second
