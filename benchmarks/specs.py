"""What `make bench` times: for each catalogue loss, inputs of about n elements and the
reference implementation it is compared with (torch, MONAI, pytorch-metric-learning or a
transcription of the paper's formula written with plain torch operations)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Make = Callable[[int, torch.Generator], tuple[tuple, dict]]


@dataclass(frozen=True)
class Spec:
    make: Make  # n elements -> (args, kwargs) shared by losslib and the reference
    reference: Callable  # same call signature as the losslib function, returns a scalar
    kind: str  # "torch built-in", "third-party" or "formula"
    grad_args: tuple[int, ...] = (0,)


def _rows(n: int, width: int) -> int:
    return max(2, n // width)


def _logits_idx(n, g, c=10):
    rows = _rows(n, c)
    return (torch.randn(rows, c, generator=g), torch.randint(0, c, (rows,), generator=g)), {}


def _logits_probs(n, g, c=10):
    rows = _rows(n, c)
    z = torch.randn(rows, c, generator=g)
    return (z, torch.softmax(torch.randn(rows, c, generator=g), 1)), {}


def _binary(n, g):
    return (torch.randn(n, generator=g), torch.randint(0, 2, (n,), generator=g).float()), {}


def _signed(n, g):
    return (torch.randn(n, generator=g), torch.randint(0, 2, (n,), generator=g).float() * 2 - 1), {}


def _pair(n, g):
    return (torch.randn(n, generator=g), torch.randn(n, generator=g)), {}


def _positive_pair(n, g):
    return (torch.rand(n, generator=g) * 5, torch.rand(n, generator=g) * 5), {}


def _log_rate_counts(n, g):
    log_rate = torch.randn(n, generator=g)
    return (log_rate, torch.poisson(torch.exp(torch.randn(n, generator=g)), generator=g)), {}


def _probs_pair(n, g):
    return (torch.rand(n, generator=g), torch.randint(0, 2, (n,), generator=g).float()), {}


def _segmentation(n, g):
    side = max(2, int(math.sqrt(n / 4)))
    probs = torch.softmax(torch.randn(2, 2, side, side, generator=g), 1)
    labels = torch.randint(0, 2, (2, side, side), generator=g)
    return (probs, F.one_hot(labels, 2).movedim(-1, 1).float()), {}


def _embeddings(n, g, d=64, c=10):
    rows = _rows(n, d)
    return (
        torch.randn(rows, d, generator=g),
        torch.randn(c, d, generator=g),
        torch.randint(0, c, (rows,), generator=g),
    ), {}


def _ge2e(n, g, d=64):
    speakers = 8
    utterances = max(2, n // (speakers * d))
    return (torch.randn(speakers, utterances, d, generator=g),), {}


def _ranking_lists(n, g, items=20):
    rows = _rows(n, items)
    relevance = torch.randint(0, 5, (rows, items), generator=g)
    return (torch.randn(rows, items, generator=g), relevance), {}


def _sign_lists(n, g, items=20):
    (scores, relevance), _ = _ranking_lists(n, g, items)
    return (scores, torch.where(relevance > 1, 1.0, -1.0)), {}


def _bpr(n, g, k=4):
    rows = _rows(n, k + 1)
    return (torch.randn(rows, generator=g), torch.randn(rows, k, generator=g)), {}


def _in_batch(n, g):
    side = max(2, int(math.sqrt(n)))  # B = D = sqrt(n): the B x B similarities hold n numbers
    return (torch.randn(side, side, generator=g), torch.randn(side, side, generator=g)), {}


def _triplets(n, g, d=32):
    rows = _rows(n, 3 * d)
    return tuple(torch.randn(rows, d, generator=g) for _ in range(3)), {}


def _margin_pairs(n, g):
    (x1, x2), _ = _pair(n, g)
    return (x1, x2, torch.randint(0, 2, (n,), generator=g).float() * 2 - 1), {}


def _q_batch(n, g, a=6):
    rows = _rows(n, 2 * a)
    return (
        torch.randn(rows, a, generator=g),
        torch.randint(0, a, (rows,), generator=g),
        torch.randn(rows, generator=g),
        torch.randn(rows, a, generator=g),
        torch.rand(rows, generator=g) < 0.1,
    ), {}


def _log_probs_advantages(n, g):
    return (-torch.rand(n, generator=g) * 3, torch.randn(n, generator=g)), {}


def _ppo_batch(n, g):
    (log_probs, advantages), _ = _log_probs_advantages(n, g)
    return (log_probs, log_probs + 0.3 * torch.randn(n, generator=g), advantages), {}


def _rewards_no_ends(n, g, t=100):
    rows = _rows(n, t)
    return (torch.randn(rows, t, generator=g), torch.zeros(rows, t, dtype=torch.bool)), {}


def _rollouts(n, g, t=100):
    rows = _rows(n, 3 * t)
    values = torch.randn(rows, t + 1, generator=g)
    dones = torch.rand(rows, t, generator=g) < 0.05
    return (torch.randn(rows, t, generator=g), values[:, :-1], values[:, 1:], dones), {}


def _pairs_similar(n, g):
    # rows = D = sqrt(n / 2): pytorch-metric-learning scores all 2B x 2B pairs before it picks
    # the given ones, so B must stay moderate for its reference to fit in memory
    rows = d = max(2, int(math.sqrt(n / 2)))
    return (
        torch.randn(rows, d, generator=g),
        torch.randn(rows, d, generator=g),
        torch.randint(0, 2, (rows,), generator=g).float(),
    ), {}


def _normalised_proxies(n, g, d=32, c=10):
    rows = _rows(n, d)
    x = F.normalize(torch.randn(rows, d, generator=g), dim=1)
    return (x, torch.randint(0, c, (rows,), generator=g), F.normalize(torch.randn(c, d, generator=g), dim=1)), {}


def _two_views(n, g):
    # B <= 256: pytorch-metric-learning's NTXentLoss builds a (2B)^3 tensor (32 GB at B = 1000)
    b = min(max(2, int(math.sqrt(n))), 256)
    d = max(2, n // b)
    return (torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)), {}


def _labelled_features(n, g, c=10):
    (x, _), _ = _in_batch(n, g)
    return (x, torch.randint(0, c, (x.shape[0],), generator=g)), {}


# ------------------------------------------------------------------ references


def _focal_formula(z, y, gamma=2.0):
    log_p = F.log_softmax(z, 1).gather(1, y[:, None]).squeeze(1)
    return (-((1 - log_p.exp()) ** gamma) * log_p).mean()


def _sigmoid_focal_torchvision(x, t, alpha=0.25, gamma=2.0):
    # torchvision.ops.sigmoid_focal_loss, transcribed (its package does not import here)
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    return ((alpha * t + (1 - alpha) * (1 - t)) * loss).mean()


def _poly1_formula(z, y, epsilon=1.0):
    p_t = F.softmax(z, 1).gather(1, y[:, None]).squeeze(1)
    return (F.cross_entropy(z, y, reduction="none") + epsilon * (1 - p_t)).mean()


def _poly_formula(z, y, epsilons=(1.0, 0.5)):
    p_t = F.softmax(z, 1).gather(1, y[:, None]).squeeze(1)
    extra = sum(e * (1 - p_t) ** (j + 1) for j, e in enumerate(epsilons))
    return (F.cross_entropy(z, y, reduction="none") + extra).mean()


def _ge2e_formula(e, w=10.0, b=-5.0):
    e = F.normalize(e, dim=-1)  # the paper's embeddings are L2-normalised
    n, m, _ = e.shape
    centroids = e.mean(1)
    exclusive = (e.sum(1, keepdim=True) - e) / (m - 1)
    cos_all = F.cosine_similarity(e[:, :, None, :], centroids[None, None, :, :], dim=-1)
    cos_own = F.cosine_similarity(e, exclusive, dim=-1)
    own = torch.eye(n, dtype=torch.bool)[:, None, :].expand(n, m, n)
    s = w * torch.where(own, cos_own[:, :, None].expand(n, m, n), cos_all) + b
    return (-s[own].view(n, m) + torch.logsumexp(s, -1)).mean()


def _pml_loss(kind: str, num_classes: int, dim: int, margin, scale):
    from pytorch_metric_learning import losses

    cls = losses.ArcFaceLoss if kind == "arc" else losses.CosFaceLoss
    return cls(num_classes, dim, margin=margin, scale=scale)


def _pml_reference(kind: str, margin, scale):
    cache: dict = {}

    def ref(x, w, y):
        key = (kind, w.shape)
        if key not in cache:
            cache[key] = _pml_loss(kind, w.shape[0], w.shape[1], margin, scale)
        loss = cache[key]
        loss.W.data = w.detach().T.contiguous()
        return loss(x, y)

    return ref


def _monai(kind: str):
    cache: dict = {}

    def ref(p, g):
        if "loss" not in cache:  # imported on first use: MONAI takes seconds to import
            from monai.losses import DiceLoss, GeneralizedDiceLoss

            cache["loss"] = (
                DiceLoss(squared_pred=True, smooth_nr=1e-5, smooth_dr=1e-5)
                if kind == "dice"
                else GeneralizedDiceLoss(smooth_nr=1e-5, smooth_dr=1e-5)
            )
        return cache["loss"](p, g)

    return ref


def _huber_formula(e, delta=1.0):
    a = e.abs()
    return torch.where(a <= delta, 0.5 * e**2, delta * (a - 0.5 * delta))


def _sentence_transformers_mnr(scale=20.0):
    cache: dict = {}

    def ref(a, p):
        if "loss" not in cache:  # imported on first use: sentence-transformers takes seconds to import
            from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

            cache["loss"] = MultipleNegativesRankingLoss(model=None, scale=scale)  # no model needed
        return cache["loss"].compute_loss_from_embeddings([a, p], labels=None)

    return ref


def _pair_terms(scores, relevance):
    diffs = scores[:, :, None] - scores[:, None, :]
    return diffs, relevance[:, :, None] > relevance[:, None, :]


def _per_list_pair_mean(terms, pairs):
    count = pairs.sum((1, 2))
    per_list = (terms * pairs).sum((1, 2)) / count.clamp(min=1)
    return per_list.sum() / (count > 0).sum()


def _ranknet_formula(s, r):
    diffs, pairs = _pair_terms(s, r)
    return _per_list_pair_mean(F.softplus(-diffs), pairs)


def _pairwise_hinge_formula(s, r, margin=1.0):
    diffs, pairs = _pair_terms(s, r)
    return _per_list_pair_mean(torch.relu(margin - diffs), pairs)


def _soft_pairwise_formula(s, y):
    n = s.shape[1]
    pairs = ~torch.eye(n, dtype=torch.bool).expand(s.shape[0], n, n)
    return _per_list_pair_mean(F.softplus(-y[:, :, None] * (s[:, :, None] - s[:, None, :])), pairs)


def _listnet_formula(s, r):
    return -(torch.softmax(r.to(s.dtype), -1) * torch.log_softmax(s, -1)).sum(-1).mean()


def _listmle_formula(s, r):
    order = torch.sort(r, dim=-1, descending=True, stable=True).indices
    ordered = s.gather(-1, order)
    return -(ordered - torch.logcumsumexp(ordered.flip(-1), -1).flip(-1)).sum(-1).mean()


def _lambda_rank_rax(s, r):
    # rax pairwise_logistic_loss with dcg_lambdaweight(normalize=True), transcribed; / N per list
    n = s.shape[1]
    ranks = torch.argsort(torch.argsort(s.detach(), dim=-1, descending=True, stable=True), dim=-1) + 1
    gains = torch.exp2(r.to(s.dtype)) - 1
    ideal = (torch.sort(gains, -1, descending=True).values / torch.log2(torch.arange(2, n + 2.0))).sum(-1)
    gains = gains / ideal[:, None]
    discounts = 1 / torch.log2(1 + ranks.to(s.dtype))
    weights = (gains[:, :, None] - gains[:, None, :]).abs() * (discounts[:, :, None] - discounts[:, None, :]).abs()
    diffs, pairs = _pair_terms(s, r)
    return (weights * F.softplus(-diffs) * pairs).sum() / pairs.any(-1).any(-1).sum()


def _approx_ndcg_allrank(s, r, eps=1e-10):
    # allRank's approxNDCGLoss without padding, transcribed
    s_sorted, idx = s.sort(descending=True, dim=-1)
    rel = r.to(s.dtype)
    true_by_pred = rel.gather(1, idx)
    n = s.shape[1]
    discounts = torch.log2(1.0 + torch.arange(1, n + 1, dtype=s.dtype))[None, :]
    max_dcg = ((torch.pow(2, rel.sort(descending=True, dim=-1).values) - 1) / discounts).sum(-1).clamp(min=eps)
    gains = (torch.pow(2, true_by_pred) - 1) / max_dcg[:, None]
    diffs = s_sorted[:, :, None] - s_sorted[:, None, :]
    off_diagonal = ~torch.eye(n, dtype=torch.bool)
    approx_pos = 1.0 + (off_diagonal * torch.sigmoid(-diffs).clamp(min=eps)).sum(-1)
    return -(gains / torch.log2(1.0 + approx_pos)).sum(-1).mean()


def _dqn_mse_formula(q, a, r, nq, d, gamma=0.99):
    # stable-baselines3's DQN target (dqn.py), with the squared error
    with torch.no_grad():
        target = r + (1 - d.float()) * gamma * nq.max(dim=1).values
    return F.mse_loss(q.gather(1, a[:, None]).squeeze(1), target)


def _ppo_sb3(lp, old, adv, clip_range=0.2):
    # stable-baselines3's PPO policy loss (ppo.py), transcribed
    ratio = torch.exp(lp - old)
    return -torch.min(adv * ratio, adv * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()


def _returns_lfilter(rewards, dones, gamma=0.99):
    # scipy's IIR filter y_t = r_t + γ y_{t+1}, run backwards in time (no episode ends)
    from scipy.signal import lfilter

    flipped = rewards.flip(-1).numpy()
    return torch.from_numpy(lfilter([1.0], [1.0, -gamma], flipped, axis=-1).copy()).flip(-1)


def _gae_sb3(rewards, values, next_values, dones, gamma=0.99, lam=0.95):
    # stable-baselines3's RolloutBuffer, one environment per row (next_values = values[t + 1])
    import numpy as np
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    envs, t = rewards.shape
    buffer = RolloutBuffer(t, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), gamma=gamma, gae_lambda=lam, n_envs=envs)
    buffer.rewards[:] = rewards.T.numpy()
    buffer.values[:] = values.T.numpy()
    starts = np.zeros((t, envs), dtype=np.float32)
    starts[1:] = dones[:, :-1].T.numpy()
    buffer.episode_starts[:] = starts
    buffer.compute_returns_and_advantage(next_values[:, -1], dones[:, -1].numpy())
    return torch.from_numpy(buffer.advantages.T.copy())


def _lazy(build):
    """A reference built on first use (its library takes seconds to import)."""
    cache: dict = {}

    def ref(*args, **kwargs):
        if "fn" not in cache:
            cache["fn"] = build()
        return cache["fn"](*args, **kwargs)

    return ref


def _pml_contrastive():
    from pytorch_metric_learning import distances, losses
    from pytorch_metric_learning.reducers import DoNothingReducer

    loss = losses.ContrastiveLoss(
        pos_margin=0.0,
        neg_margin=1.0,
        distance=distances.LpDistance(normalize_embeddings=False),
        reducer=DoNothingReducer(),
    )

    def ref(x1, x2, similar):
        b = x1.shape[0]
        pos, neg = similar.nonzero().squeeze(1), (similar == 0).nonzero().squeeze(1)
        out = loss(torch.cat([x1, x2]), indices_tuple=(pos, pos + b, neg, neg + b))
        # Hadsell's loss is half the square of pml's per-pair hinge
        return 0.5 * (out["pos_loss"]["losses"].pow(2).sum() + out["neg_loss"]["losses"].pow(2).sum()) / b

    return ref


def _pml_pair_views(name, **kwargs):
    def build():
        from pytorch_metric_learning import distances, losses

        if name == "NPairsLoss":
            kwargs["distance"] = distances.DotProductSimilarity(normalize_embeddings=False)
        loss = getattr(losses, name)(**kwargs)
        return lambda a, b: loss(torch.cat([a, b]), torch.arange(a.shape[0]).repeat(2))

    return _lazy(build)


def _pml_proxy_nca():
    from pytorch_metric_learning import losses

    cache: dict = {}

    def ref(x, y, proxies):
        key = proxies.shape
        if key not in cache:
            cache[key] = losses.ProxyNCALoss(num_classes=proxies.shape[0], embedding_size=proxies.shape[1])
        cache[key].proxies.data = proxies.detach()
        return cache[key](x, y)

    return ref


def _pml_supcon():
    from pytorch_metric_learning import losses

    return losses.SupConLoss(temperature=0.1)


def _info_nce():
    from info_nce import info_nce

    return lambda q, k: info_nce(q, k, temperature=0.1)


def _open_clip(kind):
    def build():
        import importlib.metadata
        import importlib.util

        files = importlib.metadata.files("open-clip-torch") or []
        path = next(f.locate() for f in files if str(f).endswith("open_clip/loss.py"))
        spec = importlib.util.spec_from_file_location("open_clip_loss", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if kind == "clip":
            loss = module.ClipLoss()
            return lambda x, y: loss(F.normalize(x, dim=1), F.normalize(y, dim=1), 1 / 0.07)
        loss = module.SigLipLoss()
        return lambda x, y: loss(F.normalize(x, dim=1), F.normalize(y, dim=1), 10.0, -10.0)

    return _lazy(build)


def _angular_triplet_formula(a, p, n, margin=0.5):
    theta_ap = torch.acos(F.cosine_similarity(a, p).clamp(-1, 1))
    return F.relu(F.cosine_similarity(a, n) - torch.cos((theta_ap + margin).clamp(max=math.pi))).mean()


SPECS: dict[str, Spec] = {
    "binary_cross_entropy": Spec(
        lambda n, g: ((torch.rand(n, generator=g) * 0.98 + 0.01, _binary(n, g)[0][1]), {}),
        F.binary_cross_entropy,
        "torch built-in",
    ),
    "binary_cross_entropy_with_logits": Spec(_binary, F.binary_cross_entropy_with_logits, "torch built-in"),
    "cross_entropy": Spec(_logits_idx, F.cross_entropy, "torch built-in"),
    "nll_loss": Spec(
        lambda n, g: ((F.log_softmax(_logits_idx(n, g)[0][0], 1), _logits_idx(n, g)[0][1]), {}),
        F.nll_loss,
        "torch built-in",
    ),
    "l1_loss": Spec(_pair, F.l1_loss, "torch built-in"),
    "mse_loss": Spec(_pair, F.mse_loss, "torch built-in"),
    "focal_loss": Spec(_logits_idx, _focal_formula, "formula"),
    "sigmoid_focal_loss": Spec(_binary, _sigmoid_focal_torchvision, "formula (torchvision's)"),
    "kl_divergence": Spec(
        _logits_probs, lambda z, q: F.kl_div(F.log_softmax(z, 1), q, reduction="batchmean"), "torch built-in"
    ),
    "hinge_loss": Spec(_signed, lambda s, t: torch.clamp(1 - t * s, min=0).mean(), "formula"),
    "squared_hinge_loss": Spec(_signed, lambda s, t: (torch.clamp(1 - t * s, min=0) ** 2).mean(), "formula"),
    "soft_margin_loss": Spec(_signed, F.soft_margin_loss, "torch built-in"),
    "multiclass_hinge_loss": Spec(_logits_idx, lambda z, y: F.multi_margin_loss(z, y) * z.shape[1], "torch built-in"),
    "poly1_loss": Spec(_logits_idx, _poly1_formula, "formula"),
    "poly_loss": Spec(
        lambda n, g: (_logits_idx(n, g)[0], {"epsilons": (1.0, 0.5)}),
        lambda z, y, epsilons: _poly_formula(z, y, epsilons),
        "formula",
    ),
    "ge2e_loss": Spec(_ge2e, _ge2e_formula, "formula"),
    "arcface_loss": Spec(
        _embeddings, _pml_reference("arc", margin=math.degrees(0.5), scale=64.0), "third-party", (0, 1)
    ),
    "cosface_loss": Spec(_embeddings, _pml_reference("cos", margin=0.35, scale=64.0), "third-party", (0, 1)),
    "center_loss": Spec(_embeddings, lambda x, c, y: (0.5 * ((x - c[y]) ** 2).sum(1)).mean(), "formula", (0, 1)),
    "dice_loss": Spec(_segmentation, _monai("dice"), "third-party"),
    "generalized_dice_loss": Spec(_segmentation, _monai("generalized"), "third-party"),
    "rmse_loss": Spec(_pair, lambda x, y: torch.sqrt(F.mse_loss(x, y)), "torch built-in"),
    "nmae_loss": Spec(_pair, lambda x, y: (x - y).abs().mean() / (y.max() - y.min()), "formula"),
    "huber_loss": Spec(_pair, F.huber_loss, "torch built-in"),
    "smooth_l1_loss": Spec(_pair, F.smooth_l1_loss, "torch built-in"),
    "asymmetric_huber_loss": Spec(
        _pair,
        lambda x, y: torch.where(x - y >= 0, 1.0, 2.0).mul(_huber_formula(x - y)).mean(),
        "formula",
    ),
    "lp_loss": Spec(_pair, lambda x, y: ((x - y).abs() ** 2.0).mean(), "formula"),
    "log_cosh_loss": Spec(_pair, lambda x, y: torch.log(torch.cosh(x - y)).mean(), "formula"),
    "mape_loss": Spec(
        _pair,
        lambda x, y: ((x - y).abs() / y.abs().clamp_min(torch.finfo(y.dtype).eps)).mean(),
        "formula",
    ),
    "msle_loss": Spec(_positive_pair, lambda x, y: ((torch.log1p(x) - torch.log1p(y)) ** 2).mean(), "formula"),
    "poisson_nll_loss": Spec(_log_rate_counts, F.poisson_nll_loss, "torch built-in"),
    "quantile_loss": Spec(
        _pair,
        lambda x, y: torch.maximum(0.5 * (y - x), (0.5 - 1) * (y - x)).mean(),
        "formula",
    ),
    "bpr_loss": Spec(_bpr, lambda p, q: -F.logsigmoid(p[:, None] - q).mean(), "formula", (0, 1)),
    "multiple_negatives_ranking_loss": Spec(_in_batch, _sentence_transformers_mnr(), "third-party", (0, 1)),
    "pairwise_logistic_loss": Spec(_ranking_lists, _ranknet_formula, "formula"),
    "pairwise_hinge_loss": Spec(_ranking_lists, _pairwise_hinge_formula, "formula"),
    "soft_pairwise_loss": Spec(_sign_lists, _soft_pairwise_formula, "formula"),
    "margin_ranking_loss": Spec(_margin_pairs, F.margin_ranking_loss, "torch built-in", (0, 1)),
    "triplet_margin_loss": Spec(_triplets, F.triplet_margin_loss, "torch built-in", (0, 1, 2)),
    "listnet_loss": Spec(_ranking_lists, _listnet_formula, "formula"),
    "listmle_loss": Spec(_ranking_lists, _listmle_formula, "formula"),
    "lambda_rank_loss": Spec(_ranking_lists, _lambda_rank_rax, "formula (rax's)"),
    "approx_ndcg_loss": Spec(_ranking_lists, _approx_ndcg_allrank, "formula (allRank's)"),
    "q_value_loss": Spec(_q_batch, _dqn_mse_formula, "formula (stable-baselines3's)"),
    "policy_gradient_loss": Spec(_log_probs_advantages, lambda lp, a: -(lp * a).mean(), "formula"),
    "discounted_returns": Spec(_rewards_no_ends, _returns_lfilter, "third-party (scipy)", ()),
    "gae_advantages": Spec(_rollouts, _gae_sb3, "third-party", ()),
    "ppo_clip_loss": Spec(_ppo_batch, _ppo_sb3, "formula (stable-baselines3's)"),
    "contrastive_loss": Spec(_pairs_similar, _lazy(_pml_contrastive), "third-party", (0, 1)),
    "angular_triplet_loss": Spec(_triplets, _angular_triplet_formula, "formula", (0, 1, 2)),
    "n_pair_loss": Spec(_in_batch, _pml_pair_views("NPairsLoss"), "third-party", (0, 1)),
    "info_nce_loss": Spec(_in_batch, _lazy(_info_nce), "third-party", (0, 1)),
    "nt_xent_loss": Spec(_two_views, _pml_pair_views("NTXentLoss", temperature=0.5), "third-party", (0, 1)),
    "proxy_nca_loss": Spec(_normalised_proxies, _lazy(_pml_proxy_nca), "third-party", (0, 2)),
    "supervised_contrastive_loss": Spec(_labelled_features, _lazy(_pml_supcon), "third-party"),
    "clip_loss": Spec(_in_batch, _open_clip("clip"), "third-party", (0, 1)),
    "siglip_loss": Spec(_in_batch, _open_clip("siglip"), "third-party", (0, 1)),
}


def _family_specs() -> dict[str, Spec]:
    """The specs of the families that keep theirs in a module of their own (each imports
    ``Spec`` from here, so they are imported once this module has defined it)."""
    import specs_alignment
    import specs_generative
    import specs_sequence

    return {**specs_sequence.SPECS, **specs_generative.SPECS, **specs_alignment.SPECS}


SPECS.update(_family_specs())
