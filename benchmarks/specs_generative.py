"""Benchmark specs of the generative family (issue 14), to be merged into ``specs.SPECS``.

References: ``torch.distributions.kl_divergence`` for the Gaussian KL (and in the VAE loss,
with ``F.binary_cross_entropy_with_logits``); the GAN losses through
``F.binary_cross_entropy_with_logits`` (non-saturating) or their formulas; the penalties as
the usual ``autograd.grad(..., create_graph=True)`` recipe with the same critic; diffusion
as diffusers' example training scripts compute it (v target of ``get_velocity``, min-SNR
weights ``min(snr, γ) / snr``), written with plain torch operations on ``alpha_bar``;
flow matching as ``F.mse_loss``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from specs import Spec
from torch.distributions import Normal, kl_divergence


def _rows(n: int, width: int) -> int:
    return max(2, n // width)


def _mu_logvar(n, g, d=16):
    rows = _rows(n, d)
    return (torch.randn(rows, d, generator=g), torch.randn(rows, d, generator=g)), {}


def _ref_kl(mu, logvar, reduction="mean"):
    q = Normal(mu, (0.5 * logvar).exp())
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1).mean()


def _vae_batch(n, g, d=64, z=8):
    rows = _rows(n, d)
    recon = torch.randn(rows, d, generator=g)
    target = torch.rand(rows, d, generator=g)
    return (recon, target, torch.randn(rows, z, generator=g), torch.randn(rows, z, generator=g)), {}


def _ref_vae(recon, target, mu, logvar):
    nll = F.binary_cross_entropy_with_logits(recon, target, reduction="none").sum(1)
    q = Normal(mu, (0.5 * logvar).exp())
    kl = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    return (nll + kl).mean()


def _logit_pair(n, g):
    return (torch.randn(n // 2 or 1, generator=g), torch.randn(n // 2 or 1, generator=g)), {}


def _ref_discriminator(real, fake):
    return (
        F.binary_cross_entropy_with_logits(real, torch.ones_like(real), reduction="none")
        + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake), reduction="none")
    ).mean()


def _fake_logits(n, g):
    return (torch.randn(n, generator=g),), {}


def _ref_generator(fake):
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _critic(d: int, g: torch.Generator) -> torch.nn.Module:
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=g)))
    return torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))


def _gp_batch(n, g, d=32):
    rows = _rows(n, 2 * d)
    real, fake = torch.randn(rows, d, generator=g), torch.randn(rows, d, generator=g)
    return (_critic(d, g), real, fake), {"weight": 10.0, "generator": torch.Generator().manual_seed(GP_SEED)}


GP_SEED = 0  # the interpolation weights' seed: the reference redraws them from it


def _ref_gradient_penalty(critic, real, fake, weight=10.0, generator=None):
    """WGAN-GP as usually written; ε is redrawn from ``GP_SEED`` (losslib has advanced the
    shared ``generator`` already)."""
    eps = torch.rand(real.shape[0], 1, generator=torch.Generator().manual_seed(GP_SEED))
    x_hat = eps * real + (1 - eps) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return weight * ((grad.norm(dim=1) - 1) ** 2).mean()


def _r1_batch(n, g, d=32):
    rows = _rows(n, d)
    return (_critic(d, g), torch.randn(rows, d, generator=g)), {"gamma": 10.0}


def _ref_r1(critic, real, gamma=10.0):
    x = real if real.requires_grad else real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return 0.5 * gamma * grad.pow(2).sum(1).mean()


def _diffusion_batch(n, g, d=64):
    rows = _rows(n, 3 * d)
    x0, noise, pred = (torch.randn(rows, d, generator=g) for _ in range(3))
    alpha_bar = torch.rand(rows, generator=g) * 0.98 + 0.01
    return (pred, x0, noise, alpha_bar), {"parameterization": "v", "min_snr_gamma": 5.0}


def _ref_diffusion(pred, x0, noise, alpha_bar, parameterization="v", min_snr_gamma=5.0):
    a = alpha_bar.view(-1, 1)
    target = a.sqrt() * noise - (1 - a).sqrt() * x0  # DDPMScheduler.get_velocity
    snr = alpha_bar / (1 - alpha_bar)  # compute_snr
    w = torch.stack([snr, min_snr_gamma * torch.ones_like(snr)], dim=1).min(dim=1)[0] / (snr + 1)
    return (F.mse_loss(pred, target, reduction="none").mean(1) * w).mean()


def _flow_batch(n, g, d=2):
    rows = _rows(n, 3 * d)
    return tuple(torch.randn(rows, d, generator=g) for _ in range(3)), {}


def _ref_flow(velocity, x0, x1):
    return F.mse_loss(velocity, x1 - x0)


SPECS = {
    "gaussian_kl_loss": Spec(_mu_logvar, _ref_kl, "torch built-in", grad_args=(0, 1)),
    "vae_loss": Spec(_vae_batch, _ref_vae, "torch built-in", grad_args=(0, 2, 3)),
    "gan_discriminator_loss": Spec(_logit_pair, _ref_discriminator, "torch built-in", grad_args=(0, 1)),
    "gan_generator_loss": Spec(_fake_logits, _ref_generator, "torch built-in"),
    "gradient_penalty": Spec(_gp_batch, _ref_gradient_penalty, "formula", grad_args=(1, 2)),
    "r1_penalty": Spec(_r1_batch, _ref_r1, "formula", grad_args=(1,)),
    "diffusion_loss": Spec(_diffusion_batch, _ref_diffusion, "third-party"),
    "flow_matching_loss": Spec(_flow_batch, _ref_flow, "torch built-in"),
}
