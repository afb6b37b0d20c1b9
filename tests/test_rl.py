"""Reinforcement-learning losses (issue 9): the libraries' conventions and the hard cases.

- ``gae_advantages`` against stable-baselines3's ``RolloutBuffer.compute_returns_and_advantage``
  itself (its ``episode_starts[t + 1]`` is our ``dones[t]``), episode ends mid-batch included;
- ``q_value_loss`` against stable-baselines3's DQN loss and ``ppo_clip_loss`` against its PPO
  policy loss, both transcribed from ``stable_baselines3/dqn/dqn.py`` and ``ppo/ppo.py``
  (they sit inside ``train()``, which needs an environment and a model); rlax (JAX, not
  installed) ``q_learning`` / ``double_q_learning`` transcribed: its squared loss has a ½;
- no gradient reaches a target, the advantages or the old log-probabilities;
- ``gamma`` / ``lam`` outside [0, 1], non-binary ``dones`` and the other documented errors;
- hypothesis properties: γ = 0, γ = 1, λ = 0 and λ = 1 limits, PPO equals the plain
  policy gradient inside the clipping range.
"""

from __future__ import annotations

import numpy as np
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


def rollout(seed=0, t=12, rows=1, p_done=0.25):
    g = gen(seed)
    rewards = torch.randn(rows, t, generator=g, dtype=torch.float64)
    values = torch.randn(rows, t + 1, generator=g, dtype=torch.float64)
    dones = torch.rand(rows, t, generator=g) < p_done
    return rewards, values, dones


# ------------------------------------------------------------ stable-baselines3


def sb3_gae(rewards, values_ext, dones, gamma, lam):
    """stable-baselines3's own rollout buffer, one environment."""
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    t = rewards.shape[-1]
    buffer = RolloutBuffer(t, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), gamma=gamma, gae_lambda=lam, n_envs=1)
    buffer.rewards[:, 0] = rewards.numpy()
    buffer.values[:, 0] = values_ext[:-1].numpy()
    # episode_starts[t] = 1 when step t starts a new episode, i.e. dones[t - 1]
    starts = np.zeros(t, dtype=np.float32)
    starts[1:] = dones[:-1].numpy()
    buffer.episode_starts[:, 0] = starts
    buffer.compute_returns_and_advantage(values_ext[-1:].float(), np.array([bool(dones[-1])]))
    return torch.from_numpy(buffer.advantages[:, 0].astype(np.float64)), torch.from_numpy(buffer.returns[:, 0])


@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (0.9, 0.0), (0.8, 1.0), (1.0, 0.5)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_equals_stable_baselines3_rollout_buffer(gamma, lam, seed):
    rewards, values, dones = rollout(seed)
    rewards, values, dones = rewards[0], values[0], dones[0]
    assert dones[:-1].any(), "the rollout should hold an episode end mid-batch"
    got = losslib.gae_advantages(rewards, values[:-1], values[1:], dones, gamma=gamma, lam=lam)
    want, returns = sb3_gae(rewards.float(), values.float(), dones, gamma, lam)
    # the buffer stores float32
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got + values[:-1], returns.double(), rtol=1e-5, atol=1e-5)


def sb3_dqn_loss(q, actions, rewards, next_q, dones, gamma):
    """stable_baselines3/dqn/dqn.py, train(): the target network's max, then smooth L1."""
    with torch.no_grad():
        next_q_values, _ = next_q.max(dim=1)
        target_q_values = rewards + (1 - dones.to(rewards.dtype)) * gamma * next_q_values
    current_q_values = torch.gather(q, dim=1, index=actions.long()[:, None]).squeeze(1)
    return F.smooth_l1_loss(current_q_values, target_q_values)


def rlax_q_learning_loss(q_tm1, a_tm1, r_t, discount_t, q_t, selector=None):
    """rlax q_learning / double_q_learning TD errors and rlax.l2_loss (½ td²), transcribed."""
    best = q_t.argmax(-1) if selector is None else selector.argmax(-1)
    target = r_t + discount_t * q_t.gather(1, best[:, None]).squeeze(1)
    td = target.detach() - q_tm1.gather(1, a_tm1[:, None]).squeeze(1)
    return 0.5 * td**2


def q_batch(seed=0, b=16, a=4):
    g = gen(seed)
    return (
        torch.randn(b, a, generator=g, dtype=torch.float64, requires_grad=True),
        torch.randint(0, a, (b,), generator=g),
        torch.randn(b, generator=g, dtype=torch.float64),
        torch.randn(b, a, generator=g, dtype=torch.float64, requires_grad=True),
        torch.rand(b, generator=g) < 0.3,
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_q_value_huber_equals_stable_baselines3_dqn(seed):
    q, a, r, nq, d = q_batch(seed)
    got = losslib.q_value_loss(q, a, r, nq, d, gamma=0.95, loss="huber")
    torch.testing.assert_close(got, sb3_dqn_loss(q, a, r, nq, d, 0.95))
    g1 = torch.autograd.grad(got, q)[0]
    g2 = torch.autograd.grad(sb3_dqn_loss(q, a, r, nq, d, 0.95), q)[0]
    torch.testing.assert_close(g1, g2)


@pytest.mark.parametrize("double", [False, True])
def test_q_value_mse_is_twice_rlax(double):
    q, a, r, nq, d = q_batch(3)
    online = torch.randn(nq.shape, generator=gen(4), dtype=torch.float64) if double else None
    discount = 0.9 * (1 - d.double())
    want = 2 * rlax_q_learning_loss(q, a, r, discount, nq, selector=online)
    got = losslib.q_value_loss(q, a, r, nq, d, gamma=0.9, next_q_online=online, reduction="none")
    torch.testing.assert_close(got, want)


def test_double_dqn_uses_the_online_argmax_and_the_target_value():
    q = torch.zeros(1, 3, dtype=torch.float64)
    target_net = torch.tensor([[5.0, 1.0, 2.0]], dtype=torch.float64)
    online = torch.tensor([[0.0, 0.0, 9.0]], dtype=torch.float64)
    args = (q, torch.tensor([0]), torch.zeros(1, dtype=torch.float64), target_net, torch.tensor([False]))
    assert losslib.q_value_loss(*args, gamma=1.0).item() == 25.0  # max of the target net: 5
    assert losslib.q_value_loss(*args, gamma=1.0, next_q_online=online).item() == 4.0  # its value at 2


def test_no_gradient_reaches_the_q_target():
    q, a, r, nq, d = q_batch(5)
    r = r.clone().requires_grad_(True)
    online = nq.detach().clone().requires_grad_(True)
    out = losslib.q_value_loss(q, a, r, nq, d, next_q_online=online)
    grads = torch.autograd.grad(out, [q, r, nq, online], allow_unused=True)
    assert grads[0] is not None and grads[0].abs().sum() > 0
    assert all(g is None for g in grads[1:])


def sb3_ppo_policy_loss(log_prob, old_log_prob, advantages, clip_range):
    """stable_baselines3/ppo/ppo.py, train() (its advantage normalisation is left out)."""
    ratio = torch.exp(log_prob - old_log_prob)
    policy_loss_1 = advantages * ratio
    policy_loss_2 = advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return -torch.min(policy_loss_1, policy_loss_2).mean()


def ppo_batch(seed=0, n=64, spread=0.5):
    g = gen(seed)
    old = -torch.rand(n, generator=g, dtype=torch.float64) * 3
    lp = (old + spread * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_(True)
    return lp, old.requires_grad_(True), torch.randn(n, generator=g, dtype=torch.float64).requires_grad_(True)


@pytest.mark.parametrize("clip", [0.1, 0.2, 0.3])
def test_ppo_equals_stable_baselines3(clip):
    lp, old, adv = ppo_batch(int(clip * 10))
    got = losslib.ppo_clip_loss(lp, old, adv, clip_eps=clip)
    want = sb3_ppo_policy_loss(lp, old.detach(), adv.detach(), clip)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(torch.autograd.grad(got, lp)[0], torch.autograd.grad(want, lp)[0])


def test_ppo_no_gradient_into_old_log_probs_or_advantages():
    lp, old, adv = ppo_batch(7)
    grads = torch.autograd.grad(losslib.ppo_clip_loss(lp, old, adv), [lp, old, adv], allow_unused=True)
    assert grads[0] is not None and grads[1] is None and grads[2] is None


def test_ppo_gradient_is_zero_where_the_clip_is_active():
    old = torch.zeros(4, dtype=torch.float64)
    lp = torch.log(torch.tensor([1.5, 0.5, 1.05, 0.95], dtype=torch.float64)).requires_grad_(True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    (grad,) = torch.autograd.grad(losslib.ppo_clip_loss(lp, old, adv, reduction="sum"), lp)
    assert grad[0] == 0 and grad[1] == 0  # ratio beyond 1 ± ε in the direction A favours
    assert grad[2] != 0 and grad[3] != 0  # inside the range: the plain surrogate


def test_policy_gradient_no_gradient_into_advantages_and_the_estimator():
    g = gen(8)
    logits = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    actions = torch.randint(0, 3, (5,), generator=g)
    adv = torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)
    log_probs = torch.log_softmax(logits, 1).gather(1, actions[:, None]).squeeze(1)
    entropy = -(torch.softmax(logits, 1) * torch.log_softmax(logits, 1)).sum(1)
    out = losslib.policy_gradient_loss(log_probs, adv, entropy=entropy, entropy_coef=0.05, reduction="sum")
    g_logits, g_adv = torch.autograd.grad(out, [logits, adv], allow_unused=True, retain_graph=True)
    assert g_adv is None
    want = torch.autograd.grad(-(adv.detach() * log_probs).sum() - 0.05 * entropy.sum(), logits)[0]
    torch.testing.assert_close(g_logits, want)


# ------------------------------------------------------------------- properties


@PROPERTY
@given(seed=SEEDS)
def test_returns_limits(seed):
    rewards, _, dones = rollout(seed, rows=3)
    torch.testing.assert_close(losslib.discounted_returns(rewards, dones, gamma=0.0), rewards)
    no_ends = torch.zeros_like(dones)
    reverse_cumsum = rewards.flip(-1).cumsum(-1).flip(-1)
    torch.testing.assert_close(losslib.discounted_returns(rewards, no_ends, gamma=1.0), reverse_cumsum)


@PROPERTY
@given(seed=SEEDS, gamma=st.floats(0.0, 1.0))
def test_gae_limits(seed, gamma):
    rewards, values, dones = rollout(seed, rows=2)
    v, nv = values[:, :-1], values[:, 1:]
    td = rewards + gamma * (~dones).double() * nv - v
    torch.testing.assert_close(losslib.gae_advantages(rewards, v, nv, dones, gamma=gamma, lam=0.0), td)
    dones_end = dones.clone()
    dones_end[:, -1] = True  # nothing bootstrapped after the last step
    full = losslib.gae_advantages(rewards, v, nv, dones_end, gamma=gamma, lam=1.0)
    # λ = 1 telescopes when next_values[t] = values[t + 1]: the returns minus the values
    torch.testing.assert_close(full + v, losslib.discounted_returns(rewards, dones_end, gamma=gamma))


@PROPERTY
@given(seed=SEEDS)
def test_episode_end_cuts_the_returns(seed):
    rewards, _, _ = rollout(seed, t=10)
    dones = torch.zeros(1, 10, dtype=torch.bool)
    dones[0, 4] = True
    both = losslib.discounted_returns(rewards, dones, gamma=0.9)
    first = losslib.discounted_returns(rewards[:, :5], dones[:, :5], gamma=0.9)
    second = losslib.discounted_returns(rewards[:, 5:], dones[:, 5:], gamma=0.9)
    torch.testing.assert_close(both, torch.cat([first, second], -1))


@PROPERTY
@given(seed=SEEDS)
def test_ppo_inside_the_clip_range_is_the_ratio_surrogate(seed):
    lp, old, adv = ppo_batch(seed, spread=0.01)  # ratios within 1 ± 0.2
    ratio = torch.exp(lp - old)
    assert ((ratio > 0.8) & (ratio < 1.2)).all()
    torch.testing.assert_close(losslib.ppo_clip_loss(lp, old, adv), -(ratio * adv).mean())


@PROPERTY
@given(seed=SEEDS)
def test_float_and_bool_dones_agree(seed):
    rewards, values, dones = rollout(seed, rows=2)
    for fn, args in (
        (losslib.discounted_returns, (rewards,)),
        (losslib.gae_advantages, (rewards, values[:, :-1], values[:, 1:])),
    ):
        torch.testing.assert_close(fn(*args, dones), fn(*args, dones.double()))


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("gamma", [-0.1, 1.5, float("nan")])
def test_gamma_outside_unit_interval_raises(gamma):
    rewards, values, dones = rollout(0)
    q, a, r, nq, d = q_batch(0)
    with pytest.raises(ValueError, match="gamma must"):
        losslib.discounted_returns(rewards, dones, gamma=gamma)
    with pytest.raises(ValueError, match="gamma must"):
        losslib.gae_advantages(rewards, values[:, :-1], values[:, 1:], dones, gamma=gamma)
    with pytest.raises(ValueError, match="gamma must"):
        losslib.q_value_loss(q, a, r, nq, d, gamma=gamma)


def test_other_rl_errors():
    rewards, values, dones = rollout(0)
    q, a, r, nq, d = q_batch(0)
    with pytest.raises(ValueError, match="lam must lie in"):
        losslib.gae_advantages(rewards, values[:, :-1], values[:, 1:], dones, lam=2.0)
    with pytest.raises(ValueError, match="dones must hold 0 or 1"):
        losslib.discounted_returns(rewards, torch.full(rewards.shape, 0.5, dtype=torch.float64))
    with pytest.raises(ValueError, match="dones must have the shape of rewards"):
        losslib.discounted_returns(rewards, dones[:, :-1])
    with pytest.raises(ValueError, match="next_values must have the shape of rewards"):
        losslib.gae_advantages(rewards, values[:, :-1], values, dones)
    with pytest.raises(ValueError, match=r"actions must hold class indices in \[0, 4\)"):
        losslib.q_value_loss(q, a + 4, r, nq, d)
    with pytest.raises(TypeError, match="actions must hold integer"):
        losslib.q_value_loss(q, a.double(), r, nq, d)
    with pytest.raises(ValueError, match="loss must be one of"):
        losslib.q_value_loss(q, a, r, nq, d, loss="l1")
    with pytest.raises(ValueError, match="next_q_online must have the shape of q_values"):
        losslib.q_value_loss(q, a, r, nq, d, next_q_online=nq[:, :2])
    with pytest.raises(ValueError, match=r"q_values must have shape \[B, A\]"):
        losslib.q_value_loss(q[0], a, r, nq, d)
    lp, old, adv = ppo_batch(0)
    with pytest.raises(ValueError, match="clip_eps must lie in"):
        losslib.ppo_clip_loss(lp, old, adv, clip_eps=0.0)
    with pytest.raises(ValueError, match="entropy must be given"):
        losslib.policy_gradient_loss(lp, adv, entropy_coef=0.1)
    with pytest.raises(ValueError, match="entropy_coef must be non-negative"):
        losslib.policy_gradient_loss(lp, adv, entropy=adv, entropy_coef=-0.1)
    with pytest.raises(ValueError, match="advantages must have the shape of log_probs"):
        losslib.policy_gradient_loss(lp, adv[:3])
