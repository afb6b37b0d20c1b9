"""Benchmark specs of the alignment family (issue 15), to be merged into ``specs.SPECS``.

The references are TRL's loss code transcribed with plain torch operations (TRL itself is
not installed; see tests/test_alignment.py for the file and function of each) and
``torch.nn.functional.kl_div`` for distillation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from specs import Spec


def _logps(n, g, scale=3.0):
    return -(torch.randn(n, generator=g) * scale).abs()


def _reward_pairs(n, g):
    return (torch.randn(n, generator=g), torch.randn(n, generator=g)), {}


def _dpo_batch(n, g):
    rows = max(2, n // 4)
    return tuple(_logps(rows, g, 20.0) for _ in range(4)), {"beta": 0.1}


def _avg_pairs(n, g):
    rows = max(2, n // 2)
    return (_logps(rows, g, 1.0), _logps(rows, g, 1.0)), {}


def _group_rewards(n, g, group_size=8):
    return (torch.randn(max(group_size, n // group_size * group_size), generator=g),), {"group_size": group_size}


def _grpo_batch(n, g, t=64):
    rows = max(2, n // (4 * t))
    lp = -torch.rand(rows, t, generator=g) * 3
    old = lp + 0.3 * torch.randn(rows, t, generator=g)
    ref = lp + 0.3 * torch.randn(rows, t, generator=g)
    lengths = torch.randint(1, t + 1, (rows,), generator=g)
    mask = torch.arange(t).unsqueeze(0) < lengths.unsqueeze(1)
    return (lp, old, torch.randn(rows, generator=g), mask), {"ref_log_probs": ref, "beta": 0.04}


def _student_teacher(n, g, c=32):
    rows = max(2, n // (2 * c))
    return (torch.randn(rows, c, generator=g), torch.randn(rows, c, generator=g)), {"temperature": 2.0}


def _trl_reward(chosen, rejected):
    # trl/trainer/reward_trainer.py, RewardTrainer.compute_loss
    return -F.logsigmoid(chosen - rejected).mean()


def _trl_dpo(pc, pr, rc, rr, beta=0.1):
    # trl/trainer/dpo_trainer.py, DPOTrainer.dpo_loss, loss_type="sigmoid"
    logits = (pc - pr) - (rc.detach() - rr.detach())
    return (-F.logsigmoid(beta * logits)).mean()


def _trl_simpo(c, r, beta=2.0, gamma=1.0):
    # trl/trainer/cpo_trainer.py, CPOTrainer.cpo_loss, loss_type="simpo"
    logits = (c - r) - gamma / beta
    return (-F.logsigmoid(beta * logits)).mean()


def _trl_orpo(c, r, lam=0.1):
    # trl/trainer/orpo_trainer.py, odds_ratio_loss and get_batch_loss_metrics
    log_odds = (c - r) - (torch.log1p(-torch.exp(c)) - torch.log1p(-torch.exp(r)))
    return (-c).mean() - (lam * F.logsigmoid(log_odds)).mean()


def _trl_advantages(rewards, group_size=8):
    # trl/trainer/grpo_trainer.py, _generate_and_score_completions
    grouped = rewards.view(-1, group_size)
    mean = grouped.mean(dim=1).repeat_interleave(group_size, dim=0)
    std = grouped.std(dim=1).repeat_interleave(group_size, dim=0)
    return (rewards - mean) / (std + 1e-4)


def _trl_grpo(lp, old, adv, mask, ref_log_probs=None, beta=0.04):
    # trl/trainer/grpo_trainer.py, GRPOTrainer._compute_loss, loss_type="grpo"
    m = mask.to(lp.dtype)
    kl = torch.exp(ref_log_probs - lp) - (ref_log_probs - lp) - 1
    coef_1 = torch.exp(lp - old)
    coef_2 = torch.clamp(coef_1, 0.8, 1.2)
    per_token = -torch.min(coef_1 * adv.unsqueeze(1), coef_2 * adv.unsqueeze(1)) + beta * kl
    return ((per_token * m).sum(-1) / m.sum(-1).clamp(min=1.0)).mean()


def _kl_div_distillation(s, t, temperature=2.0):
    return temperature**2 * F.kl_div(
        F.log_softmax(s / temperature, 1), F.log_softmax(t / temperature, 1), log_target=True, reduction="batchmean"
    )


SPECS = {
    "bradley_terry_loss": Spec(_reward_pairs, _trl_reward, "formula (TRL's)", (0, 1)),
    "dpo_loss": Spec(_dpo_batch, _trl_dpo, "formula (TRL's)", (0, 1)),
    "simpo_loss": Spec(_avg_pairs, _trl_simpo, "formula (TRL's)", (0, 1)),
    "orpo_loss": Spec(_avg_pairs, _trl_orpo, "formula (TRL's)", (0, 1)),
    "group_advantages": Spec(_group_rewards, _trl_advantages, "formula (TRL's)", ()),
    "grpo_loss": Spec(_grpo_batch, _trl_grpo, "formula (TRL's)"),
    "distillation_loss": Spec(_student_teacher, _kl_div_distillation, "torch built-in"),
}
