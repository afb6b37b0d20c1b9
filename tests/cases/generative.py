"""Cases of the generative family (issue 14).

References: ``torch.distributions.kl_divergence`` (the Gaussian KL) and
``F.binary_cross_entropy_with_logits`` (the VAE's Bernoulli term); every other reference is a
float64 transcription of the paper's formula written with Python loops (the GAN losses, the
penalties with the critic's input gradient written out by hand, the diffusion targets and
min-SNR weights with their limits at alpha_bar = 0 and 1, flow matching). diffusers'
``DDPMScheduler.add_noise`` / ``get_velocity`` / ``compute_snr`` are compared in
``tests/test_generative.py`` (importing diffusers takes seconds).

The penalties take a critic callable as their first argument. Their cases use
:class:`FixedCritic`, a small fixed tanh network plus a linear term whose input gradient is
known in closed form, so the reference computes the penalty without autograd. What the
contract suite then checks, and what it does not:

- checked: the value against the transcription, gradcheck (second order) with respect to
  ``real`` / ``fake``, finite value and gradient at inputs of magnitude 1e4, dtypes, no input
  modified, non-negativity, empty batches and real/fake of different shapes;
- the interpolation weights ε of ``gradient_penalty`` are random: the critic rewinds the
  ε generator after each call (a property of this test critic only), so repeated calls
  (gradcheck, the reference) see the same ε;
- the contract's integer-input test converts ``args[0]`` with ``.round().long()``; for a
  penalty ``args[0]`` is the critic, so ``FixedCritic.long()`` returns the same critic with
  integer scores and the test exercises the penalty's TypeError for a non-floating critic
  output. Integer ``real`` / ``fake``, a non-callable critic and the gradient reaching the
  critic's parameters are tested in ``tests/test_generative.py``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from . import Case, add, rand, randn

B, D, Z = 6, 3, 2


# ------------------------------------------------------------------------ VAE


def ref_gaussian_kl(mu, logvar):
    q = Normal(mu.double(), (0.5 * logvar.double()).exp())
    p = Normal(torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64))
    return kl_divergence(q, p).sum(-1)


def _kl_make(g, dt, s):
    # logvar's extreme is +-30 (the hard case): e^(1e4) is no log-variance in any float
    spread = 30.0 if s > 1 else 2.0
    return (randn(g, B, Z, dtype=dt, scale=s), rand(g, B, Z, dtype=dt, low=-spread, high=spread)), {}


add(Case("gaussian_kl_loss", _kl_make, ref_gaussian_kl, grad_args=(0, 1)))
add(
    Case(
        "gaussian_kl_loss",
        lambda g, dt, s: ((randn(g, B, 4, Z, dtype=dt, scale=s), randn(g, B, 4, Z, dtype=dt)), {}),
        ref_gaussian_kl,
        label="3-d",
        grad_args=(0, 1),
    )
)


def ref_vae(recon, target, mu, logvar, *, likelihood="bernoulli", beta=1.0):
    dims = tuple(range(1, recon.dim()))
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(recon, target, reduction="none").sum(dims)
    else:
        nll = 0.5 * F.mse_loss(recon, target, reduction="none").sum(dims)
    return nll + beta * ref_gaussian_kl(mu, logvar)


def _vae_make(likelihood, beta):
    def make(g, dt, s):
        recon = randn(g, B, 4, 3, dtype=dt, scale=s)
        target = rand(g, B, 4, 3, dtype=dt) if likelihood == "bernoulli" else randn(g, B, 4, 3, dtype=dt)
        mu, logvar = randn(g, B, Z, dtype=dt, scale=s), randn(g, B, Z, dtype=dt)
        return (recon, target, mu, logvar), {"likelihood": likelihood, "beta": beta}

    return make


for _lik, _beta in (("bernoulli", 1.0), ("gaussian", 0.5)):
    add(
        Case(
            "vae_loss",
            _vae_make(_lik, _beta),
            ref_vae,
            label=_lik,
            grad_args=(0, 2, 3),
            batch_args=(0, 1, 2, 3),
        )
    )


# ------------------------------------------------------------------------ GAN losses


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def ref_discriminator(real, fake, *, kind="nonsaturating"):
    out = []
    for r, f in zip(real.flatten().tolist(), fake.flatten().tolist(), strict=True):
        if kind in ("minimax", "nonsaturating"):
            out.append(_softplus(-r) + _softplus(f))  # -log sigma(r) - log(1 - sigma(f))
        elif kind == "hinge":
            out.append(max(0.0, 1 - r) + max(0.0, 1 + f))
        elif kind == "wasserstein":
            out.append(f - r)
        else:
            out.append(0.5 * (r - 1) ** 2 + 0.5 * f**2)
    return torch.tensor(out, dtype=torch.float64).view(real.shape)


def ref_generator(fake, *, kind="nonsaturating"):
    out = []
    for f in fake.flatten().tolist():
        if kind == "minimax":
            out.append(-_softplus(f))  # log(1 - sigma(f))
        elif kind == "nonsaturating":
            out.append(_softplus(-f))
        elif kind in ("hinge", "wasserstein"):
            out.append(-f)
        else:
            out.append(0.5 * (f - 1) ** 2)
    return torch.tensor(out, dtype=torch.float64).view(fake.shape)


def _pair_make(kind):
    def make(g, dt, s):
        return (randn(g, B, 1, dtype=dt, scale=s), randn(g, B, 1, dtype=dt, scale=s)), {"kind": kind}

    return make


def _fake_make(kind):
    def make(g, dt, s):
        return (randn(g, B, dtype=dt, scale=s),), {"kind": kind}

    return make


KINDS = ("minimax", "nonsaturating", "hinge", "wasserstein", "least_squares")
for _kind in KINDS:
    add(
        Case(
            "gan_discriminator_loss",
            (
                lambda k: (
                    lambda g, dt, s: (
                        (randn(g, B, 1, dtype=dt, scale=s), randn(g, B, 1, dtype=dt, scale=s)),
                        {"kind": k},
                    )
                )
            )(_kind),
            ref_discriminator,
            label=_kind,
            grad_args=(0, 1),
            nonnegative=_kind != "wasserstein",
        )
    )
    add(
        Case(
            "gan_generator_loss",
            _fake_make(_kind),
            ref_generator,
            label=_kind,
            batch_args=(0,),
            nonnegative=_kind in ("nonsaturating", "least_squares"),
        )
    )


# ------------------------------------------------------------------------ penalties


class FixedCritic:
    """``f(x) = w2 · tanh(x W1 + b1) + c · (x · u)`` on ``[N, D]`` with fixed float64 weights
    (cast to the input's dtype); its input gradient ``W1 (w2 ⊙ (1 - tanh²)) + c u`` is known
    in closed form. The linear term keeps the gradient away from 0 where tanh saturates.

    ``rewind``: a generator restored to its state at construction after every call (see the
    module docstring). ``integer``: return integer scores (the contract's integer test).
    """

    def __init__(self, dim: int, seed: int, rewind: torch.Generator | None = None, integer: bool = False):
        g = torch.Generator().manual_seed(10_000 + seed)
        self.w1 = torch.randn(dim, 5, generator=g, dtype=torch.float64)
        self.b1 = torch.randn(5, generator=g, dtype=torch.float64)
        self.w2 = torch.randn(5, generator=g, dtype=torch.float64)
        self.u = torch.randn(dim, generator=g, dtype=torch.float64)
        self.c = 0.5
        self.dim, self.seed = dim, seed
        self.rewind = rewind
        self.state = None if rewind is None else rewind.get_state()
        self.integer = integer

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rewind is not None:
            self.rewind.set_state(self.state)
        w1, b1, w2, u = (t.to(x.dtype) for t in (self.w1, self.b1, self.w2, self.u))
        scores = torch.tanh(x @ w1 + b1) @ w2 + self.c * (x @ u)
        return scores.long() if self.integer else scores

    def input_gradient(self, x: list[float]) -> list[float]:
        """The closed form, in float64 Python arithmetic, at one point ``x`` (a list)."""
        w1, b1, w2, u = (t.tolist() for t in (self.w1, self.b1, self.w2, self.u))
        pre = [sum(x[d] * w1[d][h] for d in range(self.dim)) + b1[h] for h in range(5)]
        slope = [w2[h] * (1 - math.tanh(pre[h]) ** 2) for h in range(5)]
        return [sum(w1[d][h] * slope[h] for h in range(5)) + self.c * u[d] for d in range(self.dim)]

    # the contract's integer-input test calls args[0].round().long()
    def round(self) -> FixedCritic:
        return self

    def long(self) -> FixedCritic:
        return FixedCritic(self.dim, self.seed, self.rewind, integer=True)


def _draw_eps(generator: torch.Generator, rows: int) -> list[float]:
    """ε as the penalty draws it (float32 from ``generator``), then rewinds ``generator``."""
    state = generator.get_state()
    eps = torch.rand(rows, generator=generator, dtype=torch.float32).double().tolist()
    generator.set_state(state)
    return eps


def ref_gradient_penalty(critic, real, fake, *, weight=10.0, generator=None):
    eps = _draw_eps(generator, real.shape[0])
    total = 0.0
    for i in range(real.shape[0]):
        r, f = real[i].tolist(), fake[i].tolist()
        x_hat = [eps[i] * a + (1 - eps[i]) * b for a, b in zip(r, f, strict=True)]
        norm = math.sqrt(sum(v * v for v in critic.input_gradient(x_hat)))
        total += (norm - 1) ** 2
    return torch.tensor(weight * total / real.shape[0], dtype=torch.float64)


def _gp_make(g, dt, s):
    seed = int(torch.randint(0, 1000, (1,), generator=g))
    eps_gen = torch.Generator().manual_seed(seed)
    critic = FixedCritic(D, seed, rewind=eps_gen)
    real, fake = randn(g, B, D, dtype=dt, scale=s), randn(g, B, D, dtype=dt, scale=s)
    return (critic, real, fake), {"weight": 2.0, "generator": eps_gen}


add(
    Case(
        "gradient_penalty",
        _gp_make,
        ref_gradient_penalty,
        grad_args=(1, 2),
        batch_args=(1, 2),
        reductions=False,
        per_example=False,
        rtol=1e-6,
        atol=1e-8,
    )
)


def ref_r1(critic, real, *, gamma=10.0):
    total = sum(sum(v * v for v in critic.input_gradient(real[i].tolist())) for i in range(real.shape[0]))
    return torch.tensor(0.5 * gamma * total / real.shape[0], dtype=torch.float64)


def _r1_make(g, dt, s):
    seed = int(torch.randint(0, 1000, (1,), generator=g))
    return (FixedCritic(D, seed), randn(g, B, D, dtype=dt, scale=s)), {"gamma": 3.0}


add(
    Case(
        "r1_penalty",
        _r1_make,
        ref_r1,
        grad_args=(1,),
        batch_args=(1,),
        reductions=False,
        per_example=False,
        rtol=1e-6,
        atol=1e-8,
    )
)


# ------------------------------------------------------------------------ diffusion, flow matching


def _min_snr_weight(ab: float, gamma: float, parameterization: str) -> float:
    """diffusers' weights, min(snr, γ)/snr, min(snr, γ)/(snr + 1), min(snr, γ), with their
    limits written out where SNR = ab / (1 - ab) is 0 or infinite."""
    if ab == 0.0:
        return {"eps": 1.0, "v": 0.0, "x0": 0.0}[parameterization]
    if ab == 1.0:
        return {"eps": 0.0, "v": 0.0, "x0": gamma}[parameterization]
    snr = ab / (1 - ab)
    clipped = min(snr, gamma)
    return {"eps": clipped / snr, "v": clipped / (snr + 1), "x0": clipped}[parameterization]


def ref_diffusion(prediction, x0, noise, alpha_bar, *, parameterization="eps", min_snr_gamma=None):
    out = []
    for i in range(prediction.shape[0]):
        ab = float(alpha_bar[i])
        p, x, e = prediction[i].flatten().tolist(), x0[i].flatten().tolist(), noise[i].flatten().tolist()
        if parameterization == "eps":
            target = e
        elif parameterization == "x0":
            target = x
        else:
            target = [math.sqrt(ab) * ei - math.sqrt(1 - ab) * xi for ei, xi in zip(e, x, strict=True)]
        mse = sum((a - b) ** 2 for a, b in zip(p, target, strict=True)) / len(p)
        w = 1.0 if min_snr_gamma is None else _min_snr_weight(ab, min_snr_gamma, parameterization)
        out.append(w * mse)
    return torch.tensor(out, dtype=torch.float64)


def _diffusion_make(parameterization, gamma):
    def make(g, dt, s):
        alpha_bar = rand(g, B, dtype=torch.float64)
        alpha_bar[0], alpha_bar[1] = 0.0, 1.0  # the ends of the schedule
        args = (
            randn(g, B, 3, 2, dtype=dt, scale=s),
            randn(g, B, 3, 2, dtype=dt),
            randn(g, B, 3, 2, dtype=dt),
            alpha_bar.to(dt),
        )
        kwargs = {"parameterization": parameterization}
        if gamma is not None:
            kwargs["min_snr_gamma"] = gamma
        return args, kwargs

    return make


for _p in ("eps", "x0", "v"):
    for _gamma in (None, 5.0):
        add(
            Case(
                "diffusion_loss",
                _diffusion_make(_p, _gamma),
                ref_diffusion,
                label=_p if _gamma is None else f"{_p}-min-snr",
                batch_args=(0, 1, 2, 3),
            )
        )


def ref_flow_matching(velocity, x0, x1):
    out = []
    for i in range(velocity.shape[0]):
        v, a, b = velocity[i].flatten().tolist(), x0[i].flatten().tolist(), x1[i].flatten().tolist()
        out.append(sum((vi - (bi - ai)) ** 2 for vi, ai, bi in zip(v, a, b, strict=True)) / len(v))
    return torch.tensor(out, dtype=torch.float64)


add(
    Case(
        "flow_matching_loss",
        lambda g, dt, s: (
            (randn(g, B, 2, dtype=dt, scale=s), randn(g, B, 2, dtype=dt), randn(g, B, 2, dtype=dt, scale=s)),
            {},
        ),
        ref_flow_matching,
        batch_args=(0, 1, 2),
    )
)
