"""Cases of the reinforcement-learning family (issue 9), each compared with a float64
transcription of its defining recursion or formula written with Python loops (independent of
losslib's vectorised code). The library references (stable-baselines3's rollout buffer, its
DQN and PPO losses, rlax's conventions) are in ``tests/test_rl.py``."""

from __future__ import annotations

import math

import torch

from . import Case, add, rand, randint, randn

B, A, T = 6, 3, 7


def random_dones(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=g) < 0.3


def ref_q_value(q, actions, rewards, next_q, dones, *, gamma=0.99, loss="mse", next_q_online=None):
    out = []
    for i in range(q.shape[0]):
        row = next_q[i].tolist()
        if next_q_online is None:
            next_value = max(row)
        else:
            online = next_q_online[i].tolist()
            next_value = row[online.index(max(online))]
        target = float(rewards[i]) + gamma * (1.0 - float(dones[i])) * next_value
        td = float(q[i, int(actions[i])]) - target
        out.append(td * td if loss == "mse" else (0.5 * td * td if abs(td) <= 1 else abs(td) - 0.5))
    return torch.tensor(out, dtype=torch.float64)


def _q_make(**kwargs):
    def make(g, dt, s):
        args = (
            randn(g, B, A, dtype=dt, scale=s),
            randint(g, A, B),
            randn(g, B, dtype=dt),
            randn(g, B, A, dtype=dt, scale=s),
            random_dones(g, B),
        )
        extra = dict(kwargs)
        if extra.pop("double", False):
            extra["next_q_online"] = randn(g, B, A, dtype=dt, scale=s)
        return args, extra

    return make


add(Case("q_value_loss", _q_make(gamma=0.9), ref_q_value, label="mse", batch_args=(0, 1, 2, 3, 4)))
add(Case("q_value_loss", _q_make(gamma=0.9, loss="huber"), ref_q_value, label="huber", batch_args=(0, 1, 2, 3, 4)))
add(
    Case(
        "q_value_loss",
        _q_make(gamma=0.9, double=True),
        ref_q_value,
        label="double",
        batch_args=(0, 1, 2, 3, 4),
        per_example=False,  # next_q_online is a keyword: the permutation test would not permute it
    )
)


def ref_policy_gradient(log_probs, advantages, *, entropy=None, entropy_coef=0.0):
    out = []
    for i, (lp, adv) in enumerate(zip(log_probs.tolist(), advantages.tolist(), strict=True)):
        bonus = 0.0 if entropy is None else entropy_coef * float(entropy[i])
        out.append(-lp * adv - bonus)
    return torch.tensor(out, dtype=torch.float64)


def _pg_make(with_entropy):
    def make(g, dt, s):
        args = (-randn(g, B, dtype=dt, scale=s).abs(), randn(g, B, dtype=dt))
        if not with_entropy:
            return args, {}
        return args, {"entropy": rand(g, B, dtype=dt, high=1.0), "entropy_coef": 0.01}

    return make


add(Case("policy_gradient_loss", _pg_make(False), ref_policy_gradient, nonnegative=False))
add(
    Case(
        "policy_gradient_loss",
        _pg_make(True),
        ref_policy_gradient,
        label="entropy",
        nonnegative=False,
        per_example=False,
    )
)


def ref_discounted_returns(rewards, dones, *, gamma=0.99):
    out = torch.zeros(rewards.shape, dtype=torch.float64)
    for row in range(rewards.shape[0]):
        following = 0.0
        for t in reversed(range(rewards.shape[1])):
            following = float(rewards[row, t]) + (0.0 if dones[row, t] else gamma * following)
            out[row, t] = following
    return out


add(
    Case(
        "discounted_returns",
        lambda g, dt, s: ((randn(g, 3, T, dtype=dt, scale=s), random_dones(g, 3, T)), {"gamma": 0.9}),
        ref_discounted_returns,
        reductions=False,
        nonnegative=False,
        differentiable=False,
    )
)


def ref_gae(rewards, values, next_values, dones, *, gamma=0.99, lam=0.95):
    out = torch.zeros(rewards.shape, dtype=torch.float64)
    for row in range(rewards.shape[0]):
        following = 0.0
        for t in reversed(range(rewards.shape[1])):
            keep = 0.0 if dones[row, t] else 1.0
            delta = float(rewards[row, t]) + gamma * keep * float(next_values[row, t]) - float(values[row, t])
            following = delta + gamma * lam * keep * following
            out[row, t] = following
    return out


add(
    Case(
        "gae_advantages",
        lambda g, dt, s: (
            (
                randn(g, 3, T, dtype=dt, scale=s),
                randn(g, 3, T, dtype=dt, scale=s),
                randn(g, 3, T, dtype=dt, scale=s),
                random_dones(g, 3, T),
            ),
            {"gamma": 0.9, "lam": 0.8},
        ),
        ref_gae,
        batch_args=(0, 1, 2, 3),
        reductions=False,
        nonnegative=False,
        differentiable=False,
    )
)


def ref_ppo(log_probs, old_log_probs, advantages, *, clip_eps=0.2):
    out = []
    for lp, old, adv in zip(log_probs.tolist(), old_log_probs.tolist(), advantages.tolist(), strict=True):
        ratio = math.exp(lp - old)
        clipped = min(max(ratio, 1 - clip_eps), 1 + clip_eps)
        out.append(-min(ratio * adv, clipped * adv))
    return torch.tensor(out, dtype=torch.float64)


def _ppo_make(g, dt, s):
    # log-probabilities of magnitude `scale`, a moderate ratio: the extreme test checks that
    # two log-probabilities near -1e4 still give a finite ratio and gradient
    log_probs = -randn(g, 8, dtype=torch.float64, scale=s).abs()
    old = log_probs + 0.4 * randn(g, 8, dtype=torch.float64)
    return (log_probs.to(dt), old.to(dt), randn(g, 8, dtype=dt)), {"clip_eps": 0.2}


add(Case("ppo_clip_loss", _ppo_make, ref_ppo, nonnegative=False, batch_args=(0, 1, 2)))
