"""Distillation losses."""

import torch
import torch.nn.functional as F

from skhpmkd.losses import DistillationLoss, distillation_loss, mixed_soft_targets


def random_batch(n=8, k=2, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    teacher_logits = torch.randn(n, k, c, generator=gen)
    weights = torch.softmax(torch.randn(n, k, generator=gen), dim=1)
    labels = torch.randint(0, c, (n,), generator=gen)
    student = torch.randn(n, c, generator=gen)
    return student, teacher_logits, weights, labels


def test_mixture_is_a_distribution_and_respects_weights():
    _, teacher_logits, weights, _ = random_batch()
    targets = mixed_soft_targets(teacher_logits, weights, temperature=2.0)
    torch.testing.assert_close(targets.sum(1), torch.ones(8))
    one_hot = torch.zeros_like(weights)
    one_hot[:, 1] = 1
    torch.testing.assert_close(mixed_soft_targets(teacher_logits, one_hot, 2.0),
                               torch.softmax(teacher_logits[:, 1] / 2.0, dim=1))


def test_alpha_one_is_plain_cross_entropy():
    student, teacher_logits, weights, labels = random_batch()
    loss = distillation_loss(student, teacher_logits, weights, labels,
                             temperature=4.0, alpha=1.0)
    torch.testing.assert_close(loss, F.cross_entropy(student, labels))


def test_soft_term_is_zero_when_student_matches_single_teacher():
    _, teacher_logits, _, labels = random_batch(k=1)
    weights = torch.ones(8, 1)
    loss = distillation_loss(teacher_logits[:, 0], teacher_logits, weights, labels,
                             temperature=3.0, alpha=0.0)
    assert abs(loss.item()) < 1e-6


def test_soft_term_scaled_by_temperature_squared():
    student, teacher_logits, weights, labels = random_batch()
    targets = mixed_soft_targets(teacher_logits, weights, 4.0)
    kl = F.kl_div(F.log_softmax(student / 4.0, dim=1), targets, reduction="batchmean")
    loss = distillation_loss(student, teacher_logits, weights, labels,
                             temperature=4.0, alpha=0.0)
    torch.testing.assert_close(loss, 16 * kl)


def test_criterion_module_uses_its_temperature():
    student, teacher_logits, weights, labels = random_batch()
    criterion = DistillationLoss(temperature=2.0, alpha=0.3)
    first = criterion(student, labels, teacher_logits, weights)
    criterion.temperature = 6.0
    assert not torch.isclose(first, criterion(student, labels, teacher_logits, weights))


def test_criterion_keeps_its_soft_term():
    student, teacher_logits, weights, labels = random_batch()
    criterion = DistillationLoss(temperature=3.0, alpha=0.25)
    loss = criterion(student, labels, teacher_logits, weights)
    expected, soft = distillation_loss(student, teacher_logits, weights, labels,
                                       temperature=3.0, alpha=0.25, return_soft=True)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(criterion.last_soft_kl_, soft.detach())
    assert not criterion.last_soft_kl_.requires_grad
