"""Cases of the KL divergence and PolyLoss (issue 3). References: torch's ``F.kl_div`` for
the KL divergence, float64 transcriptions of Leng et al. (2022) for Poly-1 and Poly-N."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import Case, add, randint, randn


def ref_kl(z, p):
    """torch's pointwise KL, target p, input log q, summed over the classes (dim 1)."""
    return F.kl_div(F.log_softmax(z.double(), dim=1), p.double(), reduction="none").sum(dim=1)


def _p_target(z, y):
    """p_t = exp(z_y) / sum_c exp(z_c), written out with the max shift, float64."""
    z = z.double()
    e = torch.exp(z - z.amax(dim=1, keepdim=True))
    p = e / e.sum(dim=1, keepdim=True)
    return p.gather(1, y.unsqueeze(1)).squeeze(1)


def ref_poly1(z, y, *, epsilon=1.0):
    """Leng et al. (2022), eq. (3): L = -log(P_t) + eps_1 (1 - P_t)."""
    pt = _p_target(z, y)
    return -torch.log(pt) + epsilon * (1 - pt)


def ref_poly_n(z, y, *, epsilons):
    """Leng et al. (2022), Poly-N: L = -log(P_t) + sum_{j=1}^N eps_j (1 - P_t)^j."""
    pt = _p_target(z, y)
    loss = -torch.log(pt)
    for j, eps in enumerate(epsilons, start=1):
        loss = loss + float(eps) * (1 - pt) ** j
    return loss


def _distribution(gen, *shape, dtype, zeros=False):
    """Random target distributions over dim 1, optionally with exact zeros."""
    p = torch.softmax(randn(gen, *shape, dtype=torch.float64, scale=1.5), dim=1)
    if zeros:
        keep = torch.rand(*shape, generator=gen, dtype=torch.float64) > 0.4
        keep[:, 0] = True  # at least one class kept per row
        p = p * keep
        p = p / p.sum(dim=1, keepdim=True)
    return p.to(dtype)


add(
    Case(
        "kl_divergence",
        lambda g, dt, s: ((randn(g, 6, 4, dtype=dt, scale=s), _distribution(g, 6, 4, dtype=dt)), {}),
        ref_kl,
        label="dense",
    )
)
add(
    Case(
        "kl_divergence",
        lambda g, dt, s: ((randn(g, 6, 5, dtype=dt, scale=s), _distribution(g, 6, 5, dtype=dt, zeros=True)), {}),
        ref_kl,
        label="zeros-in-target",
    )
)
add(
    Case(
        "kl_divergence",
        lambda g, dt, s: (
            (randn(g, 3, 4, 2, 2, dtype=dt, scale=s), _distribution(g, 3, 4, 2, 2, dtype=dt)),
            {},
        ),
        ref_kl,
        label="spatial",
    )
)
add(
    Case(
        "poly1_loss",
        lambda g, dt, s: ((randn(g, 6, 4, dtype=dt, scale=s), randint(g, 4, 6)), {"epsilon": 2.0}),
        ref_poly1,
    )
)
add(
    Case(
        "poly1_loss",
        lambda g, dt, s: ((randn(g, 3, 4, 2, 2, dtype=dt, scale=s), randint(g, 4, 3, 2, 2)), {"epsilon": -1.0}),
        ref_poly1,
        label="spatial-eps-minus-1",
    )
)
add(
    Case(
        "poly_loss",
        lambda g, dt, s: (
            (randn(g, 6, 4, dtype=dt, scale=s), randint(g, 4, 6)),
            {"epsilons": [1.0, 0.5, -0.2]},
        ),
        ref_poly_n,
    )
)
add(
    Case(
        "poly_loss",
        lambda g, dt, s: (
            (randn(g, 3, 5, 3, dtype=dt, scale=s), randint(g, 5, 3, 3)),
            {"epsilons": torch.tensor([2.0, 0.0, 0.3, 0.1], dtype=torch.float64)},
        ),
        ref_poly_n,
        label="spatial-tensor-epsilons",
    )
)
