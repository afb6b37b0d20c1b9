"""Alignment losses (issue 15): the libraries' conventions and the hard cases.

TRL is not installed (it pulls in transformers, accelerate and datasets, too heavy for the
test budget). Its loss code is transcribed below from the source of huggingface/trl, one
function per loss, with the file and function named; each losslib function is compared
with its transcription:

- ``trl/trainer/reward_trainer.py``, ``RewardTrainer.compute_loss``: the Bradley–Terry loss;
- ``trl/trainer/dpo_trainer.py``, ``DPOTrainer.dpo_loss``: ``loss_type`` ``"sigmoid"`` (with
  ``label_smoothing``, conservative DPO), ``"hinge"`` and ``"ipo"``;
- ``trl/trainer/cpo_trainer.py``, ``CPOTrainer.cpo_loss`` with ``loss_type="simpo"``;
- ``trl/trainer/orpo_trainer.py``, ``ORPOTrainer.odds_ratio_loss`` and the NLL it is
  subtracted from in ``get_batch_loss_metrics``;
- ``trl/trainer/grpo_trainer.py``: the group advantages of ``_generate_and_score_completions``
  and ``_compute_loss`` with ``loss_type`` ``"grpo"``, ``"bnpo"``, ``"dr_grpo"`` and ``"dapo"``
  (one process), its k3 ``per_token_kl``.

``distillation_loss`` is compared with ``torch.nn.functional.kl_div``. Hard cases:
log-probabilities of -1e4 in float32, a log-probability of 0 in ORPO's odds, groups of
identical rewards, an all-padding row (with ``-inf`` in the padding), no gradient into the
reference / old log-probabilities or the teacher; every documented error; hypothesis
properties.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def logps(seed, *shape, scale=3.0, dtype=torch.float64):
    return -(torch.randn(*shape, generator=gen(seed), dtype=torch.float64) * scale).abs().to(dtype)


# ------------------------------------------------------------- TRL, transcribed


def trl_reward_loss(rewards_chosen, rewards_rejected, margin=None):
    """trl/trainer/reward_trainer.py, RewardTrainer.compute_loss."""
    if margin is not None:
        return -F.logsigmoid(rewards_chosen - rewards_rejected - margin).mean()
    return -F.logsigmoid(rewards_chosen - rewards_rejected).mean()


def trl_dpo_loss(
    chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, *, beta, loss_type, label_smoothing=0.0
):
    """trl/trainer/dpo_trainer.py, DPOTrainer.dpo_loss (the three loss types used here)."""
    logratios = chosen_logps - rejected_logps
    ref_logratios = ref_chosen_logps - ref_rejected_logps
    logits = logratios - ref_logratios
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * logits)
    elif loss_type == "ipo":
        # eqn (17) of the paper where beta is the regularization parameter for the IPO loss
        losses = (logits - 1 / (2 * beta)) ** 2
    return losses


def trl_simpo_loss(policy_chosen_logps, policy_rejected_logps, *, beta, simpo_gamma, label_smoothing=0.0):
    """trl/trainer/cpo_trainer.py, CPOTrainer.cpo_loss, loss_type == "simpo"."""
    logits = policy_chosen_logps - policy_rejected_logps
    gamma_logratios = simpo_gamma / beta
    logits = logits - gamma_logratios
    return -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing


def trl_orpo_loss(policy_chosen_logps, policy_rejected_logps, policy_nll_loss, *, beta):
    """trl/trainer/orpo_trainer.py: odds_ratio_loss, then get_batch_loss_metrics's
    ``loss = policy_nll_loss - losses.mean()``."""
    log_odds = (policy_chosen_logps - policy_rejected_logps) - (
        torch.log1p(-torch.exp(policy_chosen_logps)) - torch.log1p(-torch.exp(policy_rejected_logps))
    )
    ratio = F.logsigmoid(log_odds)
    losses = beta * ratio
    return policy_nll_loss - losses.mean()


def trl_grpo_advantages(rewards, num_generations, scale_rewards=True):
    """trl/trainer/grpo_trainer.py, _generate_and_score_completions."""
    mean_grouped_rewards = rewards.view(-1, num_generations).mean(dim=1)
    std_grouped_rewards = rewards.view(-1, num_generations).std(dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
    std_grouped_rewards = std_grouped_rewards.repeat_interleave(num_generations, dim=0)
    advantages = rewards - mean_grouped_rewards
    if scale_rewards:
        advantages = advantages / (std_grouped_rewards + 1e-4)
    return advantages


def trl_grpo_loss(
    per_token_logps,
    old_per_token_logps,
    advantages,
    completion_mask,
    *,
    ref_per_token_logps=None,
    beta=0.0,
    epsilon_low=0.2,
    epsilon_high=0.2,
    loss_type="grpo",
    max_completion_length=None,
):
    """trl/trainer/grpo_trainer.py, GRPOTrainer._compute_loss (one process, no
    gradient accumulation: ``num_items_in_batch`` is the number of completion tokens)."""
    if beta != 0.0:
        per_token_kl = torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
    coef_1 = torch.exp(per_token_logps - old_per_token_logps)
    coef_2 = torch.clamp(coef_1, 1 - epsilon_low, 1 + epsilon_high)
    per_token_loss1 = coef_1 * advantages.unsqueeze(1)
    per_token_loss2 = coef_2 * advantages.unsqueeze(1)
    per_token_loss = -torch.min(per_token_loss1, per_token_loss2)
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    if loss_type == "grpo":
        loss = ((per_token_loss * completion_mask).sum(-1) / completion_mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * completion_mask).sum() / completion_mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * completion_mask).sum() / (per_token_loss.size(0) * max_completion_length)
    elif loss_type == "dapo":
        normalizer = completion_mask.sum()
        loss = (per_token_loss * completion_mask).sum() / normalizer
    return loss


# ---------------------------------------------------------- equality with TRL


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [None, 0.7])
def test_bradley_terry_equals_trl_reward_trainer(seed, margin):
    g = gen(seed)
    c, r = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(16, generator=g, dtype=torch.float64)
    got = losslib.bradley_terry_loss(c, r, margin=0.0 if margin is None else margin)
    torch.testing.assert_close(got, trl_reward_loss(c, r, margin))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("kind", "beta", "smoothing"),
    [("sigmoid", 0.1, 0.0), ("sigmoid", 0.3, 0.2), ("sigmoid", 1.0, 0.5), ("hinge", 0.1, 0.0), ("ipo", 0.5, 0.0)],
)
def test_dpo_equals_trl_dpo_trainer(seed, kind, beta, smoothing):
    args = [logps(seed * 4 + i, 16, scale=20.0) for i in range(4)]
    got = losslib.dpo_loss(*args, beta=beta, kind=kind, label_smoothing=smoothing, reduction="none")
    want = trl_dpo_loss(*args, beta=beta, loss_type=kind, label_smoothing=smoothing)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("beta", "gamma"), [(2.0, 1.0), (2.5, 0.5), (10.0, 3.0), (1.0, 0.0)])
def test_simpo_equals_trl_cpo_trainer(seed, beta, gamma):
    c, r = logps(seed, 16, scale=1.0), logps(seed + 100, 16, scale=1.0)
    got = losslib.simpo_loss(c, r, beta=beta, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, trl_simpo_loss(c, r, beta=beta, simpo_gamma=gamma))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam", [0.1, 0.5, 1.0])
def test_orpo_equals_trl_orpo_trainer(seed, lam):
    # equal chosen lengths: TRL's token-averaged NLL of the chosen tokens is then the mean of -c
    c, r = logps(seed, 16, scale=1.0), logps(seed + 100, 16, scale=1.0)
    got = losslib.orpo_loss(c, r, lam=lam)
    torch.testing.assert_close(got, trl_orpo_loss(c, r, (-c).mean(), beta=lam))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", [True, False])
def test_group_advantages_equal_trl_grpo_trainer(seed, scale):
    rewards = torch.randn(24, generator=gen(seed), dtype=torch.float64)
    got = losslib.group_advantages(rewards, group_size=8, scale=scale)
    torch.testing.assert_close(got, trl_grpo_advantages(rewards, 8, scale))


def grpo_batch(seed, rows=8, cols=7, dtype=torch.float64):
    g = gen(seed)
    lp = -torch.rand(rows, cols, generator=g, dtype=torch.float64) * 3
    old = lp + 0.3 * torch.randn(rows, cols, generator=g, dtype=torch.float64)
    ref = lp + 0.3 * torch.randn(rows, cols, generator=g, dtype=torch.float64)
    adv = torch.randn(rows, generator=g, dtype=torch.float64)
    lengths = torch.randint(1, cols + 1, (rows,), generator=g)
    mask = torch.arange(cols).unsqueeze(0) < lengths.unsqueeze(1)
    return lp.to(dtype), old.to(dtype), adv.to(dtype), mask, ref.to(dtype)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("normalization", "loss_type"),
    [("sequence", "grpo"), ("token", "bnpo"), ("token", "dapo"), ("constant", "dr_grpo")],
)
@pytest.mark.parametrize("beta", [0.0, 0.04])
def test_grpo_equals_trl_grpo_trainer(seed, normalization, loss_type, beta):
    lp, old, adv, mask, ref = grpo_batch(seed)
    got = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=beta, normalization=normalization)
    want = trl_grpo_loss(
        lp, old, adv, mask.double(), ref_per_token_logps=ref, beta=beta, loss_type=loss_type,
        max_completion_length=lp.shape[1],
    )  # fmt: skip
    torch.testing.assert_close(got, want)


# ------------------------------------------------------------ distillation


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_forward_distillation_equals_torch_kl_div_batchmean(seed, temperature):
    g = gen(seed)
    s, t = torch.randn(10, 7, generator=g, dtype=torch.float64), torch.randn(10, 7, generator=g, dtype=torch.float64)
    got = losslib.distillation_loss(s, t, temperature=temperature)
    want = temperature**2 * F.kl_div(
        F.log_softmax(s / temperature, 1), F.log_softmax(t / temperature, 1), log_target=True, reduction="batchmean"
    )
    torch.testing.assert_close(got, want)
    # the probabilities form of the target, as most distillation code writes it
    want_probs = temperature**2 * F.kl_div(
        F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1), reduction="batchmean"
    )
    torch.testing.assert_close(got, want_probs)


@pytest.mark.parametrize("seed", [0, 1])
def test_reverse_distillation_swaps_the_arguments_of_kl_div(seed):
    g = gen(seed)
    s, t = (
        torch.randn(6, 5, 3, generator=g, dtype=torch.float64),
        torch.randn(6, 5, 3, generator=g, dtype=torch.float64),
    )
    got = losslib.distillation_loss(s, t, temperature=2.0, direction="reverse", reduction="none")
    want = 4.0 * F.kl_div(F.log_softmax(t / 2, 1), F.log_softmax(s / 2, 1), log_target=True, reduction="none").sum(1)
    torch.testing.assert_close(got, want)
    assert got.shape == (6, 3)


# --------------------------------------------------------------- hard cases


def test_log_probabilities_of_minus_1e4_in_float32_are_finite():
    big = torch.full((4,), -1e4, dtype=torch.float32)
    other = torch.tensor([-1e4, -9e3, -1.0, -5e3], dtype=torch.float32)
    for fn, args in (
        (losslib.dpo_loss, (big, other, other, big)),
        (losslib.simpo_loss, (big, other)),
        (losslib.orpo_loss, (big, other)),
    ):
        x = [a.clone().requires_grad_(True) for a in args]
        for kind in ("sigmoid", "hinge", "ipo") if fn is losslib.dpo_loss else (None,):
            loss = fn(*x, kind=kind) if kind else fn(*x)
            grads = torch.autograd.grad(loss, x[:2])
            assert torch.isfinite(loss)
            assert all(torch.isfinite(g_).all() for g_ in grads)
    lp = torch.full((2, 3), -1e4, requires_grad=True)
    loss = losslib.grpo_loss(
        lp, lp.detach() + 0.1, torch.ones(2), torch.ones(2, 3), ref_log_probs=lp.detach(), beta=0.1
    )
    (grad,) = torch.autograd.grad(loss, lp)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_orpo_log_probability_zero_has_the_documented_finite_odds(dtype):
    chosen = torch.tensor([0.0, -0.5], dtype=dtype, requires_grad=True)
    rejected = torch.tensor([-1.0, 0.0], dtype=dtype)
    loss = losslib.orpo_loss(chosen, rejected, lam=1.0, reduction="none")
    assert torch.isfinite(loss).all()
    (grad,) = torch.autograd.grad(loss.sum(), chosen)
    assert torch.isfinite(grad).all()
    # the documented behaviour: odds evaluated at -eps of the dtype
    eps = torch.finfo(dtype).eps
    odds_at_one = -eps - math.log(-math.expm1(-eps))
    odds = lambda v: v - math.log(-math.expm1(v))  # noqa: E731
    want0 = 0.0 - math.log(1 / (1 + math.exp(-(odds_at_one - odds(-1.0)))))
    tol = {"rtol": 2e-2, "atol": 2e-2} if dtype == torch.bfloat16 else {"rtol": 1e-5, "atol": 1e-6}
    torch.testing.assert_close(loss[0].double(), torch.tensor(want0, dtype=torch.float64), **tol)
    # a log-probability of 0 has the largest odds: the pair (0, -1) beats any (c < 0, -1)
    assert (
        float(loss[0].detach())
        <= float(losslib.orpo_loss(torch.tensor([-1e-3], dtype=dtype), rejected[:1], lam=1.0)) + 1e-3
    )
    # the chosen NLL term keeps its gradient at probability 1
    assert float(grad[0]) == pytest.approx(-1.0, abs=1e-2)


@pytest.mark.parametrize("eps", [1e-4, 0.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_identical_rewards_give_zero_advantages_not_nan(eps, dtype):
    rewards = torch.tensor([0.1, 0.1, 0.1, 0.1, 1.0, 0.0, 1.0, 1.0], dtype=dtype)
    adv = losslib.group_advantages(rewards, group_size=4, eps=eps)
    assert torch.isfinite(adv).all()
    assert torch.equal(adv[:4], torch.zeros(4, dtype=dtype))
    assert (adv[4:] != 0).all()


@pytest.mark.parametrize("normalization", ["sequence", "token", "constant"])
@pytest.mark.parametrize("beta", [0.0, 0.1])
def test_all_padding_row_gives_no_nan_even_with_inf_in_the_padding(normalization, beta):
    lp, old, adv, mask, ref = grpo_batch(0, rows=4, cols=5)
    mask[1] = False
    poisoned = lp.clone()
    poisoned[~mask] = float("-inf")
    old_poisoned = old.clone()
    old_poisoned[~mask] = float("nan")
    x = poisoned.requires_grad_(True)
    loss = losslib.grpo_loss(x, old_poisoned, adv, mask, ref_log_probs=ref, beta=beta, normalization=normalization)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert (grad[~mask] == 0).all()
    clean = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=beta, normalization=normalization)
    torch.testing.assert_close(loss, clean)


def test_all_padding_batch_gives_zero():
    lp = torch.randn(3, 4).requires_grad_(True)
    for normalization in ("sequence", "token", "constant"):
        loss = losslib.grpo_loss(lp, lp.detach(), torch.ones(3), torch.zeros(3, 4), normalization=normalization)
        assert float(loss.detach()) == 0.0


def test_sequence_normalisation_counts_an_all_padding_row_in_the_batch_mean_as_trl():
    lp, old, adv, mask, _ = grpo_batch(1, rows=4, cols=5)
    mask[2] = False
    got = losslib.grpo_loss(lp, old, adv, mask)
    keep = [0, 1, 3]
    without = losslib.grpo_loss(lp[keep], old[keep], adv[keep], mask[keep])
    torch.testing.assert_close(got, without * 3 / 4)


def test_no_gradient_reaches_reference_old_log_probs_advantages_or_teacher():
    g = gen(3)
    leaves = [torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(4)]
    pc, pr, rc, rr = leaves
    for kind in ("sigmoid", "hinge", "ipo"):
        loss = losslib.dpo_loss(-pc.abs(), -pr.abs(), -rc.abs(), -rr.abs(), kind=kind, beta=0.5)
        grads = torch.autograd.grad(loss, leaves, allow_unused=True)
        assert grads[2] is None and grads[3] is None
        assert grads[0] is not None and grads[1] is not None

    lp, old, adv, mask, ref = (t.clone() for t in grpo_batch(2))
    lp.requires_grad_(True)
    old.requires_grad_(True)
    adv.requires_grad_(True)
    ref.requires_grad_(True)
    loss = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=0.1)
    grads = torch.autograd.grad(loss, [lp, old, adv, ref], allow_unused=True)
    assert grads[0] is not None and grads[1] is None and grads[2] is None and grads[3] is None

    rewards = torch.randn(8, requires_grad=True)
    assert not losslib.group_advantages(rewards, group_size=4).requires_grad

    s = torch.randn(4, 3, requires_grad=True)
    t = torch.randn(4, 3, requires_grad=True)
    for direction in ("forward", "reverse"):
        grads = torch.autograd.grad(losslib.distillation_loss(s, t, direction=direction), [s, t], allow_unused=True)
        assert grads[0] is not None and grads[1] is None


def test_grpo_accepts_bool_integer_and_floating_masks_alike():
    lp, old, adv, mask, _ = grpo_batch(4)
    want = losslib.grpo_loss(lp, old, adv, mask)
    for other in (mask.long(), mask.int(), mask.double(), mask.float()):
        torch.testing.assert_close(losslib.grpo_loss(lp, old, adv, other), want)


# ------------------------------------------------------------------ errors


def test_documented_errors():
    x = torch.randn(4)
    lp = -x.abs()
    with pytest.raises(ValueError, match="beta must be positive"):
        losslib.dpo_loss(lp, lp, lp, lp, beta=0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        losslib.dpo_loss(lp, lp, lp, lp, kind="robust")
    with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0.0, 0.5\]"):
        losslib.dpo_loss(lp, lp, lp, lp, label_smoothing=0.7)
    with pytest.raises(ValueError, match="label_smoothing applies to kind='sigmoid' only"):
        losslib.dpo_loss(lp, lp, lp, lp, kind="ipo", label_smoothing=0.1)
    with pytest.raises(ValueError, match="ref_rejected_logps must have the shape"):
        losslib.dpo_loss(lp, lp, lp, lp[:3])
    with pytest.raises(ValueError, match=r"must have shape \[B\]"):
        losslib.dpo_loss(lp[None], lp[None], lp[None], lp[None])
    with pytest.raises(TypeError, match="margin must be a real number"):
        losslib.bradley_terry_loss(x, x, margin="1")
    with pytest.raises(ValueError, match="gamma must be non-negative"):
        losslib.simpo_loss(lp, lp, gamma=-1.0)
    with pytest.raises(ValueError, match="beta must be positive"):
        losslib.simpo_loss(lp, lp, beta=-2.0)
    with pytest.raises(ValueError, match="lam must be non-negative"):
        losslib.orpo_loss(lp, lp, lam=-0.1)
    with pytest.raises(ValueError, match="chosen_avg_logps must hold values <= 0.0"):
        losslib.orpo_loss(x.abs() + 0.1, lp)
    with pytest.raises(ValueError, match="rejected_avg_logps must hold values <= 0.0"):
        losslib.orpo_loss(lp, x.abs() + 0.1)
    with losslib.value_checks(False):
        losslib.orpo_loss(lp, x.abs() + 0.1)  # the value check is switchable

    rewards = torch.randn(8)
    with pytest.raises(ValueError, match="rewards must hold whole groups"):
        losslib.group_advantages(rewards, group_size=3)
    with pytest.raises(ValueError, match="group_size must be at least 2"):
        losslib.group_advantages(rewards, group_size=1)
    with pytest.raises(TypeError, match="group_size must be a positive int"):
        losslib.group_advantages(rewards, group_size=4.0)
    with pytest.raises(TypeError, match="scale must be a bool"):
        losslib.group_advantages(rewards, group_size=4, scale=1)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        losslib.group_advantages(rewards, group_size=4, eps=-1.0)
    with pytest.raises(ValueError, match=r"rewards must have shape \[P \* group_size\]"):
        losslib.group_advantages(rewards.view(2, 4), group_size=4)

    lp2, old, adv, mask, ref = grpo_batch(0)
    with pytest.raises(ValueError, match="ref_log_probs must be given when beta > 0"):
        losslib.grpo_loss(lp2, old, adv, mask, beta=0.1)
    with pytest.raises(ValueError, match="normalization must be one of"):
        losslib.grpo_loss(lp2, old, adv, mask, normalization="batch")
    with pytest.raises(ValueError, match=r"clip_eps must lie in \(0.0, 1.0\)"):
        losslib.grpo_loss(lp2, old, adv, mask, clip_eps=1.5)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        losslib.grpo_loss(lp2, old, adv, mask, beta=-0.1)
    with pytest.raises(ValueError, match=r"advantages must have shape \[B\]"):
        losslib.grpo_loss(lp2, old, adv[:-1], mask)
    with pytest.raises(ValueError, match="mask must have the shape"):
        losslib.grpo_loss(lp2, old, adv, mask[:, :-1])
    with pytest.raises(ValueError, match="mask must hold 0 or 1"):
        losslib.grpo_loss(lp2, old, adv, mask.double() * 2)
    with pytest.raises(ValueError, match="ref_log_probs must have the shape"):
        losslib.grpo_loss(lp2, old, adv, mask, ref_log_probs=ref[:, :-1], beta=0.1)
    with pytest.raises(ValueError, match=r"log_probs must have shape \[B, T\]"):
        losslib.grpo_loss(lp2[0], old[0], adv[:1], mask[0])

    s = torch.randn(3, 4)
    with pytest.raises(ValueError, match="temperature must be positive"):
        losslib.distillation_loss(s, s, temperature=0.0)
    with pytest.raises(ValueError, match="direction must be one of"):
        losslib.distillation_loss(s, s, direction="symmetric")
    with pytest.raises(ValueError, match="teacher_logits must have the shape"):
        losslib.distillation_loss(s, s[:, :3])
    with pytest.raises(ValueError, match=r"student_logits must have shape \[N, C\]"):
        losslib.distillation_loss(s[0], s[0])


# --------------------------------------------------------------- properties


@PROPERTY
@given(seed=SEEDS, shift=st.floats(-50, 50), beta=st.floats(0.05, 2.0))
def test_dpo_depends_on_the_log_ratios_only(seed, shift, beta):
    """Adding the same constant to a completion's policy and reference log-probabilities
    (a token both models agree on) leaves every DPO variant unchanged; Δ = 0 gives log 2."""
    pc, pr, rc, rr = (logps(seed + i, 6) for i in range(4))
    for kind in ("sigmoid", "hinge", "ipo"):
        base = losslib.dpo_loss(pc, pr, rc, rr, beta=beta, kind=kind, reduction="none")
        shifted = losslib.dpo_loss(
            pc + shift, pr - shift, rc + shift, rr - shift, beta=beta, kind=kind, reduction="none"
        )
        torch.testing.assert_close(shifted, base)
    at_zero = losslib.dpo_loss(pc, pr, pc, pr, beta=beta, reduction="none")
    torch.testing.assert_close(at_zero, torch.full_like(at_zero, math.log(2.0)))


@PROPERTY
@given(seed=SEEDS, beta=st.floats(0.1, 5.0))
def test_simpo_without_margin_is_bradley_terry_of_the_scaled_rewards(seed, beta):
    c, r = logps(seed, 6, scale=1.0), logps(seed + 1, 6, scale=1.0)
    torch.testing.assert_close(
        losslib.simpo_loss(c, r, beta=beta, gamma=0.0, reduction="none"),
        losslib.bradley_terry_loss(beta * c, beta * r, reduction="none"),
    )


@PROPERTY
@given(seed=SEEDS)
def test_orpo_with_lam_zero_is_the_nll_and_the_penalty_prefers_the_chosen(seed):
    c, r = logps(seed, 6, scale=1.0), logps(seed + 1, 6, scale=1.0)
    torch.testing.assert_close(losslib.orpo_loss(c, r, lam=0.0, reduction="none"), -c)
    penalty = losslib.orpo_loss(c, r, lam=1.0, reduction="none") + c
    swapped = losslib.orpo_loss(r, c, lam=1.0, reduction="none") + r
    # the odds are increasing in the log-probability: the better-liked side pays less
    assert ((penalty < swapped) == (c > r)).all()


@PROPERTY
@given(seed=SEEDS, a=st.floats(0.1, 10.0), b=st.floats(-10.0, 10.0))
def test_group_advantages_sum_to_zero_and_ignore_affine_reward_changes(seed, a, b):
    rewards = torch.randn(12, generator=gen(seed), dtype=torch.float64)
    adv = losslib.group_advantages(rewards, group_size=4, eps=0.0)
    torch.testing.assert_close(adv.view(3, 4).sum(1), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(losslib.group_advantages(a * rewards + b, group_size=4, eps=0.0), adv)


@PROPERTY
@given(seed=SEEDS)
def test_grpo_at_ratio_one_is_minus_the_mean_advantage_and_gradient_is_policy_gradient(seed):
    lp, _, adv, mask, _ = grpo_batch(seed % 1000)
    mask[:, 0] = True  # no empty row
    x = lp.clone().requires_grad_(True)
    loss = losslib.grpo_loss(x, lp, adv, mask)
    torch.testing.assert_close(loss, -adv.mean())
    (grad,) = torch.autograd.grad(loss, x)
    counts = mask.sum(1, keepdim=True).double()
    torch.testing.assert_close(grad, -(adv[:, None] / counts) * mask / lp.shape[0])


@PROPERTY
@given(seed=SEEDS)
def test_equal_lengths_make_sequence_and_token_normalisation_agree(seed):
    lp, old, adv, _, ref = grpo_batch(seed % 1000)
    mask = torch.ones_like(lp, dtype=torch.bool)
    seq = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=0.1)
    tok = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=0.1, normalization="token")
    const = losslib.grpo_loss(lp, old, adv, mask, ref_log_probs=ref, beta=0.1, normalization="constant")
    torch.testing.assert_close(seq, tok)
    torch.testing.assert_close(seq, const)


@PROPERTY
@given(seed=SEEDS, temperature=st.floats(0.5, 8.0))
def test_distillation_is_zero_at_the_teacher_and_positive_elsewhere(seed, temperature):
    g = gen(seed)
    t = torch.randn(5, 6, generator=g, dtype=torch.float64)
    s = torch.randn(5, 6, generator=g, dtype=torch.float64)
    for direction in ("forward", "reverse"):
        at_teacher = losslib.distillation_loss(t, t, temperature=temperature, direction=direction, reduction="none")
        torch.testing.assert_close(at_teacher, torch.zeros(5, dtype=torch.float64), atol=1e-12, rtol=0)
        assert (
            losslib.distillation_loss(s, t, temperature=temperature, direction=direction, reduction="none") > 0
        ).all()
    # invariant to a constant added to a row of logits (softmax is)
    torch.testing.assert_close(
        losslib.distillation_loss(s + 3.0, t - 2.0, temperature=temperature),
        losslib.distillation_loss(s, t, temperature=temperature),
    )


def test_t_squared_keeps_the_gradient_scale_at_high_temperature():
    """For large T the gradient of T²·KL in the logits tends to (z_s - z_t)/C - mean terms,
    independent of T (Hinton et al. 2015, zero-mean logits)."""
    g = gen(5)
    s = torch.randn(1, 10, generator=g, dtype=torch.float64)
    t = torch.randn(1, 10, generator=g, dtype=torch.float64)
    s, t = s - s.mean(), t - t.mean()
    grads = []
    for temperature in (50.0, 200.0, 1000.0):
        x = s.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(losslib.distillation_loss(x, t, temperature=temperature), x)
        grads.append(grad)
    limit = (s - t) / 10
    for grad in grads:
        torch.testing.assert_close(grad, limit, rtol=0.05, atol=1e-3)
