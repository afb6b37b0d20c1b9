r"""Reinforcement-learning losses and the targets they are built from.

Value learning: :func:`q_value_loss` (the TD loss of DQN, with a target network and
Double DQN). Policy learning: :func:`policy_gradient_loss` (REINFORCE / actor-critic with an
entropy bonus) and :func:`ppo_clip_loss`. Their targets, :func:`discounted_returns` and
:func:`gae_advantages`, run along the last dim (time) and carry no gradient: a target is a
constant of the loss, never something the loss may move.

``dones[..., t]`` is 1 (or True) when the episode ended with the transition at step ``t``:
nothing after it is bootstrapped or accumulated into step ``t``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "q_value_loss",
    "policy_gradient_loss",
    "discounted_returns",
    "gae_advantages",
    "ppo_clip_loss",
]

Q_LOSSES = ("mse", "huber")


def _check_discount(name: str, value: float) -> None:
    V.check_real(name, value)
    V.check_in_interval(name, value, 0.0, 1.0, closed=True)


def _continuing(dones: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``1 - done`` in the dtype of ``like`` (dones are bool or floating 0/1)."""
    if dones.dtype != torch.bool:
        V.check_floating("dones", dones)
        V.check_binary_values("dones", dones)
    return 1.0 - dones.to(like.dtype)


def _backward_recursion(terms: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    r""":math:`x_t = \text{terms}_t + \text{decay}_t\, x_{t+1}` along the last dim, :math:`x_T = 0`.

    One fused multiply-add per step, on time-major contiguous rows (a slice ``[..., t]`` of
    the input would be strided)."""
    b = terms.movedim(-1, 0).contiguous()
    a = decay.movedim(-1, 0).contiguous()
    out = torch.empty_like(b)
    out[-1] = b[-1]
    for t in range(b.shape[0] - 2, -1, -1):
        torch.addcmul(b[t], a[t], out[t + 1], out=out[t])
    return out.movedim(0, -1)


def _check_time_series(names_and_tensors: list[tuple[str, torch.Tensor]], dones: torch.Tensor) -> None:
    first_name, first = names_and_tensors[0]
    for name, tensor in names_and_tensors:
        V.check_floating(name, tensor)
        V.check_min_dim(name, tensor, 1, "[..., T] (the last dim is time)")
        V.check_nonempty(name, tensor)
        V.check_same_shape(first_name, first, name, tensor)
    V.check_same_shape(first_name, first, "dones", dones)


@register(
    family="rl",
    summary="TD loss of DQN: (Q(s, a) - r - γ(1 - done) max_a' Q'(s', a'))², or Huber; Double DQN option.",
    cite="mnih2015human",
    chapter="rl/q-value",
    reference=None,
)
def q_value_loss(
    q_values: torch.Tensor,
    actions: torch.Tensor,
    rewards: torch.Tensor,
    next_q_values: torch.Tensor,
    dones: torch.Tensor,
    *,
    gamma: float = 0.99,
    loss: str = "mse",
    next_q_online: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Q-value (temporal-difference) loss.

    .. math::
        y = r + \gamma\,(1 - d)\,Q'(s', a^\star), \qquad
        \ell = \bigl(Q(s, a) - y\bigr)^2 \ \text{(or Huber with } \delta = 1\text{)}

    with :math:`a^\star = \arg\max_{a'} Q'(s', a')` (DQN) or
    :math:`a^\star = \arg\max_{a'} Q(s', a')` from the online network (Double DQN, when
    ``next_q_online`` is given). The target :math:`y` is a constant: no gradient reaches
    ``rewards``, ``next_q_values`` or ``next_q_online``.

    Args:
        q_values: :math:`Q(s, \cdot)` of the online network, ``[B, A]``.
        actions: the actions taken, integer ``[B]`` in ``[0, A)``.
        rewards: the rewards, ``[B]``.
        next_q_values: :math:`Q'(s', \cdot)` of the target network, ``[B, A]``.
        dones: 1 / True where the episode ended at this transition, ``[B]`` (bool or 0/1).
        gamma: the discount :math:`\gamma \in [0, 1]`.
        loss: ``"mse"`` (the squared TD error, no ½) or ``"huber"`` (``F.huber_loss``,
            :math:`\delta = 1`, as stable-baselines3's DQN).
        next_q_online: :math:`Q(s', \cdot)` of the online network, ``[B, A]``, to select the
            next action (Double DQN), or ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`mnih2015human`; Double DQN of :cite:t:`vanhasselt2016deep`.
    Equivalent: stable-baselines3's DQN loss (``loss="huber"``); twice rlax's
    ``q_learning`` / ``double_q_learning`` squared loss, which has a ½.
    """
    V.check_reduction(reduction)
    _check_discount("gamma", gamma)
    V.check_choice("loss", loss, Q_LOSSES)
    V.check_floating("q_values", q_values)
    V.check_ndim("q_values", q_values, 2, "[B, A]")
    V.check_nonempty("q_values", q_values)
    n, num_actions = q_values.shape
    V.check_integer("actions", actions)
    V.check_shape("actions", actions, (n,), "[B]")
    V.check_class_indices("actions", actions, num_actions)
    V.check_floating("rewards", rewards)
    V.check_shape("rewards", rewards, (n,), "[B]")
    V.check_floating("next_q_values", next_q_values)
    V.check_same_shape("q_values", q_values, "next_q_values", next_q_values)
    V.check_shape("dones", dones, (n,), "[B]")
    if next_q_online is not None:
        V.check_floating("next_q_online", next_q_online)
        V.check_same_shape("q_values", q_values, "next_q_online", next_q_online)
    q_taken = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        if next_q_online is None:
            next_value = next_q_values.max(1).values
        else:
            next_value = next_q_values.gather(1, next_q_online.argmax(1, keepdim=True)).squeeze(1)
        target = (rewards + gamma * _continuing(dones, rewards) * next_value).to(q_values.dtype)
    if loss == "mse":
        per_sample = (q_taken - target) ** 2
    else:
        per_sample = F.huber_loss(q_taken, target, delta=1.0, reduction="none")
    return V.reduce(per_sample, reduction)


@register(
    family="rl",
    summary="Policy-gradient surrogate -log π(a|s)·A - c·H, whose gradient is the REINFORCE estimator.",
    cite="williams1992simple",
    chapter="rl/policy-gradient",
    reference=None,
)
def policy_gradient_loss(
    log_probs: torch.Tensor,
    advantages: torch.Tensor,
    *,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Policy-gradient (REINFORCE / actor-critic) surrogate loss.

    .. math::
        \ell = -\log \pi_\theta(a \mid s)\, \hat A - c\, \mathcal{H}\bigl[\pi_\theta(\cdot \mid s)\bigr]

    Its value means little; its gradient, :math:`-\hat A\, \nabla_\theta \log \pi_\theta(a
    \mid s) - c \nabla_\theta \mathcal{H}`, is the policy-gradient estimator with an entropy
    bonus. The advantages :math:`\hat A` (returns, returns minus a baseline, or GAE) are
    constants: no gradient flows into them.

    Args:
        log_probs: :math:`\log \pi_\theta(a \mid s)` of the actions taken, any shape.
        advantages: :math:`\hat A`, the shape of ``log_probs``.
        entropy: the policy's entropy at each state, the shape of ``log_probs``, or
            ``None``; needed when ``entropy_coef`` is not 0.
        entropy_coef: :math:`c \ge 0`, the weight of the entropy bonus.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the shape of ``log_probs``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`williams1992simple`; advantages and the entropy bonus as in
    :cite:t:`mnih2016asynchronous`. Equivalent: stable-baselines3's A2C policy and entropy
    terms (``-(A · log π).mean() - ent_coef · H.mean()``).
    """
    V.check_reduction(reduction)
    V.check_real("entropy_coef", entropy_coef)
    V.check_nonnegative("entropy_coef", entropy_coef)
    V.check_floating("log_probs", log_probs)
    V.check_nonempty("log_probs", log_probs)
    V.check_floating("advantages", advantages)
    V.check_same_shape("log_probs", log_probs, "advantages", advantages)
    per_sample = -log_probs * advantages.detach().to(log_probs.dtype)
    if entropy is not None:
        V.check_floating("entropy", entropy)
        V.check_same_shape("log_probs", log_probs, "entropy", entropy)
        per_sample = per_sample - entropy_coef * entropy.to(log_probs.dtype)
    elif entropy_coef != 0:
        raise ValueError(f"entropy must be given when entropy_coef is not 0, got entropy_coef={entropy_coef!r}")
    return V.reduce(per_sample, reduction)


@register(
    family="rl",
    summary="Discounted returns G_t = r_t + γ(1 - done_t) G_{t+1} along time, without gradient (targets).",
    cite="sutton2018reinforcement",
    chapter="rl/policy-gradient",
    reference=None,
)
def discounted_returns(rewards: torch.Tensor, dones: torch.Tensor, *, gamma: float = 0.99) -> torch.Tensor:
    r"""Discounted returns along the last dim.

    .. math::
        G_t = r_t + \gamma\,(1 - d_t)\,G_{t+1}, \qquad G_T = 0

    An episode that ends at step :math:`t` (:math:`d_t = 1`) starts afresh at :math:`t + 1`,
    so several episodes may share one row. The returns are targets and carry no gradient.

    Args:
        rewards: ``[..., T]``, time along the last dim.
        dones: 1 / True where the episode ended at step t, the shape of ``rewards``.
        gamma: the discount :math:`\gamma \in [0, 1]`.

    Returns:
        The returns, the shape of ``rewards``, detached.

    Reference: :cite:t:`sutton2018reinforcement`, ch. 3. Equivalent: rlax's
    ``discounted_returns`` with ``discount_t = γ(1 - d_t)`` and a bootstrap value of 0.
    """
    _check_discount("gamma", gamma)
    _check_time_series([("rewards", rewards)], dones)
    with torch.no_grad():
        return _backward_recursion(rewards, gamma * _continuing(dones, rewards))


@register(
    family="rl",
    summary="Generalised advantage estimates A_t = δ_t + γλ(1 - done_t) A_{t+1}, without gradient.",
    cite="schulman2016high",
    chapter="rl/policy-gradient",
    reference="stable_baselines3.common.buffers.RolloutBuffer.compute_returns_and_advantage",
)
def gae_advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    dones: torch.Tensor,
    *,
    gamma: float = 0.99,
    lam: float = 0.95,
) -> torch.Tensor:
    r"""Generalised advantage estimation (GAE) along the last dim.

    .. math::
        \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t), \qquad
        \hat A_t = \delta_t + \gamma \lambda (1 - d_t) \hat A_{t+1}, \quad \hat A_T = 0

    ``lam=0`` gives the TD errors :math:`\delta_t`; ``lam=1`` the discounted returns
    (bootstrapped from the last ``next_values``) minus the values. No gradient.

    Args:
        rewards: ``[..., T]``, time along the last dim.
        values: :math:`V(s_t)`, the shape of ``rewards``.
        next_values: :math:`V(s_{t+1})`, the shape of ``rewards`` (its entries at steps
            with ``done`` are not used).
        dones: 1 / True where the episode ended at step t, the shape of ``rewards``.
        gamma: the discount :math:`\gamma \in [0, 1]`.
        lam: :math:`\lambda \in [0, 1]`.

    Returns:
        The advantages, the shape of ``rewards``, detached.

    Reference: :cite:t:`schulman2016high`. Equivalent: stable-baselines3's
    ``RolloutBuffer.compute_returns_and_advantage`` (its ``episode_starts[t + 1]`` is
    ``dones[t]``, its ``values[t + 1]`` is ``next_values[t]``).
    """
    _check_discount("gamma", gamma)
    _check_discount("lam", lam)
    _check_time_series([("rewards", rewards), ("values", values), ("next_values", next_values)], dones)
    with torch.no_grad():
        continuing = _continuing(dones, rewards)
        deltas = rewards + gamma * continuing * next_values.to(rewards.dtype) - values.to(rewards.dtype)
        return _backward_recursion(deltas, gamma * lam * continuing)


@register(
    family="rl",
    summary="PPO's clipped surrogate -min(ρA, clip(ρ, 1-ε, 1+ε)A), ρ = π/π_old.",
    cite="schulman2017proximal",
    chapter="rl/policy-gradient",
    reference=None,
)
def ppo_clip_loss(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    *,
    clip_eps: float = 0.2,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""PPO's clipped surrogate loss.

    .. math::
        \rho = \exp(\log\pi_\theta - \log\pi_{\text{old}}), \qquad
        \ell = -\min\bigl(\rho \hat A,\ \operatorname{clip}(\rho, 1 - \epsilon, 1 + \epsilon)\,\hat A\bigr)

    Once the ratio leaves :math:`[1 - \epsilon, 1 + \epsilon]` in the direction the
    advantage favours, the clipped term wins and the gradient is 0. No gradient flows into
    ``old_log_probs`` or ``advantages``.

    Args:
        log_probs: :math:`\log\pi_\theta(a \mid s)` under the current policy, any shape.
        old_log_probs: :math:`\log\pi_{\text{old}}(a \mid s)` of the policy that collected
            the data, the shape of ``log_probs``.
        advantages: :math:`\hat A`, the shape of ``log_probs``.
        clip_eps: :math:`\epsilon \in (0, 1)`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the shape of ``log_probs``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`schulman2017proximal`. Equivalent: stable-baselines3's PPO policy
    loss (which also normalises the advantages per mini-batch, outside the loss).
    """
    V.check_reduction(reduction)
    V.check_real("clip_eps", clip_eps)
    V.check_in_interval("clip_eps", clip_eps, 0.0, 1.0, closed=False)
    V.check_floating("log_probs", log_probs)
    V.check_nonempty("log_probs", log_probs)
    for name, tensor in (("old_log_probs", old_log_probs), ("advantages", advantages)):
        V.check_floating(name, tensor)
        V.check_same_shape("log_probs", log_probs, name, tensor)
    ratio = torch.exp(log_probs - old_log_probs.detach().to(log_probs.dtype))
    adv = advantages.detach().to(log_probs.dtype)
    per_sample = -torch.minimum(ratio * adv, ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * adv)
    return V.reduce(per_sample, reduction)
