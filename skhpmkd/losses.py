"""Distillation losses: temperature-scaled KL to mixed teacher targets plus a label term.

The student sees, for every training row, each teacher's logits ``(n_teachers,
n_classes)`` and that row's teacher weights ``(n_teachers,)``. The soft target at
temperature ``T`` is the weighted mixture of the teachers' tempered softmaxes, so the
mixture changes correctly when the temperature changes during training.
"""

import torch
import torch.nn.functional as F


def mixed_soft_targets(teacher_logits, teacher_weights, temperature):
    """Per-sample mixture of the teachers' tempered probabilities.

    Parameters
    ----------
    teacher_logits : tensor of shape (n_samples, n_teachers, n_classes)
    teacher_weights : tensor of shape (n_samples, n_teachers)
        Non-negative, each row sums to 1.
    temperature : float
        Softmax temperature, > 0.

    Returns
    -------
    tensor of shape (n_samples, n_classes)
        Probabilities; each row sums to 1.
    """
    tempered = torch.softmax(teacher_logits / temperature, dim=-1)
    return torch.einsum("nk,nkc->nc", teacher_weights, tempered)


def weighted_mean(row_losses, sample_weight=None):
    """Mean of per-row losses, each row multiplied by its weight (weights about 1 on
    average, as :class:`~skhpmkd.HPMKDClassifier` scales them); None: plain mean."""
    if sample_weight is None:
        return row_losses.mean()
    return (row_losses * sample_weight).mean()


def soft_kl(student_logits, teacher_logits, teacher_weights, temperature,
            sample_weight=None):
    """Mean KL(mixture_T || student_T) per sample: the student-teacher gap at ``T``
    (rows weighted by ``sample_weight``, if given)."""
    targets = mixed_soft_targets(teacher_logits, teacher_weights, temperature)
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    if sample_weight is None:
        return F.kl_div(log_student, targets, reduction="batchmean")
    row_kl = F.kl_div(log_student, targets, reduction="none").sum(dim=-1)
    return weighted_mean(row_kl, sample_weight)


def distillation_loss(student_logits, teacher_logits, teacher_weights, labels, *,
                      temperature, alpha, return_soft=False, sample_weight=None):
    """Hinton-style distillation loss against a per-sample teacher mixture.

    ``(1 - alpha) * T**2 * KL(mixture_T || student_T) + alpha * CE(student, labels)``.
    The ``T**2`` factor keeps the soft term's gradient scale independent of ``T``.
    Rows whose label is negative (synthetic rows, which only the teachers label) are
    left out of the cross-entropy term.

    Parameters
    ----------
    student_logits : tensor of shape (n_samples, n_classes)
    teacher_logits : tensor of shape (n_samples, n_teachers, n_classes)
    teacher_weights : tensor of shape (n_samples, n_teachers)
    labels : int64 tensor of shape (n_samples,)
        ``-1`` marks a row without a label.
    temperature : float
    alpha : float in [0, 1]
        Weight of the hard-label cross-entropy term.
    return_soft : bool, default=False
        Also return the KL term alone (:func:`soft_kl`), the student-teacher gap.
    sample_weight : tensor of shape (n_samples,), default=None
        Per-row weights of both terms (each a mean of weighted per-row losses over
        its rows); None weighs every row 1.

    Returns
    -------
    loss : scalar tensor
    soft : scalar tensor
        Only with ``return_soft``.
    """
    soft = soft_kl(student_logits, teacher_logits, teacher_weights, temperature,
                   sample_weight)
    labelled = labels >= 0
    if not bool(labelled.any()):
        hard = student_logits.new_zeros(())
    elif sample_weight is None:
        hard = F.cross_entropy(student_logits[labelled], labels[labelled])
    else:
        hard = weighted_mean(F.cross_entropy(student_logits[labelled], labels[labelled],
                                             reduction="none"), sample_weight[labelled])
    loss = (1.0 - alpha) * temperature**2 * soft + alpha * hard
    return (loss, soft) if return_soft else loss


class DistillationLoss(torch.nn.Module):
    """The distillation loss as a skorch criterion; ``temperature`` may change per epoch.

    Parameters
    ----------
    temperature : float, default=4.0
        Softmax temperature of the soft term.
    alpha : float, default=0.5
        Weight of the hard-label cross-entropy term.

    Attributes
    ----------
    last_soft_kl_ : tensor or None
        The KL term of the last call, detached (the student-teacher gap).
    """

    def __init__(self, temperature=4.0, alpha=0.5):
        super().__init__()
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.last_soft_kl_ = None

    def forward(self, student_logits, labels, teacher_logits, teacher_weights,
                sample_weight=None):
        loss, soft = distillation_loss(
            student_logits, teacher_logits, teacher_weights, labels,
            temperature=self.temperature, alpha=self.alpha, return_soft=True,
            sample_weight=sample_weight,
        )
        self.last_soft_kl_ = soft.detach()
        return loss
