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


def soft_kl(student_logits, teacher_logits, teacher_weights, temperature):
    """Mean KL(mixture_T || student_T) per sample: the student-teacher gap at ``T``."""
    targets = mixed_soft_targets(teacher_logits, teacher_weights, temperature)
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    return F.kl_div(log_student, targets, reduction="batchmean")


def distillation_loss(student_logits, teacher_logits, teacher_weights, labels, *,
                      temperature, alpha, return_soft=False):
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

    Returns
    -------
    loss : scalar tensor
    soft : scalar tensor
        Only with ``return_soft``.
    """
    soft = soft_kl(student_logits, teacher_logits, teacher_weights, temperature)
    labelled = labels >= 0
    hard = (F.cross_entropy(student_logits[labelled], labels[labelled])
            if bool(labelled.any()) else student_logits.new_zeros(()))
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

    def forward(self, student_logits, labels, teacher_logits, teacher_weights):
        loss, soft = distillation_loss(
            student_logits, teacher_logits, teacher_weights, labels,
            temperature=self.temperature, alpha=self.alpha, return_soft=True,
        )
        self.last_soft_kl_ = soft.detach()
        return loss
