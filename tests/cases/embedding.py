"""Cases of the embedding family (issue 8), each compared with a float64 transcription of the
paper's formula written with Python loops over rows (independent of losslib's matrix code).
The libraries' own conventions (pytorch-metric-learning, info-nce-pytorch, open_clip) are
checked in ``tests/test_embedding.py``."""

from __future__ import annotations

import math

import torch

from . import Case, add, randint, randn

B, D = 5, 3


def _rows(t):
    return t.to(torch.float64).tolist()


def _dot(u, v):
    return sum(a * b for a, b in zip(u, v, strict=True))


def _norm(u):
    return math.sqrt(_dot(u, u))


def _cos(u, v):
    return _dot(u, v) / (_norm(u) * _norm(v))


def _lse(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def ref_contrastive(x1, x2, similar, *, margin=1.0):
    out = []
    for u, v, s in zip(_rows(x1), _rows(x2), similar.tolist(), strict=True):
        d = math.dist(u, v)
        out.append(0.5 * s * d * d + 0.5 * (1 - s) * max(0.0, margin - d) ** 2)
    return torch.tensor(out, dtype=torch.float64)


def ref_angular_triplet(anchor, positive, negative, *, margin=0.5):
    out = []
    for a, p, n in zip(_rows(anchor), _rows(positive), _rows(negative), strict=True):
        theta_ap = math.acos(max(-1.0, min(1.0, _cos(a, p))))
        out.append(max(0.0, _cos(a, n) - math.cos(min(theta_ap + margin, math.pi))))
    return torch.tensor(out, dtype=torch.float64)


def ref_n_pair(anchors, positives):
    a, p = _rows(anchors), _rows(positives)
    out = []
    for i, ai in enumerate(a):
        out.append(math.log(1 + sum(math.exp(_dot(ai, pj) - _dot(ai, p[i])) for j, pj in enumerate(p) if j != i)))
    return torch.tensor(out, dtype=torch.float64)


def ref_info_nce(query, positive_key, negative_keys=None, *, temperature=0.1):
    q, k = _rows(query), _rows(positive_key)
    out = []
    for i, qi in enumerate(q):
        if negative_keys is None:
            negatives = [kj for j, kj in enumerate(k) if j != i]
        elif negative_keys.dim() == 2:
            negatives = _rows(negative_keys)
        else:
            negatives = _rows(negative_keys[i])
        logits = [_cos(qi, k[i]) / temperature] + [_cos(qi, n) / temperature for n in negatives]
        out.append(_lse(logits) - logits[0])
    return torch.tensor(out, dtype=torch.float64)


def ref_nt_xent(z1, z2, *, temperature=0.5):
    z = _rows(z1) + _rows(z2)
    b = len(z) // 2
    out = []
    for i, zi in enumerate(z):
        partner = i + b if i < b else i - b
        logits = {k: _cos(zi, zk) / temperature for k, zk in enumerate(z) if k != i}
        out.append(_lse(list(logits.values())) - logits[partner])
    return torch.tensor(out, dtype=torch.float64)


def ref_proxy_nca(embeddings, target, proxies):
    out = []
    for x, y in zip(_rows(embeddings), target.tolist(), strict=True):
        logits = [-(math.dist(x, p) ** 2) for p in _rows(proxies)]
        out.append(_lse(logits) - logits[y])
    return torch.tensor(out, dtype=torch.float64)


def ref_supcon(features, labels, *, temperature=0.1):
    z = [[v / _norm(u) for v in u] for u in _rows(features)]
    y = labels.tolist()
    out = []
    for i, zi in enumerate(z):
        others = [k for k in range(len(z)) if k != i]
        log_denominator = _lse([_dot(zi, z[a]) / temperature for a in others])
        positives = [p for p in others if y[p] == y[i]]
        terms = [_dot(zi, z[p]) / temperature - log_denominator for p in positives]
        out.append(-sum(terms) / len(terms) if terms else 0.0)
    return torch.tensor(out, dtype=torch.float64)


def ref_clip(image_features, text_features, *, temperature=0.07):
    x, y = _rows(image_features), _rows(text_features)
    logits = [[_cos(xi, yj) / temperature for yj in y] for xi in x]
    out = []
    for i in range(len(x)):
        row = logits[i]
        column = [logits[j][i] for j in range(len(x))]
        out.append(0.5 * ((_lse(row) - row[i]) + (_lse(column) - column[i])))
    return torch.tensor(out, dtype=torch.float64)


def ref_siglip(x, y, *, scale=10.0, bias=-10.0):
    out = []
    for i, xi in enumerate(_rows(x)):
        total = 0.0
        for j, yj in enumerate(_rows(y)):
            z = 1.0 if i == j else -1.0
            u = z * (scale * _cos(xi, yj) + bias)
            total += max(-u, 0.0) + math.log1p(math.exp(-abs(u)))  # -log σ(u)
        out.append(total)
    return torch.tensor(out, dtype=torch.float64)


def _batches(count, **kwargs):
    def make(g, dt, s):
        return tuple(randn(g, B, D, dtype=dt, scale=s) for _ in range(count)), dict(kwargs)

    return make


two = (0, 1)
add(
    Case(
        "contrastive_loss",
        lambda g, dt, s: (
            (randn(g, B, D, dtype=dt, scale=s), randn(g, B, D, dtype=dt, scale=s), randint(g, 2, B).to(dt)),
            {"margin": 2.0},
        ),
        ref_contrastive,
        grad_args=two,
        batch_args=(0, 1, 2),
    )
)
add(
    Case(
        "angular_triplet_loss",
        _batches(3, margin=0.5),
        ref_angular_triplet,
        grad_args=(0, 1, 2),
        batch_args=(0, 1, 2),
    )
)
add(Case("n_pair_loss", _batches(2), ref_n_pair, grad_args=two, per_example=True))
add(Case("info_nce_loss", _batches(2, temperature=0.5), ref_info_nce, label="in-batch", grad_args=two))


def _info_nce_negatives(paired):
    def make(g, dt, s):
        shape = (B, 4, D) if paired else (4, D)
        negatives = randn(g, *shape, dtype=dt, scale=s)
        return (randn(g, B, D, dtype=dt, scale=s), randn(g, B, D, dtype=dt, scale=s), negatives), {"temperature": 0.5}

    return make


add(
    Case(
        "info_nce_loss",
        _info_nce_negatives(False),
        ref_info_nce,
        label="shared-negatives",
        grad_args=(0, 1, 2),
        batch_args=(0, 1),
    )
)
add(
    Case(
        "info_nce_loss",
        _info_nce_negatives(True),
        ref_info_nce,
        label="per-query-negatives",
        grad_args=(0, 1, 2),
        batch_args=(0, 1, 2),
    )
)
add(
    Case(
        "nt_xent_loss",
        _batches(2, temperature=0.5),
        ref_nt_xent,
        grad_args=two,
        per_example=False,  # "none" is [2B]: the z1 anchors, then the z2 anchors
    )
)
add(
    Case(
        "proxy_nca_loss",
        lambda g, dt, s: ((randn(g, B, D, dtype=dt, scale=s), randint(g, 4, B), randn(g, 4, D, dtype=dt)), {}),
        ref_proxy_nca,
        grad_args=(0, 2),
        batch_args=(0, 1),
    )
)
add(
    Case(
        "supervised_contrastive_loss",
        lambda g, dt, s: ((randn(g, 8, D, dtype=dt, scale=s), torch.tensor([0, 1, 0, 2, 1, 0, 2, 1])), {}),
        ref_supcon,
        batch_args=(0, 1),
    )
)
add(Case("clip_loss", _batches(2, temperature=0.2), ref_clip, grad_args=two))
add(Case("siglip_loss", _batches(2), ref_siglip, grad_args=two))
