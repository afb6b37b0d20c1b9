"""Cases of the alignment family (issue 15). Each reference is a float64 transcription of the
paper's formula written with Python loops and ``math`` (independent of losslib's vectorised
code). TRL's own loss code (not installed) is transcribed in ``tests/test_alignment.py``;
``distillation_loss`` is also compared there with ``torch.nn.functional.kl_div``."""

from __future__ import annotations

import math

import torch

from . import Case, add, randn

B, T, C = 6, 5, 4


def neg_log_sigmoid(x: float) -> float:
    """-log σ(x), stable for large |x|."""
    return math.log1p(math.exp(-x)) if x >= 0 else -x + math.log1p(math.exp(x))


def log_probs(g, *shape, dtype, scale=1.0):
    """Log-probabilities: minus the absolute value of normal draws."""
    return -randn(g, *shape, dtype=torch.float64, scale=scale).abs().to(dtype)


# ---------------------------------------------------------------- Bradley–Terry


def ref_bradley_terry(chosen, rejected, *, margin=0.0):
    return torch.tensor(
        [neg_log_sigmoid(c - r - margin) for c, r in zip(chosen.tolist(), rejected.tolist(), strict=True)],
        dtype=torch.float64,
    )


add(
    Case(
        "bradley_terry_loss",
        lambda g, dt, s: ((randn(g, B, dtype=dt, scale=s), randn(g, B, dtype=dt, scale=s)), {"margin": 0.5}),
        ref_bradley_terry,
        grad_args=(0, 1),
    )
)


# ------------------------------------------------------------------------- DPO


def ref_dpo(pc, pr, rc, rr, *, beta=0.1, kind="sigmoid", label_smoothing=0.0):
    out = []
    for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), strict=True):
        delta = (a - c) - (b - d)
        if kind == "sigmoid":
            eps = label_smoothing
            out.append((1 - eps) * neg_log_sigmoid(beta * delta) + eps * neg_log_sigmoid(-beta * delta))
        elif kind == "hinge":
            out.append(max(0.0, 1.0 - beta * delta))
        else:
            out.append((delta - 1.0 / (2.0 * beta)) ** 2)
    return torch.tensor(out, dtype=torch.float64)


def _dpo_make(**kwargs):
    def make(g, dt, s):
        # summed log-probabilities of a few tokens each
        args = tuple(log_probs(g, B, dtype=dt, scale=3.0 * s) for _ in range(4))
        return args, dict(kwargs)

    return make


for label, kwargs in (
    ("sigmoid", {"beta": 0.5}),
    ("smoothed", {"beta": 0.5, "label_smoothing": 0.1}),
    ("hinge", {"beta": 0.5, "kind": "hinge"}),
    ("ipo", {"beta": 0.5, "kind": "ipo"}),
):
    add(Case("dpo_loss", _dpo_make(**kwargs), ref_dpo, label=label, grad_args=(0, 1), batch_args=(0, 1, 2, 3)))


# ----------------------------------------------------------------------- SimPO


def ref_simpo(chosen, rejected, *, beta=2.0, gamma=1.0):
    return torch.tensor(
        [neg_log_sigmoid(beta * (c - r) - gamma) for c, r in zip(chosen.tolist(), rejected.tolist(), strict=True)],
        dtype=torch.float64,
    )


add(
    Case(
        "simpo_loss",
        lambda g, dt, s: ((log_probs(g, B, dtype=dt, scale=s), log_probs(g, B, dtype=dt, scale=s)), {"gamma": 0.5}),
        ref_simpo,
        grad_args=(0, 1),
    )
)


# ------------------------------------------------------------------------ ORPO


def ref_log_odds(logp: float) -> float:
    logp = min(logp, -torch.finfo(torch.float64).eps)
    return logp - math.log(-math.expm1(logp))


def ref_orpo(chosen, rejected, *, lam=0.1):
    out = []
    for c, r in zip(chosen.tolist(), rejected.tolist(), strict=True):
        out.append(-c + lam * neg_log_sigmoid(ref_log_odds(c) - ref_log_odds(r)))
    return torch.tensor(out, dtype=torch.float64)


add(
    Case(
        "orpo_loss",
        lambda g, dt, s: ((log_probs(g, B, dtype=dt, scale=s), log_probs(g, B, dtype=dt, scale=s)), {"lam": 0.5}),
        ref_orpo,
        grad_args=(0, 1),
    )
)


# ----------------------------------------------------------- group advantages


def ref_group_advantages(rewards, *, group_size, scale=True, eps=1e-4):
    values = rewards.tolist()
    out = []
    for start in range(0, len(values), group_size):
        group = values[start : start + group_size]
        mean = sum(group) / group_size
        std = math.sqrt(sum((x - mean) ** 2 for x in group) / (group_size - 1))
        out.extend((x - mean) / (std + eps) if scale else x - mean for x in group)
    return torch.tensor(out, dtype=torch.float64)


for label, kwargs in (("scaled", {"group_size": 4}), ("centred", {"group_size": 4, "scale": False})):
    add(
        Case(
            "group_advantages",
            lambda g, dt, s, kwargs=kwargs: ((randn(g, 12, dtype=dt, scale=s),), dict(kwargs)),
            ref_group_advantages,
            label=label,
            batch_args=(0,),
            reductions=False,
            nonnegative=False,
            per_example=False,
            differentiable=False,
        )
    )


# ------------------------------------------------------------------------ GRPO


def ref_grpo(lp, old, adv, mask, *, ref_log_probs=None, clip_eps=0.2, beta=0.0, normalization="sequence"):
    rows, cols = lp.shape
    per_row_sums, per_row_counts = [], []
    for i in range(rows):
        total, count = 0.0, 0
        for t in range(cols):
            if not mask[i, t]:
                continue
            ratio = math.exp(float(lp[i, t]) - float(old[i, t]))
            clipped = min(max(ratio, 1 - clip_eps), 1 + clip_eps)
            a = float(adv[i])
            term = -min(ratio * a, clipped * a)
            if beta > 0:
                d = float(ref_log_probs[i, t]) - float(lp[i, t])
                term += beta * (math.exp(d) - d - 1)
            total += term
            count += 1
        per_row_sums.append(total)
        per_row_counts.append(count)
    if normalization == "sequence":
        value = sum(s / max(c, 1) for s, c in zip(per_row_sums, per_row_counts, strict=True)) / rows
    elif normalization == "token":
        value = sum(per_row_sums) / max(sum(per_row_counts), 1)
    else:
        value = sum(per_row_sums) / (rows * cols)
    return torch.tensor(value, dtype=torch.float64)


def completion_mask(g: torch.Generator, rows: int, cols: int) -> torch.Tensor:
    """Completions of random lengths in [0, T] (row 0 is all padding), left-aligned."""
    lengths = torch.randint(1, cols + 1, (rows,), generator=g)
    lengths[0] = 0
    return torch.arange(cols).unsqueeze(0) < lengths.unsqueeze(1)


def _grpo_make(**kwargs):
    def make(g, dt, s):
        lp = log_probs(g, B, T, dtype=torch.float64, scale=s)
        old = lp + 0.3 * randn(g, B, T, dtype=torch.float64)
        adv = randn(g, B, dtype=torch.float64)
        mask = completion_mask(g, B, T)
        extra = dict(kwargs)
        if extra.get("beta", 0.0) > 0:
            extra["ref_log_probs"] = (lp + 0.3 * randn(g, B, T, dtype=torch.float64)).to(dt)
        return (lp.to(dt), old.to(dt), adv.to(dt), mask), extra

    return make


for label, kwargs in (
    ("sequence", {}),
    ("token", {"normalization": "token"}),
    ("constant", {"normalization": "constant"}),
    ("kl", {"beta": 0.1, "clip_eps": 0.3}),
):
    add(
        Case(
            "grpo_loss",
            _grpo_make(**kwargs),
            ref_grpo,
            label=label,
            batch_args=(0, 1, 2, 3),
            reductions=False,
            nonnegative=False,
            per_example=False,
        )
    )


# ---------------------------------------------------------------- distillation


def _log_softmax(row: list[float], temperature: float) -> list[float]:
    scaled = [v / temperature for v in row]
    top = max(scaled)
    log_z = top + math.log(sum(math.exp(v - top) for v in scaled))
    return [v - log_z for v in scaled]


def ref_distillation(student, teacher, *, temperature=2.0, direction="forward"):
    # the class dim is 1: move it last, loop over every other position
    s = student.movedim(1, -1)
    t = teacher.movedim(1, -1)
    flat_s, flat_t = s.reshape(-1, s.shape[-1]).tolist(), t.reshape(-1, t.shape[-1]).tolist()
    out = []
    for zs, zt in zip(flat_s, flat_t, strict=True):
        log_q, log_p = _log_softmax(zs, temperature), _log_softmax(zt, temperature)
        if direction == "reverse":
            log_p, log_q = log_q, log_p
        out.append(temperature**2 * sum(math.exp(lp) * (lp - lq) for lp, lq in zip(log_p, log_q, strict=True)))
    return torch.tensor(out, dtype=torch.float64).reshape(s.shape[:-1])


for label, shape, kwargs in (
    ("forward", (B, C), {}),
    ("reverse", (B, C), {"direction": "reverse", "temperature": 3.0}),
    ("spatial", (B, C, 3), {"temperature": 1.5}),
):
    add(
        Case(
            "distillation_loss",
            lambda g, dt, s, shape=shape, kwargs=kwargs: (
                (randn(g, *shape, dtype=dt, scale=s), randn(g, *shape, dtype=dt, scale=s)),
                dict(kwargs),
            ),
            ref_distillation,
            label=label,
        )
    )
