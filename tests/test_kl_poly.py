"""kl_divergence, poly1_loss, poly_loss: torch equality, the information-theoretic
identities, zeros in the target, the polynomial expansions of Leng et al. (2022), and every
documented error."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
SEEDS = st.integers(0, 100_000)


def draw(seed, *shape, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def distribution(seed, *shape):
    return torch.softmax(draw(seed + 1, *shape, scale=1.5), dim=1)


def entropy(p):
    return -torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0)), 0.0).sum(dim=1)


# ------------------------------------------------------------------------ KL divergence


@SETTINGS
@given(seed=SEEDS, n=st.integers(1, 6), c=st.integers(2, 6))
def test_kl_mean_is_torch_batchmean_and_none_is_kl_div_summed(seed, n, c):
    z, p = draw(seed, n, c), distribution(seed, n, c)
    log_q = F.log_softmax(z, dim=1)
    torch.testing.assert_close(losslib.kl_divergence(z, p), F.kl_div(log_q, p, reduction="batchmean"))
    torch.testing.assert_close(
        losslib.kl_divergence(z, p, reduction="none"), F.kl_div(log_q, p, reduction="none").sum(dim=1)
    )
    torch.testing.assert_close(losslib.kl_divergence(z, p, reduction="sum"), F.kl_div(log_q, p, reduction="sum"))


def test_torch_mean_reduction_is_not_the_kl_divergence():
    """The "batchmean" pitfall: torch's reduction="mean" divides by N*C, not N."""
    z, p = draw(0, 4, 5), distribution(0, 4, 5)
    ours = losslib.kl_divergence(z, p)
    with warnings.catch_warnings():  # torch warns that this "mean" is not the KL divergence
        warnings.simplefilter("ignore", UserWarning)
        torch_mean = F.kl_div(F.log_softmax(z, 1), p, reduction="mean")
    torch.testing.assert_close(torch_mean * 5, ours)
    assert not torch.allclose(torch_mean, ours)


def test_kl_spatial_input_sums_over_dim_1_only():
    z, p = draw(3, 2, 3, 4, 5), distribution(3, 2, 3, 4, 5)
    out = losslib.kl_divergence(z, p, reduction="none")
    assert out.shape == (2, 4, 5)
    want = (p * (p.log() - F.log_softmax(z, 1))).sum(1)
    torch.testing.assert_close(out, want)


@SETTINGS
@given(seed=SEEDS, c=st.integers(2, 8))
def test_kl_is_nonnegative_and_zero_iff_target_is_the_model(seed, c):
    z, p = draw(seed, 5, c), distribution(seed, 5, c)
    kl = losslib.kl_divergence(z, p, reduction="none")
    assert (kl >= 0).all()
    # at the model's own distribution it vanishes ...
    at_model = losslib.kl_divergence(z, torch.softmax(z, 1), reduction="none")
    torch.testing.assert_close(at_model, torch.zeros(5, dtype=torch.float64), atol=1e-12, rtol=0)
    # ... and away from it, it is strictly positive (Gibbs' inequality)
    differs = (p - torch.softmax(z, 1)).abs().amax(dim=1) > 1e-3
    assert (kl[differs] > 1e-9).all()


@SETTINGS
@given(seed=SEEDS, shift=st.floats(-30, 30))
def test_kl_is_invariant_to_shifting_the_logits(seed, shift):
    z, p = draw(seed, 3, 4), distribution(seed, 3, 4)
    torch.testing.assert_close(losslib.kl_divergence(z + shift, p), losslib.kl_divergence(z, p))


@SETTINGS
@given(seed=SEEDS)
def test_cross_entropy_is_entropy_plus_kl(seed):
    """H(p, q) = H(p) + D_KL(p || q), checked against losslib.cross_entropy (probability targets)."""
    z, p = draw(seed, 6, 5), distribution(seed, 6, 5)
    ce = losslib.cross_entropy(z, p, reduction="none")
    torch.testing.assert_close(ce, entropy(p) + losslib.kl_divergence(z, p, reduction="none"))


def test_kl_and_cross_entropy_have_the_same_gradient_in_the_logits():
    z = draw(7, 8, 4).requires_grad_(True)
    p = distribution(7, 8, 4)
    (g_kl,) = torch.autograd.grad(losslib.kl_divergence(z, p), z)
    (g_ce,) = torch.autograd.grad(losslib.cross_entropy(z, p), z)
    torch.testing.assert_close(g_kl, g_ce)
    torch.testing.assert_close(g_kl, (torch.softmax(z, 1) - p).detach() / 8)  # (q - p) / N
    # yet the values differ by the mean entropy of the targets
    gap = losslib.cross_entropy(z, p) - losslib.kl_divergence(z, p)
    torch.testing.assert_close(gap, entropy(p).mean())


def test_kl_with_one_hot_target_is_cross_entropy():
    z, y = draw(11, 6, 4), torch.tensor([0, 3, 1, 2, 2, 0])
    one_hot = F.one_hot(y, 4).double()
    torch.testing.assert_close(
        losslib.kl_divergence(z, one_hot, reduction="none"), losslib.cross_entropy(z, y, reduction="none")
    )


def test_zeros_in_target_give_finite_loss_and_finite_gradients():
    """Hard case: 0 log 0 = 0. F.kl_div gives a NaN gradient for the target there."""
    z = torch.tensor([[2.0, -1.0, 0.5, 3.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    p = torch.tensor([[0.0, 0.25, 0.75, 0.0], [1.0, 0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    loss = losslib.kl_divergence(z, p, reduction="none")
    log_q = F.log_softmax(z, 1)
    # value: only the support of p counts
    want0 = 0.25 * (math.log(0.25) - log_q[0, 1]) + 0.75 * (math.log(0.75) - log_q[0, 2])
    want1 = -log_q[1, 0]
    torch.testing.assert_close(loss, torch.stack([want0, want1]).detach())
    gz, gp = torch.autograd.grad(loss.sum(), (z, p))
    assert torch.isfinite(gz).all() and torch.isfinite(gp).all()
    torch.testing.assert_close(gz, (torch.softmax(z, 1) - p).detach())
    # d/dp_c [p log p - p log q] = log p_c + 1 - log q_c on the support, -log q_c off it (0 log 0 := 0)
    support = p.detach() > 0
    lp = torch.where(support, p.detach(), torch.ones_like(p)).log()
    want_gp = torch.where(support, lp + 1, torch.zeros_like(lp)) - log_q.detach()
    torch.testing.assert_close(gp, want_gp)
    # the naive form is NaN where p = 0
    naive = (p * (p.log() - log_q)).sum(1)
    assert torch.isnan(naive).any()


def test_zeros_in_target_with_extreme_logits_in_float32():
    z = torch.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    p = torch.tensor([[0.0, 0.0, 1.0]], requires_grad=True)
    loss = losslib.kl_divergence(z, p)
    torch.testing.assert_close(loss, torch.tensor(1e4))
    gz, gp = torch.autograd.grad(loss, (z, p))
    assert torch.isfinite(gz).all() and torch.isfinite(gp).all()


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_target_with_and_without_gradient_take_paths_that_agree(scale):
    """A target without gradient takes torch's fused kl_div; one with gradient, the xlogy form."""
    g = torch.Generator().manual_seed(3)
    z = scale * torch.randn(6, 5, 3, generator=g, dtype=torch.float64)
    p = torch.softmax(torch.randn(6, 5, 3, generator=g, dtype=torch.float64), 1)
    p[0, :, 0] = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # zeros in the target
    values, grads = [], []
    for target_grad in (False, True):
        zz, pp = z.clone().requires_grad_(True), p.clone().requires_grad_(target_grad)
        loss = losslib.kl_divergence(zz, pp, reduction="none")
        values.append(loss.detach())
        grads.append(torch.autograd.grad(loss.sum(), zz)[0])
    torch.testing.assert_close(values[0], values[1])
    torch.testing.assert_close(grads[0], grads[1])
    assert torch.isfinite(values[0]).all() and torch.isfinite(grads[0]).all()


# ---------------------------------------------------------------------------- PolyLoss


def p_true(z, y):
    return torch.softmax(z, 1).gather(1, y.unsqueeze(1)).squeeze(1)


@SETTINGS
@given(seed=SEEDS)
def test_poly1_with_epsilon_zero_is_cross_entropy(seed):
    z, y = draw(seed, 7, 5), torch.randint(0, 5, (7,), generator=torch.Generator().manual_seed(seed))
    for r in ("none", "mean", "sum"):
        torch.testing.assert_close(
            losslib.poly1_loss(z, y, epsilon=0.0, reduction=r), F.cross_entropy(z, y, reduction=r)
        )
        torch.testing.assert_close(
            losslib.poly_loss(z, y, epsilons=[0.0, 0.0, 0.0], reduction=r), F.cross_entropy(z, y, reduction=r)
        )


@SETTINGS
@given(seed=SEEDS, eps=st.floats(-1.0, 10.0))
def test_poly_loss_with_one_coefficient_is_poly1(seed, eps):
    z, y = draw(seed, 6, 4), torch.randint(0, 4, (6,), generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(
        losslib.poly_loss(z, y, epsilons=[eps], reduction="none"),
        losslib.poly1_loss(z, y, epsilon=eps, reduction="none"),
    )


@SETTINGS
@given(
    seed=SEEDS,
    eps=st.lists(st.floats(-1.0, 3.0), min_size=1, max_size=5),
)
def test_poly_n_is_the_papers_coefficient_form(seed, eps):
    """Leng et al. eq. (1)-(2): sum_j alpha_j (1 - P_t)^j with alpha_j = 1/j + eps_j for j <= N and
    1/j beyond; the infinite series is summed to 3000 terms (1 - p_t < 0.98 makes the tail < 1e-26)."""
    z, y = draw(seed, 5, 3, scale=0.5), torch.randint(0, 3, (5,), generator=torch.Generator().manual_seed(seed))
    u = 1 - p_true(z, y)
    assert (u < 0.98).all()
    j = torch.arange(1, 3001, dtype=torch.float64)
    alpha = 1 / j
    alpha[: len(eps)] += torch.tensor(eps, dtype=torch.float64)
    want = (alpha * u.unsqueeze(1) ** j).sum(dim=1)
    torch.testing.assert_close(losslib.poly_loss(z, y, epsilons=eps, reduction="none"), want)


@pytest.mark.parametrize("p_t", [0.999, 0.9, 0.5, 0.2, 0.05])
def test_taylor_expansion_of_cross_entropy_converges(p_t):
    """-log p = sum_j (1-p)^j / j: truncation error shrinks with the order, below u^(J+1)/((J+1)(1-u))."""
    u = 1 - p_t
    exact = -math.log(p_t)
    errors = []
    for order in (1, 5, 25, 125, 625):
        partial = sum(u**j / j for j in range(1, order + 1))
        error = exact - partial
        bound = u ** (order + 1) / ((order + 1) * (1 - u))
        assert -1e-13 <= error <= bound + 1e-13  # up to float64 round-off of the partial sum
        errors.append(error)
    assert errors[0] > 0 and errors[-1] < 1e-13
    assert errors[-1] < errors[0]


def test_focal_expansion_is_a_shift_of_the_cross_entropy_coefficients():
    """-(1-p)^gamma log p = sum_j (1-p)^(j+gamma) / j (Leng et al. eq. 2)."""
    p = torch.linspace(0.3, 0.99, 20, dtype=torch.float64)
    for gamma in (0.5, 1.0, 2.0):
        focal = -((1 - p) ** gamma) * torch.log(p)
        j = torch.arange(1, 300, dtype=torch.float64)
        series = ((1 - p).unsqueeze(1) ** (j + gamma) / j).sum(1)
        torch.testing.assert_close(focal, series)


@SETTINGS
@given(seed=SEEDS, eps_seed=st.lists(st.floats(-0.9, 3.0), min_size=1, max_size=4))
def test_seed_form_with_one_over_j_converts_to_epsilons_over_j(seed, eps_seed):
    """The seed's CE + sum_i eps'_i (1-p_t)^i / i equals poly_loss(epsilons=[eps'_i / i])."""
    z, y = draw(seed, 6, 4), torch.randint(0, 4, (6,), generator=torch.Generator().manual_seed(seed))
    u = 1 - p_true(z, y)
    seed_form = F.cross_entropy(z, y, reduction="none") + sum(e * u**i / i for i, e in enumerate(eps_seed, 1))
    converted = [e / i for i, e in enumerate(eps_seed, 1)]
    torch.testing.assert_close(losslib.poly_loss(z, y, epsilons=converted, reduction="none"), seed_form)


def test_poly1_derivative_in_p_t_is_minus_one_over_p_t_minus_epsilon():
    """On two logits [0, s] with target 1, p_t = sigmoid(s); d loss/d p_t = -1/p_t - eps."""
    s = torch.linspace(-4, 4, 41, dtype=torch.float64)
    y = torch.ones(41, dtype=torch.long)
    for eps in (-1.0, 0.0, 1.0, 2.0):
        pt = torch.sigmoid(s).requires_grad_(True)
        z = torch.stack([torch.zeros_like(pt), torch.log(pt) - torch.log1p(-pt)], dim=1)
        (g,) = torch.autograd.grad(losslib.poly1_loss(z, y, epsilon=eps, reduction="sum"), pt)
        torch.testing.assert_close(g, -1 / pt.detach() - eps)


@SETTINGS
@given(seed=SEEDS, eps=st.floats(-1.0, 5.0))
def test_poly1_gradient_in_the_logits_is_cross_entropy_gradient_scaled_by_1_plus_eps_pt(seed, eps):
    z = draw(seed, 5, 4).requires_grad_(True)
    y = torch.randint(0, 4, (5,), generator=torch.Generator().manual_seed(seed))
    (g,) = torch.autograd.grad(losslib.poly1_loss(z, y, epsilon=eps, reduction="sum"), z)
    q = torch.softmax(z, 1).detach()
    want = (1 + eps * p_true(z, y).detach())[:, None] * (q - F.one_hot(y, 4).double())
    torch.testing.assert_close(g, want)


@SETTINGS
@given(seed=SEEDS, eps=st.floats(-1.0, 5.0), bump=st.floats(0.1, 20.0))
def test_poly1_falls_as_the_true_logit_rises(seed, eps, bump):
    z = draw(seed, 1, 4)
    y = torch.tensor([seed % 4])
    higher = z.clone()
    higher[0, y] += bump
    assert losslib.poly1_loss(higher, y, epsilon=eps) < losslib.poly1_loss(z, y, epsilon=eps)
    assert losslib.poly1_loss(higher, y, epsilon=eps) >= 0


def test_learnable_epsilons_receive_the_polynomial_terms_as_gradient():
    z, y = draw(5, 6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    eps = torch.tensor([0.5, 0.1], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(losslib.poly_loss(z, y, epsilons=eps, reduction="sum"), eps)
    u = 1 - p_true(z, y)
    torch.testing.assert_close(g, torch.stack([u.sum(), (u**2).sum()]))


# ------------------------------------------------------------------------------ errors


def test_kl_errors():
    z, p = draw(0, 4, 3), distribution(0, 4, 3)
    with pytest.raises(ValueError, match=r"target must have the shape of logits \(4, 3\)"):
        losslib.kl_divergence(z, p[:, :2])
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        losslib.kl_divergence(z, p * 2)
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        losslib.kl_divergence(z, p - 0.5)
    with pytest.raises(TypeError, match="target must be a floating-point tensor"):
        losslib.kl_divergence(z, torch.tensor([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        losslib.kl_divergence(z.long(), p)
    with pytest.raises(ValueError, match="logits must have shape"):
        losslib.kl_divergence(z[0], p[0])
    with pytest.raises(ValueError, match="logits must not be empty"):
        losslib.kl_divergence(z[:0], p[:0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        losslib.kl_divergence(z, p, reduction="batchmean")
    with losslib.value_checks(False):  # the probability range is a switchable value check
        assert torch.isfinite(losslib.kl_divergence(z, p * 2))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epsilon": float("nan")}, ValueError, "epsilon must be finite"),
        ({"epsilon": float("inf")}, ValueError, "epsilon must be finite"),
        ({"epsilon": -1.5}, ValueError, "epsilon must be >= -1"),
        ({"epsilon": "1"}, TypeError, "epsilon must be a real number"),
        ({"epsilon": True}, TypeError, "epsilon must be a real number"),
        ({"epsilon": None}, TypeError, "epsilon must be a real number"),
        ({"epsilon": [1.0]}, TypeError, "epsilon must be a real number"),
    ],
)
def test_poly1_bad_epsilon(kwargs, error, match):
    z, y = draw(0, 4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(error, match=match):
        losslib.poly1_loss(z, y, **kwargs)


@pytest.mark.parametrize(
    ("epsilons", "error", "match"),
    [
        ([], ValueError, "epsilons must not be empty"),
        (torch.tensor([]), ValueError, "epsilons must not be empty"),
        (torch.ones(2, 2), ValueError, "epsilons must be 1-D"),
        ([[1.0, 2.0]], ValueError, "epsilons must be 1-D"),
        (torch.tensor([1, 2]), TypeError, "epsilons must be a floating-point tensor"),
        ([1.0, float("nan")], ValueError, r"epsilons\[1\] must be finite"),
        (torch.tensor([1.0, float("inf")]), ValueError, "epsilons must hold finite numbers"),
        ([1.0, "2"], TypeError, r"epsilons\[1\] must be a real number"),
        ([False], TypeError, r"epsilons\[0\] must be a real number"),
        ("12", TypeError, "epsilons must be a sequence or 1-D tensor"),
        (1.0, TypeError, "epsilons must be a sequence or 1-D tensor"),
        (None, TypeError, "epsilons must be a sequence or 1-D tensor"),
        ([-2.0, 1.0], ValueError, r"epsilons\[0\] must be >= -1"),
        (torch.tensor([-1.01]), ValueError, r"epsilons\[0\] must be >= -1"),
    ],
)
def test_poly_loss_bad_epsilons(epsilons, error, match):
    z, y = draw(0, 4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(error, match=match):
        losslib.poly_loss(z, y, epsilons=epsilons)


def test_poly_loss_requires_epsilons_and_accepts_ints_and_tuples():
    z, y = draw(0, 4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(TypeError, match="epsilons"):
        losslib.poly_loss(z, y)  # keyword-only and required
    torch.testing.assert_close(losslib.poly_loss(z, y, epsilons=(1, 0)), losslib.poly1_loss(z, y, epsilon=1))


@pytest.mark.parametrize("fn", [losslib.poly1_loss, lambda z, y, **k: losslib.poly_loss(z, y, epsilons=[1.0], **k)])
def test_poly_target_errors(fn):
    z = draw(0, 4, 3)
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        fn(z, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        fn(z, torch.softmax(z, 1))
    with pytest.raises(ValueError, match="target must have shape"):
        fn(z, torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        fn(z.long(), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(z, torch.tensor([0, 1, 2, 0]), reduction="avg")
