r"""Aligning language models: reward models, DPO and its relatives, GRPO and distillation (book Part XI).

Preference losses take per-sequence log-probabilities ``[B]`` of a chosen (preferred) and a
rejected completion of the same prompt: summed over the completion's tokens, or their
per-token mean where an argument's name says *avg*. Reference-model inputs, the old
policy's log-probabilities, advantages and a teacher's logits are constants of the loss:
no gradient reaches them.

- :func:`bradley_terry_loss`: the reward-model loss of RLHF;
- :func:`dpo_loss` (with its ``"hinge"`` and ``"ipo"`` variants), :func:`simpo_loss` and
  :func:`orpo_loss`: preference optimisation without a reward model;
- :func:`group_advantages` and :func:`grpo_loss`: GRPO's group-relative RL objective;
- :func:`distillation_loss`: Hinton's soft-target loss, forward or reverse KL.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "bradley_terry_loss",
    "dpo_loss",
    "simpo_loss",
    "orpo_loss",
    "group_advantages",
    "grpo_loss",
    "distillation_loss",
]

DPO_KINDS = ("sigmoid", "hinge", "ipo")
GRPO_NORMALIZATIONS = ("sequence", "token", "constant")
KL_DIRECTIONS = ("forward", "reverse")


def _check_per_sequence(*names_and_tensors: tuple[str, torch.Tensor]) -> None:
    """Per-sequence scores: floating ``[B]``, non-empty, all of one shape."""
    first_name, first = names_and_tensors[0]
    for name, tensor in names_and_tensors:
        V.check_floating(name, tensor)
        V.check_ndim(name, tensor, 1, "[B]")
        V.check_nonempty(name, tensor)
        V.check_same_shape(first_name, first, name, tensor)


def _constant(tensor: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``tensor`` detached, in the dtype of ``like``: a constant of the loss."""
    return tensor.detach().to(like.dtype)


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(1 - e^{x})` for :math:`x < 0`, stable at both ends (Mächler's split at
    :math:`-\log 2`: ``log(-expm1(x))`` near 0, ``log1p(-exp(x))`` far below)."""
    near_zero = x > -math.log(2.0)
    return torch.where(near_zero, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


@register(
    family="alignment",
    summary="Reward-model loss of RLHF: -log σ(r_chosen - r_rejected - margin), the Bradley–Terry likelihood.",
    cite="ouyang2022training",
    chapter="alignment/preference",
    reference="trl.RewardTrainer.compute_loss (transcribed)",
)
def bradley_terry_loss(
    chosen_rewards: torch.Tensor,
    rejected_rewards: torch.Tensor,
    *,
    margin: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Bradley–Terry (pairwise logistic) loss of a reward model.

    .. math::
        \ell = -\log \sigma\bigl(r_\phi(x, y_c) - r_\phi(x, y_r) - m\bigr)

    the negative log-likelihood of the preference :math:`y_c \succ y_r` under the
    Bradley–Terry model :math:`P(y_c \succ y_r) = \sigma(r_c - r_r)`, with an optional
    margin :math:`m` (Llama 2's graded preferences).

    Args:
        chosen_rewards: the scalar rewards :math:`r_\phi(x, y_c)` of the chosen completions, ``[B]``.
        rejected_rewards: the rewards of the rejected completions, ``[B]``.
        margin: :math:`m`, a real number (0: the plain Bradley–Terry loss).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the Bradley–Terry model of paired comparisons (1952), used as the
    reward-model loss by :cite:t:`christiano2017deep` and :cite:t:`ouyang2022training`. Equivalent: TRL's
    ``RewardTrainer.compute_loss`` (``-logsigmoid(r_c - r_r - margin).mean()``).
    """
    V.check_reduction(reduction)
    V.check_real("margin", margin)
    _check_per_sequence(("chosen_rewards", chosen_rewards), ("rejected_rewards", rejected_rewards))
    per_pair = -F.logsigmoid(chosen_rewards - rejected_rewards.to(chosen_rewards.dtype) - margin)
    return V.reduce(per_pair, reduction)


@register(
    family="alignment",
    summary="DPO: -log σ(β[(π_c - ref_c) - (π_r - ref_r)]), with conservative smoothing, hinge and IPO variants.",
    cite="rafailov2023direct",
    chapter="alignment/preference",
    reference="trl.DPOTrainer.dpo_loss (transcribed)",
)
def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    *,
    beta: float = 0.1,
    kind: str = "sigmoid",
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Direct preference optimisation and two of its variants.

    .. math::
        \Delta = \bigl(\log\pi_\theta(y_c) - \log\pi_{\text{ref}}(y_c)\bigr)
               - \bigl(\log\pi_\theta(y_r) - \log\pi_{\text{ref}}(y_r)\bigr)

    .. math::
        \ell_{\text{sigmoid}} = -(1 - \varepsilon)\log\sigma(\beta\Delta) - \varepsilon\log\sigma(-\beta\Delta),
        \quad \ell_{\text{hinge}} = \max(0, 1 - \beta\Delta),
        \quad \ell_{\text{ipo}} = \Bigl(\Delta - \frac{1}{2\beta}\Bigr)^2

    :math:`\beta\Delta` is the difference of the implicit rewards
    :math:`\beta\log(\pi_\theta/\pi_{\text{ref}})` of the two completions. The reference
    log-probabilities are constants: no gradient reaches them.

    Args:
        policy_chosen_logps: :math:`\log\pi_\theta(y_c \mid x)` of the policy, ``[B]``
            (summed over tokens; for ``kind="ipo"`` the paper's setting is the per-token mean).
        policy_rejected_logps: :math:`\log\pi_\theta(y_r \mid x)`, ``[B]``.
        ref_chosen_logps: :math:`\log\pi_{\text{ref}}(y_c \mid x)` of the frozen reference, ``[B]``.
        ref_rejected_logps: :math:`\log\pi_{\text{ref}}(y_r \mid x)`, ``[B]``.
        beta: :math:`\beta > 0`, the strength of the KL regularisation (IPO's :math:`\tau`).
        kind: ``"sigmoid"`` (DPO), ``"hinge"`` (SLiC-style) or ``"ipo"``.
        label_smoothing: :math:`\varepsilon \in [0, 0.5]`, the assumed probability that a
            preference label is flipped (conservative DPO); only with ``kind="sigmoid"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Raises:
        ValueError: ``label_smoothing`` not 0 with a ``kind`` other than ``"sigmoid"``.

    Reference: :cite:t:`rafailov2023direct`; IPO of :cite:t:`azar2023general`.
    Equivalent: TRL's ``DPOTrainer.dpo_loss`` with ``loss_type`` of the same name.
    """
    V.check_reduction(reduction)
    V.check_real("beta", beta)
    V.check_positive("beta", beta)
    V.check_choice("kind", kind, DPO_KINDS)
    V.check_real("label_smoothing", label_smoothing)
    V.check_in_interval("label_smoothing", label_smoothing, 0.0, 0.5, closed=True)
    if label_smoothing != 0 and kind != "sigmoid":
        raise ValueError(f"label_smoothing applies to kind='sigmoid' only, got kind={kind!r}")
    _check_per_sequence(
        ("policy_chosen_logps", policy_chosen_logps),
        ("policy_rejected_logps", policy_rejected_logps),
        ("ref_chosen_logps", ref_chosen_logps),
        ("ref_rejected_logps", ref_rejected_logps),
    )
    like = policy_chosen_logps
    ref_logratios = _constant(ref_chosen_logps, like) - _constant(ref_rejected_logps, like)
    delta = (policy_chosen_logps - policy_rejected_logps.to(like.dtype)) - ref_logratios
    if kind == "sigmoid":
        per_pair = -F.logsigmoid(beta * delta)
        if label_smoothing:
            per_pair = (1.0 - label_smoothing) * per_pair - label_smoothing * F.logsigmoid(-beta * delta)
    elif kind == "hinge":
        per_pair = torch.relu(1.0 - beta * delta)
    else:
        per_pair = (delta - 1.0 / (2.0 * beta)) ** 2
    return V.reduce(per_pair, reduction)


@register(
    family="alignment",
    summary="SimPO: -log σ(β(avg log π_c - avg log π_r) - γ), length-normalised, no reference model.",
    cite="meng2024simpo",
    chapter="alignment/preference",
    reference="trl.CPOTrainer.cpo_loss, loss_type='simpo' (transcribed)",
)
def simpo_loss(
    chosen_avg_logps: torch.Tensor,
    rejected_avg_logps: torch.Tensor,
    *,
    beta: float = 2.0,
    gamma: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Simple preference optimisation (SimPO).

    .. math::
        \ell = -\log\sigma\Bigl(\frac{\beta}{|y_c|}\log\pi_\theta(y_c)
               - \frac{\beta}{|y_r|}\log\pi_\theta(y_r) - \gamma\Bigr)

    The implicit reward is the policy's mean per-token log-probability times
    :math:`\beta`; the target reward margin :math:`\gamma` asks the chosen completion to
    win by at least that much. No reference model enters.

    Args:
        chosen_avg_logps: :math:`\frac{1}{|y_c|}\log\pi_\theta(y_c \mid x)`, the per-token mean, ``[B]``.
        rejected_avg_logps: the same for the rejected completions, ``[B]``.
        beta: :math:`\beta > 0`, the reward scale.
        gamma: :math:`\gamma \ge 0`, the target reward margin.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`meng2024simpo`. Equivalent: TRL's ``CPOTrainer`` with
    ``loss_type="simpo"`` (it writes ``-logsigmoid(β(c - r - γ/β))``, the same number).
    """
    V.check_reduction(reduction)
    V.check_real("beta", beta)
    V.check_positive("beta", beta)
    V.check_real("gamma", gamma)
    V.check_nonnegative("gamma", gamma)
    _check_per_sequence(("chosen_avg_logps", chosen_avg_logps), ("rejected_avg_logps", rejected_avg_logps))
    margin = chosen_avg_logps - rejected_avg_logps.to(chosen_avg_logps.dtype)
    return V.reduce(-F.logsigmoid(beta * margin - gamma), reduction)


@register(
    family="alignment",
    summary="ORPO: NLL of the chosen completion + λ·(-log σ(log odds_c - log odds_r)), no reference model.",
    cite="hong2024orpo",
    chapter="alignment/preference",
    reference="trl.ORPOTrainer.odds_ratio_loss (transcribed)",
)
def orpo_loss(
    chosen_avg_logps: torch.Tensor,
    rejected_avg_logps: torch.Tensor,
    *,
    lam: float = 0.1,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Odds-ratio preference optimisation (ORPO).

    .. math::
        \operatorname{odds}(\ell) = \ell - \log\bigl(1 - e^{\ell}\bigr), \qquad
        \ell_{\text{ORPO}} = -c + \lambda\,\bigl(-\log\sigma(\operatorname{odds}(c) - \operatorname{odds}(r))\bigr)

    with :math:`c, r` the mean per-token log-probabilities of the chosen and rejected
    completions: the supervised NLL of the chosen completion plus a log-odds-ratio penalty.
    :math:`\log(1 - e^{\ell})` is computed stably (``log1mexp``).

    A log-probability of 0 (probability 1) has infinite odds. The odds are therefore
    evaluated at :math:`\min(\ell, -\epsilon)` with :math:`\epsilon` the machine epsilon of
    the dtype (float32: odds at most about 15.9): finite values, and no gradient through the
    odds term for :math:`\ell > -\epsilon` (the NLL term keeps its gradient).

    Args:
        chosen_avg_logps: :math:`c`, the per-token mean log-probability of the chosen
            completions, ``[B]``, values ``<= 0`` (a value check).
        rejected_avg_logps: :math:`r`, the same for the rejected completions, ``[B]``, ``<= 0``.
        lam: :math:`\lambda \ge 0`, the weight of the odds-ratio term (TRL's ``beta``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hong2024orpo`. Equivalent: TRL's ``ORPOTrainer``: ``odds_ratio_loss``
    gives :math:`\lambda\log\sigma(\cdot)` and the trainer subtracts its mean from the NLL
    of the chosen tokens (averaged over the batch's tokens, which equals the mean of
    :math:`-c` when the chosen completions have equal lengths).
    """
    V.check_reduction(reduction)
    V.check_real("lam", lam)
    V.check_nonnegative("lam", lam)
    _check_per_sequence(("chosen_avg_logps", chosen_avg_logps), ("rejected_avg_logps", rejected_avg_logps))
    V.check_at_most("chosen_avg_logps", chosen_avg_logps, 0.0)
    V.check_at_most("rejected_avg_logps", rejected_avg_logps, 0.0)
    rejected = rejected_avg_logps.to(chosen_avg_logps.dtype)
    ceiling = -torch.finfo(chosen_avg_logps.dtype).eps

    def log_odds(logp: torch.Tensor) -> torch.Tensor:
        logp = logp.clamp(max=ceiling)
        return logp - _log1mexp(logp)

    odds_ratio = log_odds(chosen_avg_logps) - log_odds(rejected)
    per_pair = -chosen_avg_logps - lam * F.logsigmoid(odds_ratio)
    return V.reduce(per_pair, reduction)


@register(
    family="alignment",
    summary="GRPO's group-relative advantages (r - mean_group) / (std_group + eps), without gradient.",
    cite="shao2024deepseekmath",
    chapter="alignment/grpo",
    reference="trl.GRPOTrainer advantages (transcribed)",
)
def group_advantages(
    rewards: torch.Tensor,
    *,
    group_size: int,
    scale: bool = True,
    eps: float = 1e-4,
) -> torch.Tensor:
    r"""Group-relative advantages of GRPO.

    .. math::
        \hat A_{g,i} = \frac{r_{g,i} - \bar r_g}{s_g + \epsilon}, \qquad
        \bar r_g = \frac{1}{G}\sum_{j} r_{g,j}, \quad
        s_g = \sqrt{\tfrac{1}{G - 1}\textstyle\sum_j (r_{g,j} - \bar r_g)^2}

    for the :math:`G` completions :math:`i` of prompt :math:`g`; the group mean is the
    baseline that replaces a value network. ``scale=False`` keeps only the centring (Dr. GRPO).
    A group whose rewards are all equal gets advantages exactly 0 (not NaN, whatever ``eps``).
    The advantages are targets and carry no gradient.

    Args:
        rewards: ``[P · G]``, the rewards of :math:`P` prompts' completions in consecutive
            groups of ``group_size``.
        group_size: :math:`G \ge 2`, the completions per prompt.
        scale: divide by the group's standard deviation (unbiased, as ``torch.std``) plus ``eps``.
        eps: :math:`\epsilon \ge 0`, added to the standard deviation.

    Returns:
        The advantages, the shape of ``rewards``, detached.

    Reference: :cite:t:`shao2024deepseekmath`; ``scale=False`` as :cite:t:`liu2025understanding`.
    Equivalent: TRL's ``GRPOTrainer`` (``std(dim=1)``, ``+ 1e-4``, ``scale_rewards``).
    """
    V.check_positive_int("group_size", group_size)
    if group_size < 2:
        raise ValueError(f"group_size must be at least 2 (a group needs a baseline), got {group_size!r}")
    V.check_bool("scale", scale)
    V.check_real("eps", eps)
    V.check_nonnegative("eps", eps)
    V.check_floating("rewards", rewards)
    V.check_ndim("rewards", rewards, 1, "[P * group_size]")
    V.check_nonempty("rewards", rewards)
    if rewards.shape[0] % group_size:
        raise ValueError(f"rewards must hold whole groups of group_size={group_size}, got shape {tuple(rewards.shape)}")
    with torch.no_grad():
        grouped = rewards.view(-1, group_size)
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        low, high = grouped.aminmax(dim=1, keepdim=True)
        constant = low == high  # all rewards equal: advantages exactly 0, never 0 / 0
        centred = torch.where(constant, torch.zeros_like(centred), centred)
        if scale:
            spread = grouped.std(dim=1, keepdim=True) + eps
            centred = centred / torch.where(constant, torch.ones_like(spread), spread)
        return centred.reshape(rewards.shape)


def _as_bool_mask(mask: torch.Tensor) -> torch.Tensor:
    """A completion mask given as bool, integer or floating 0/1, as bool."""
    if isinstance(mask, torch.Tensor) and mask.dtype == torch.bool:
        return mask
    V.check_real_tensor("mask", mask)
    V.check_binary_values("mask", mask)
    return mask != 0


@register(
    family="alignment",
    summary="GRPO: clipped per-token surrogate + β·k3 KL to the reference, per-sequence/token/constant normalisation.",
    cite="shao2024deepseekmath",
    chapter="alignment/grpo",
    reference="trl.GRPOTrainer._compute_loss (transcribed)",
)
def grpo_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    ref_log_probs: torch.Tensor | None = None,
    clip_eps: float = 0.2,
    beta: float = 0.0,
    normalization: str = "sequence",
) -> torch.Tensor:
    r"""The GRPO objective as a loss (a scalar).

    .. math::
        \rho_{i,t} = e^{\log\pi_\theta - \log\pi_{\text{old}}}, \qquad
        \ell_{i,t} = -\min\bigl(\rho_{i,t}\hat A_i,\
                     \operatorname{clip}(\rho_{i,t}, 1 - \epsilon, 1 + \epsilon)\hat A_i\bigr)
                     + \beta\,\bigl(e^{d_{i,t}} - d_{i,t} - 1\bigr),\quad
        d_{i,t} = \log\pi_{\text{ref}} - \log\pi_\theta

    The second term is the k3 estimator of :math:`\mathrm{KL}(\pi_\theta \| \pi_{\text{ref}})`
    (non-negative, unbiased under samples of :math:`\pi_\theta`). With :math:`m_{i,t}` the
    mask, :math:`|o_i| = \sum_t m_{i,t}`, the loss is

    - ``"sequence"`` (GRPO): :math:`\frac{1}{B}\sum_i \frac{1}{|o_i|}\sum_t m_{i,t}\ell_{i,t}`;
    - ``"token"`` (DAPO): :math:`\sum_{i,t} m_{i,t}\ell_{i,t} / \sum_{i,t} m_{i,t}`;
    - ``"constant"`` (Dr. GRPO): :math:`\sum_{i,t} m_{i,t}\ell_{i,t} / (B\,T)`.

    Counts are clamped at 1, as TRL does: an all-padding row contributes 0 (and still counts
    in the :math:`1/B` of ``"sequence"``); padded positions may hold any value, even
    ``-inf``, without producing NaN. No gradient reaches ``old_log_probs``,
    ``advantages`` or ``ref_log_probs``.

    Args:
        log_probs: :math:`\log\pi_\theta` of each sampled token, ``[B, T]``.
        old_log_probs: :math:`\log\pi_{\text{old}}` of the policy that sampled, ``[B, T]``.
        advantages: :math:`\hat A_i`, one per completion, ``[B]`` (e.g. :func:`group_advantages`).
        mask: 1 / True at the completion's tokens, 0 / False at padding, ``[B, T]``
            (bool, integer or floating 0/1).
        ref_log_probs: :math:`\log\pi_{\text{ref}}`, ``[B, T]``; needed when ``beta > 0``.
        clip_eps: :math:`\epsilon \in (0, 1)`.
        beta: :math:`\beta \ge 0`, the weight of the KL term.
        normalization: ``"sequence"``, ``"token"`` or ``"constant"`` (see above).

    Returns:
        The loss, a scalar.

    Reference: :cite:t:`shao2024deepseekmath`; ``"token"`` as :cite:t:`yu2025dapo`,
    ``"constant"`` as :cite:t:`liu2025understanding`; k3 of :cite:t:`schulman2020approximating`.
    Equivalent: TRL's ``GRPOTrainer._compute_loss`` with ``loss_type`` ``"grpo"``,
    ``"bnpo"`` (or ``"dapo"`` on one process) and ``"dr_grpo"`` (``max_completion_length = T``).
    """
    V.check_real("clip_eps", clip_eps)
    V.check_in_interval("clip_eps", clip_eps, 0.0, 1.0, closed=False)
    V.check_real("beta", beta)
    V.check_nonnegative("beta", beta)
    V.check_choice("normalization", normalization, GRPO_NORMALIZATIONS)
    V.check_floating("log_probs", log_probs)
    V.check_ndim("log_probs", log_probs, 2, "[B, T]")
    V.check_nonempty("log_probs", log_probs)
    n, t = log_probs.shape
    V.check_floating("old_log_probs", old_log_probs)
    V.check_same_shape("log_probs", log_probs, "old_log_probs", old_log_probs)
    V.check_floating("advantages", advantages)
    V.check_shape("advantages", advantages, (n,), "[B]")
    V.check_same_shape("log_probs", log_probs, "mask", mask)
    valid = _as_bool_mask(mask)
    if beta > 0:
        if ref_log_probs is None:
            raise ValueError(f"ref_log_probs must be given when beta > 0, got beta={beta!r}")
    if ref_log_probs is not None:
        V.check_floating("ref_log_probs", ref_log_probs)
        V.check_same_shape("log_probs", log_probs, "ref_log_probs", ref_log_probs)

    zero = torch.zeros((), dtype=log_probs.dtype)
    lp = torch.where(valid, log_probs, zero)  # padding may hold anything: replace it first
    old = torch.where(valid, _constant(old_log_probs, log_probs), zero)
    adv = _constant(advantages, log_probs).unsqueeze(1)
    ratio = torch.exp(lp - old)
    per_token = -torch.minimum(ratio * adv, ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * adv)
    if beta > 0:
        ref = torch.where(valid, _constant(ref_log_probs, log_probs), zero)
        d = ref - lp
        per_token = per_token + beta * (torch.exp(d) - d - 1.0)
    per_token = torch.where(valid, per_token, zero)
    counts = valid.sum(dim=1).to(log_probs.dtype)
    if normalization == "sequence":
        return (per_token.sum(dim=1) / counts.clamp(min=1)).mean()
    if normalization == "token":
        return per_token.sum() / counts.sum().clamp(min=1)
    return per_token.sum() / (n * t)


@register(
    family="alignment",
    summary="Knowledge distillation: T²·KL(teacher ‖ student) of temperature-softened softmaxes, or the reverse KL.",
    cite="hinton2015distilling",
    chapter="alignment/distillation",
    reference="torch.nn.functional.kl_div",
)
def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    temperature: float = 2.0,
    direction: str = "forward",
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft-target distillation loss.

    .. math::
        p^{T} = \operatorname{softmax}(z_t / T), \quad q^{T} = \operatorname{softmax}(z_s / T), \qquad
        \ell_{\text{forward}} = T^2\,\mathrm{KL}(p^T \| q^T), \quad
        \ell_{\text{reverse}} = T^2\,\mathrm{KL}(q^T \| p^T)

    per example, summed over the class dim 1. The :math:`T^2` keeps the gradient's scale
    independent of the temperature (for large :math:`T` the gradient of the KL shrinks as
    :math:`1/T^2`). The forward KL covers every mode of the teacher; the reverse KL (as in
    MiniLLM) seeks one. The teacher is a constant: no gradient reaches it.

    Args:
        student_logits: :math:`z_s`, ``[N, C]`` or ``[N, C, d1, ...]``.
        teacher_logits: :math:`z_t`, the shape of ``student_logits``.
        temperature: :math:`T > 0`.
        direction: ``"forward"`` (Hinton et al.) or ``"reverse"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hinton2015distilling`; reverse KL as in :cite:t:`gu2024minillm`.
    Equivalent (forward, 2-D, ``"mean"``): ``T**2 * F.kl_div(F.log_softmax(z_s / T, 1),
    F.log_softmax(z_t / T, 1), log_target=True, reduction="batchmean")``.
    """
    V.check_reduction(reduction)
    V.check_real("temperature", temperature)
    V.check_positive("temperature", temperature)
    V.check_choice("direction", direction, KL_DIRECTIONS)
    V.check_class_scores("student_logits", student_logits)
    V.check_floating("teacher_logits", teacher_logits)
    V.check_same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    student = F.log_softmax(student_logits / temperature, dim=1)
    teacher = F.log_softmax(_constant(teacher_logits, student_logits) / temperature, dim=1)
    if direction == "forward":
        pointwise = F.kl_div(student, teacher, log_target=True, reduction="none")
    else:
        pointwise = F.kl_div(teacher, student, log_target=True, reduction="none")
    return V.reduce(temperature**2 * pointwise.sum(dim=1), reduction)
