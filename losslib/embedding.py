r"""Embedding losses: contrastive and metric learning, InfoNCE and its descendants.

Pairwise: :func:`contrastive_loss` (Hadsell et al.). Triplets on the sphere:
:func:`angular_triplet_loss`. Proxies: :func:`proxy_nca_loss`. In-batch softmax losses:
:func:`n_pair_loss`, :func:`info_nce_loss`, :func:`nt_xent_loss` (SimCLR),
:func:`supervised_contrastive_loss`, :func:`clip_loss`; and the sigmoid loss of SigLIP,
:func:`siglip_loss`, which needs no batch-wide softmax.

The softmax losses are written with ``log_softmax`` / ``cross_entropy`` of the scaled
similarities, so a temperature of 0.01 (logits up to 100, beyond float32's ``exp``) stays
finite; masked entries (an anchor's own similarity) are set to the dtype's lowest finite
value, not to ``-inf``.

Losses at scale (book Part VIII). The in-batch losses take ``chunk_size``: the similarity
matrix is then computed ``chunk_size`` rows at a time with the gradient accumulated in the
same sweep (``losslib._blockwise``), so memory grows linearly in the batch, with values and
gradients equal to the dense path. All but :func:`n_pair_loss` also take ``gather``: under
``torch.distributed`` with world size W > 1, the candidates of every rank are gathered with
their gradient (``torch.distributed.nn.functional.all_gather``), the rank's own anchors are
scored against all W·B candidates (the positive of local row i at ``rank·B + i``) and the
rank returns the loss of its own anchors. With equal local batches and gradients averaged over
the ranks (DistributedDataParallel), the parameter gradients of ``"mean"`` equal those of the
single-process loss on the concatenated batch (``"sum"``: W times them).
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import _blockwise as blocks
from . import _validation as V
from .registry import register

__all__ = [
    "contrastive_loss",
    "angular_triplet_loss",
    "n_pair_loss",
    "info_nce_loss",
    "nt_xent_loss",
    "proxy_nca_loss",
    "supervised_contrastive_loss",
    "clip_loss",
    "siglip_loss",
]


def _check_embeddings(name: str, tensor: torch.Tensor) -> None:
    V.check_floating(name, tensor)
    V.check_ndim(name, tensor, 2, "[B, D]")
    V.check_nonempty(name, tensor)


def _check_pair_of_batches(first: str, a: torch.Tensor, second: str, b: torch.Tensor) -> None:
    _check_embeddings(first, a)
    _check_embeddings(second, b)
    V.check_same_shape(first, a, second, b)


def _check_temperature(temperature: float) -> None:
    V.check_real("temperature", temperature)
    V.check_positive("temperature", temperature)


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """:math:`\\sqrt{x}` for ``x >= 0`` with the value 0 and the (sub)gradient 0 at ``x = 0``
    (a plain ``sqrt`` has an infinite derivative there, and ``0 · inf`` is NaN)."""
    positive = x > 0
    return torch.where(positive, torch.where(positive, x, torch.ones_like(x)).sqrt(), torch.zeros_like(x))


def _normalized(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1)


# ------------------------------------------------------------ in-batch losses at scale


def _check_scale_options(chunk_size: int | None, gather: bool) -> None:
    V.check_chunk_size(chunk_size)
    V.check_bool("gather", gather)


def _excluded_fill(logits: torch.Tensor, columns: torch.Tensor | None) -> torch.Tensor:
    """``logits`` with row i's column ``columns[i]`` set to the lowest finite value."""
    if columns is None:
        return logits
    return logits.scatter(1, columns.unsqueeze(1), torch.finfo(logits.dtype).min)


def _rows_cross_entropy(
    q: torch.Tensor,
    k: torch.Tensor,
    targets: torch.Tensor,
    reduction: str,
    chunk_size: int | None,
    excluded: torch.Tensor | None = None,
) -> torch.Tensor:
    """Row i: cross-entropy of the similarities ``q_i · k_j`` with the class ``targets[i]``,
    column ``excluded[i]`` left out; dense, or in blocks of ``chunk_size`` rows."""
    if chunk_size is None:
        return F.cross_entropy(_excluded_fill(q @ k.T, excluded), targets, reduction=reduction)
    return blocks.row_block_loss(q, k, blocks.cross_entropy_terms(targets, excluded), chunk_size, reduction)


@register(
    family="embedding",
    summary="Contrastive loss ½ s d² + ½ (1 - s) max(0, m - d)² of a pair, s = 1 for a similar pair.",
    cite="hadsell2006dimensionality",
    chapter="embeddings/contrastive",
    reference="pytorch_metric_learning.losses.ContrastiveLoss",
)
def contrastive_loss(
    x1: torch.Tensor,
    x2: torch.Tensor,
    similar: torch.Tensor,
    *,
    margin: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Contrastive (pairwise) loss of Hadsell, Chopra and LeCun.

    .. math::
        \ell = \tfrac12\, s\, d^2 + \tfrac12\, (1 - s)\, \max(0,\ m - d)^2,
        \qquad d = \lVert x_1 - x_2 \rVert_2

    with :math:`s = 1` for a similar pair and :math:`s = 0` for a dissimilar one (the
    convention of this library: the paper writes :math:`Y = 0` for similar pairs). At
    :math:`d = 0` the distance has value and gradient 0 (a safe square root).

    Args:
        x1: embeddings ``[B, D]``.
        x2: the other embedding of each pair, ``[B, D]``.
        similar: ``[B]``, 1 (or True) for a similar pair, 0 for a dissimilar one.
        margin: :math:`m > 0`, the distance beyond which dissimilar pairs cost nothing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hadsell2006dimensionality`. Equivalent: half the square of
    pytorch-metric-learning's ``ContrastiveLoss(pos_margin=0, neg_margin=m)`` per pair,
    with ``LpDistance(normalize_embeddings=False)`` (its default normalises and its reducer
    averages only the non-zero terms).
    """
    V.check_reduction(reduction)
    V.check_real("margin", margin)
    V.check_positive("margin", margin)
    _check_pair_of_batches("x1", x1, "x2", x2)
    V.check_shape("similar", similar, (x1.shape[0],), "[B]")
    if similar.dtype != torch.bool:  # bool is 0/1 by construction
        V.check_real_tensor("similar", similar)
        V.check_binary_values("similar", similar)
    s = similar.to(x1.dtype)
    squared = (x1 - x2).pow(2).sum(-1)
    push = F.relu(margin - _safe_sqrt(squared))
    loss = 0.5 * s * squared + 0.5 * (1 - s) * push**2
    return V.reduce(loss, reduction)


@register(
    family="embedding",
    summary="Angular-margin triplet loss max(0, cos θ_an - cos(min(θ_ap + m, π))) on the sphere.",
    cite="wang2017deep",
    chapter="embeddings/angular-npair-proxy",
    reference=None,
)
def angular_triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    *,
    margin: float = 0.5,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Angular-margin triplet loss.

    .. math::
        \ell = \max\bigl(0,\ \cos\theta_{an} - \cos(\min(\theta_{ap} + m,\ \pi))\bigr)

    with :math:`\theta` the angles between the anchor and the positive / negative: zero
    once the negative is at least :math:`m` radians farther from the anchor than the
    positive. :math:`\cos(\theta_{ap} + m) = \cos\theta_{ap}\cos m - \sin\theta_{ap}\sin m`
    is computed from the cosine with a safe square root for the sine, so the gradient is
    finite at :math:`\cos\theta = \pm 1` (where ``acos`` has an infinite derivative).

    Args:
        anchor: ``[B, D]``.
        positive: ``[B, D]``, same class as the anchor.
        negative: ``[B, D]``, another class.
        margin: :math:`m \in (0, \pi]` in radians.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the angular view of the triplet of :cite:t:`wang2017deep`, with an additive
    angular margin as in ArcFace; no library implements this form (the tests transcribe it
    with ``acos``).
    """
    V.check_reduction(reduction)
    V.check_real("margin", margin)
    V.check_in_interval("margin", margin, 0.0, math.pi, closed=True)
    V.check_positive("margin", margin)
    _check_pair_of_batches("anchor", anchor, "positive", positive)
    _check_embeddings("negative", negative)
    V.check_same_shape("anchor", anchor, "negative", negative)
    cos_ap = F.cosine_similarity(anchor, positive, dim=-1)
    cos_an = F.cosine_similarity(anchor, negative, dim=-1)
    sin_ap = _safe_sqrt(1 - cos_ap**2)
    shifted = cos_ap * math.cos(margin) - sin_ap * math.sin(margin)
    # θ_ap + m > π  <=>  cos θ_ap < cos(π - m) = -cos m: the target is then cos π = -1
    target = torch.where(cos_ap < -math.cos(margin), torch.full_like(shifted, -1.0), shifted)
    return V.reduce(F.relu(cos_an - target), reduction)


@register(
    family="embedding",
    summary="N-pair loss log(1 + Σ_{j≠i} exp(a_i·p_j - a_i·p_i)) with the other positives as negatives.",
    cite="sohn2016improved",
    chapter="embeddings/angular-npair-proxy",
    reference="pytorch_metric_learning.losses.NPairsLoss",
)
def n_pair_loss(
    anchors: torch.Tensor, positives: torch.Tensor, *, chunk_size: int | None = None, reduction: str = "mean"
) -> torch.Tensor:
    r"""Multi-class N-pair loss.

    .. math::
        \ell_i = \log\Bigl(1 + \sum_{j \ne i} e^{a_i^\top p_j - a_i^\top p_i}\Bigr)
              = -\log \frac{e^{a_i^\top p_i}}{\sum_j e^{a_i^\top p_j}}

    the cross-entropy of the dot products of anchor ``i`` with every positive, the matching
    one being the class (dot products, no normalisation; the paper adds an L2 penalty on the
    embeddings, which is weight decay of the outputs and not part of this loss).

    Args:
        anchors: ``[B, D]``, one anchor per class.
        positives: ``[B, D]``, row ``i`` of the class of anchor ``i``.
        chunk_size: ``None`` (the dense ``B × B`` matrix) or the number of anchors per block
            (memory ``O(chunk_size · B)``; the same value and gradient).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`sohn2016improved`. Equivalent: pytorch-metric-learning's
    ``NPairsLoss(distance=DotProductSimilarity(normalize_embeddings=False))`` on
    ``cat([anchors, positives])`` with labels ``cat([arange(B), arange(B)])`` (its default
    distance normalises, giving cosines).
    """
    V.check_reduction(reduction)
    V.check_chunk_size(chunk_size)
    _check_pair_of_batches("anchors", anchors, "positives", positives)
    target = torch.arange(anchors.shape[0], device=anchors.device)
    return _rows_cross_entropy(anchors, positives, target, reduction, chunk_size)


@register(
    family="embedding",
    summary="InfoNCE: cross-entropy of cosine similarities / τ with the positive among the negatives.",
    cite="oord2018representation",
    chapter="embeddings/infonce",
    reference="info_nce.info_nce",
)
def info_nce_loss(
    query: torch.Tensor,
    positive_key: torch.Tensor,
    negative_keys: torch.Tensor | None = None,
    *,
    temperature: float = 0.1,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""InfoNCE (contrastive predictive coding) loss.

    .. math::
        \ell_i = -\log \frac{e^{\cos(q_i, k_i^+)/\tau}}
                 {e^{\cos(q_i, k_i^+)/\tau} + \sum_{k^-} e^{\cos(q_i, k^-)/\tau}}

    Negatives: the other rows' positive keys (``negative_keys=None``, in-batch), a shared set
    ``[M, D]``, or a set per query ``[B, M, D]``. Explicit negatives are the only negatives
    (the other rows' positives are then not added, as in info-nce-pytorch).

    Args:
        query: ``[B, D]``.
        positive_key: ``[B, D]``, the positive of each query.
        negative_keys: ``None``, ``[M, D]`` or ``[B, M, D]``.
        temperature: :math:`\tau > 0`.
        chunk_size: in-batch form only: ``None`` (dense) or the number of queries per block
            (memory ``O(chunk_size · B)``; the same value and gradient).
        gather: in-batch form only: score the local queries against the keys of every rank
            of ``torch.distributed`` (see the module's notes).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`oord2018representation`. Equivalent: info-nce-pytorch's
    ``info_nce`` (``negative_mode="unpaired"`` for ``[M, D]``, ``"paired"`` for ``[B, M, D]``).
    """
    V.check_reduction(reduction)
    _check_temperature(temperature)
    _check_scale_options(chunk_size, gather)
    _check_pair_of_batches("query", query, "positive_key", positive_key)
    q, k = _normalized(query) / temperature, _normalized(positive_key)  # scale B x D, not B x M
    if negative_keys is None:
        rank, world = blocks.world(gather)
        target = torch.arange(q.shape[0], device=q.device) + rank * q.shape[0]
        return _rows_cross_entropy(q, blocks.gather_with_grad(k, world), target, reduction, chunk_size)
    if chunk_size is not None or gather:
        raise ValueError("chunk_size and gather apply to the in-batch form of info_nce_loss (negative_keys=None)")
    else:
        V.check_floating("negative_keys", negative_keys)
        V.check_nonempty("negative_keys", negative_keys)
        n = _normalized(negative_keys.to(q.dtype))
        positive = (q * k).sum(-1, keepdim=True)
        if negative_keys.dim() == 2 and negative_keys.shape[1] == q.shape[1]:
            negative = q @ n.T
        elif negative_keys.dim() == 3 and negative_keys.shape[0] == q.shape[0] and negative_keys.shape[2] == q.shape[1]:
            negative = torch.einsum("bd,bmd->bm", q, n)
        else:
            raise ValueError(
                f"negative_keys must have shape [M, D] or [B, M, D] with B, D = {tuple(q.shape)}, "
                f"got shape {tuple(negative_keys.shape)}"
            )
        logits = torch.cat([positive, negative], dim=1)
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        return F.cross_entropy(logits, target, reduction=reduction)


@register(
    family="embedding",
    summary="SimCLR's NT-Xent: 2B views, cosine / τ, softmax over the other 2B - 1 views.",
    cite="chen2020simple",
    chapter="embeddings/simclr",
    reference="pytorch_metric_learning.losses.NTXentLoss",
)
def nt_xent_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    *,
    temperature: float = 0.5,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR.

    .. math::
        \ell_i = -\log \frac{e^{\cos(z_i, z_{j(i)})/\tau}}{\sum_{k \ne i} e^{\cos(z_i, z_k)/\tau}}

    over the :math:`2B` views :math:`z = [z_1; z_2]`, where :math:`j(i)` is the other view of
    the same example; every one of the 2B views is an anchor once.

    Args:
        z1: first views ``[B, D]``.
        z2: second views ``[B, D]``, row ``i`` of the example of row ``i`` of ``z1``.
        temperature: :math:`\tau > 0`.
        chunk_size: ``None`` (the dense ``2B × 2B`` matrix) or the number of views per block.
        gather: score the local 2B views against the views of every rank (module notes).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[2B]``: the z1 anchors, then z2).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`chen2020simple`. Equivalent: pytorch-metric-learning's
    ``NTXentLoss(temperature)`` on ``cat([z1, z2])`` with labels ``cat([arange(B), arange(B)])``.
    """
    V.check_reduction(reduction)
    _check_temperature(temperature)
    _check_scale_options(chunk_size, gather)
    _check_pair_of_batches("z1", z1, "z2", z2)
    b = z1.shape[0]
    z = _normalized(torch.cat([z1, z2]))
    rank, world = blocks.world(gather)
    index = torch.arange(b, device=z.device)
    offset = rank * 2 * b  # this rank's 2B views in the gathered candidates
    target = torch.cat([index + b, index]) + offset
    own = torch.arange(2 * b, device=z.device) + offset
    return _rows_cross_entropy(z / temperature, blocks.gather_with_grad(z, world), target, reduction, chunk_size, own)


@register(
    family="embedding",
    summary="Proxy-NCA: -log softmax over proxies of -‖x - p_c‖², the class proxy as the target.",
    cite="movshovitz2017no",
    chapter="embeddings/angular-npair-proxy",
    reference="pytorch_metric_learning.losses.ProxyNCALoss",
)
def proxy_nca_loss(
    embeddings: torch.Tensor, target: torch.Tensor, proxies: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Proxy-NCA loss.

    .. math::
        \ell = -\log \frac{e^{-\lVert x - p_y \rVert^2}}{\sum_{c} e^{-\lVert x - p_c \rVert^2}}

    one learnable proxy per class stands for all its examples. The paper normalises the
    embeddings and the proxies; this function takes them as given (normalise them first to
    get the paper's loss, as pytorch-metric-learning does).

    Args:
        embeddings: ``[B, D]``.
        target: class indices ``[B]`` in ``[0, C)``.
        proxies: ``[C, D]``, one per class.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`movshovitz2017no`. Equivalent: pytorch-metric-learning's
    ``ProxyNCALoss`` on normalised embeddings and proxies.
    """
    V.check_reduction(reduction)
    _check_embeddings("embeddings", embeddings)
    _check_embeddings("proxies", proxies)
    if proxies.shape[1] != embeddings.shape[1]:
        raise ValueError(
            f"proxies must have shape [C, D] with D = {embeddings.shape[1]}, got shape {tuple(proxies.shape)}"
        )
    V.check_integer("target", target)
    V.check_shape("target", target, (embeddings.shape[0],), "[B]")
    V.check_class_indices("target", target, proxies.shape[0])
    squared = (embeddings.pow(2).sum(-1, keepdim=True) - 2 * embeddings @ proxies.T + proxies.pow(2).sum(-1)).clamp(
        min=0
    )
    return F.cross_entropy(-squared, target, reduction=reduction)


@register(
    family="embedding",
    summary="Supervised contrastive loss (L_out): every same-label sample is a positive of the anchor.",
    cite="khosla2020supervised",
    chapter="embeddings/supcon-clip-siglip",
    reference="pytorch_metric_learning.losses.SupConLoss",
)
def supervised_contrastive_loss(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float = 0.1,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Supervised contrastive loss, the :math:`\mathcal L_{out}` form of Khosla et al.

    .. math::
        \ell_i = -\frac{1}{|P(i)|} \sum_{p \in P(i)}
                 \log \frac{e^{z_i \cdot z_p/\tau}}{\sum_{a \ne i} e^{z_i \cdot z_a/\tau}}

    on L2-normalised features, with :math:`P(i)` the other samples of anchor i's label. An
    anchor without a positive gives 0 in ``"none"`` and is left out of ``"mean"`` (0 when no
    anchor has a positive).

    Args:
        features: ``[B, D]`` (normalised inside).
        labels: integer class labels ``[B]``.
        temperature: :math:`\tau > 0`.
        chunk_size: ``None`` (the dense ``B × B`` matrix) or the number of anchors per block.
        gather: score the local anchors against the features (and labels) of every rank
            (module notes); ``"mean"`` then divides by the number of counted anchors of all
            ranks over W, so that the average over the ranks is the global mean.
        reduction: ``"mean"`` (over the anchors with a positive), ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`khosla2020supervised`. Equivalent: pytorch-metric-learning's
    ``SupConLoss(temperature)`` (its reducer averages the non-zero anchor losses).
    """
    V.check_reduction(reduction)
    _check_temperature(temperature)
    _check_scale_options(chunk_size, gather)
    _check_embeddings("features", features)
    V.check_integer("labels", labels)
    V.check_shape("labels", labels, (features.shape[0],), "[B]")
    z = _normalized(features)
    rank, world = blocks.world(gather)
    candidates, candidate_labels = blocks.gather_with_grad(z, world), blocks.gather_labels(labels, world)
    own = torch.arange(z.shape[0], device=z.device) + rank * z.shape[0]
    count = _same_label_count(labels, candidate_labels) - 1  # |P(i)|: the anchor itself is no positive
    counted = count > 0
    denominator = counted.sum()
    if world > 1 and reduction == "mean":
        dist.all_reduce(denominator)
    denominator = denominator.clamp(min=1).to(z.dtype) / world
    if chunk_size is not None:
        terms = blocks.supervised_contrastive_terms(labels, candidate_labels, own, count)
        loss = blocks.row_block_loss(z / temperature, candidates, terms, chunk_size, reduction, counted, denominator)
        return loss
    log_prob = F.log_softmax(_excluded_fill(z @ candidates.T / temperature, own), dim=1)
    positives = (labels.unsqueeze(1) == candidate_labels.unsqueeze(0)).scatter(1, own.unsqueeze(1), False)
    total = torch.where(positives, log_prob, torch.zeros((), dtype=log_prob.dtype, device=z.device)).sum(1)
    loss = -total / count.clamp(min=1).to(z.dtype)
    return loss.sum() / denominator if reduction == "mean" else V.reduce(loss, reduction)


def _same_label_count(labels: torch.Tensor, candidate_labels: torch.Tensor) -> torch.Tensor:
    """For each label, how many candidates carry it (by sorting: O(M log M), no B × M matrix)."""
    ordered = torch.sort(candidate_labels).values
    return torch.searchsorted(ordered, labels, right=True) - torch.searchsorted(ordered, labels)


@register(
    family="embedding",
    summary="CLIP's symmetric loss: image-to-text and text-to-image cross-entropy of cosines / τ.",
    cite="radford2021learning",
    chapter="embeddings/supcon-clip-siglip",
    reference="open_clip.loss.ClipLoss",
)
def clip_loss(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    *,
    temperature: float = 0.07,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""CLIP's symmetric contrastive loss.

    .. math::
        L = X Y^\top / \tau, \qquad
        \ell_i = \tfrac12\bigl[\mathrm{CE}(L_{i\cdot}, i) + \mathrm{CE}(L_{\cdot i}, i)\bigr]

    with the rows of :math:`X` and :math:`Y` L2-normalised: image i must pick text i among
    the batch's texts, and text i image i among the images.

    Args:
        image_features: ``[B, D]`` (normalised inside).
        text_features: ``[B, D]``, row ``i`` paired with image ``i``.
        temperature: :math:`\tau > 0` (CLIP learns :math:`\log(1/\tau)`, initialised at
            :math:`\tau = 0.07`).
        chunk_size: ``None`` (the dense ``B × B`` matrix) or the number of rows per block (each
            direction is then a row pass of its own).
        gather: score the local images against the texts of every rank and the local texts
            against every rank's images (open_clip's ``local_loss=True, gather_with_grad=True``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``, one value per pair).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`radford2021learning`. Equivalent: open_clip's ``ClipLoss`` with
    ``logit_scale = 1/τ`` on normalised features (``"mean"``).
    """
    V.check_reduction(reduction)
    _check_temperature(temperature)
    _check_scale_options(chunk_size, gather)
    _check_pair_of_batches("image_features", image_features, "text_features", text_features)
    x, y = _normalized(image_features), _normalized(text_features)
    rank, world = blocks.world(gather)
    target = torch.arange(x.shape[0], device=x.device) + rank * x.shape[0]
    # torch's unweighted "mean" / "sum" are the plain ones, and the average of the two is linear
    if chunk_size is None and world == 1:  # one matrix serves both directions
        logits = (x / temperature) @ y.T
        return 0.5 * (
            F.cross_entropy(logits, target, reduction=reduction)
            + F.cross_entropy(logits.T, target, reduction=reduction)
        )
    images_to_texts = _rows_cross_entropy(
        x / temperature, blocks.gather_with_grad(y, world), target, reduction, chunk_size
    )
    texts_to_images = _rows_cross_entropy(
        y / temperature, blocks.gather_with_grad(x, world), target, reduction, chunk_size
    )
    return 0.5 * (images_to_texts + texts_to_images)


@register(
    family="embedding",
    summary="SigLIP's pairwise sigmoid loss: -Σ_j log σ(z_ij (t x_i·y_j + b)), z = +1 on the diagonal.",
    cite="zhai2023sigmoid",
    chapter="embeddings/supcon-clip-siglip",
    reference="open_clip.loss.SigLipLoss",
)
def siglip_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    scale: float = 10.0,
    bias: float = -10.0,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""SigLIP's sigmoid loss.

    .. math::
        \ell_i = -\sum_{j} \log \sigma\bigl(z_{ij}\,(t\, x_i^\top y_j + b)\bigr),
        \qquad z_{ij} = +1 \text{ if } i = j \text{ else } -1

    on L2-normalised rows: every pair (i, j) is an independent binary classification, so
    no softmax over the batch is needed; the bias :math:`b` (initialised at -10) offsets the
    B - 1 negatives per positive.

    Args:
        x: ``[B, D]`` (e.g. images; normalised inside).
        y: ``[B, D]``, row ``i`` paired with row ``i`` of ``x``.
        scale: :math:`t > 0` (SigLIP learns :math:`\log t`, initialised at :math:`t = 10`).
        bias: :math:`b`, a finite real.
        chunk_size: ``None`` (the dense ``B × B`` matrix) or the number of rows per block.
        gather: score the local rows of ``x`` against the ``y`` of every rank (module notes;
            each pair is scored once, by the rank that holds its ``x``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``, one value per row).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`zhai2023sigmoid`. Equivalent: open_clip's ``SigLipLoss`` with
    ``logit_scale = t``, ``logit_bias = b`` on normalised features (its value, the sum over
    all pairs divided by B, is this ``"mean"``).
    """
    V.check_reduction(reduction)
    V.check_real("scale", scale)
    V.check_positive("scale", scale)
    V.check_real("bias", bias)
    _check_scale_options(chunk_size, gather)
    _check_pair_of_batches("x", x, "y", y)
    q = scale * _normalized(x)  # scale the B x D rows, not B x B
    rank, world = blocks.world(gather)
    k = blocks.gather_with_grad(_normalized(y), world)
    target = torch.arange(q.shape[0], device=q.device) + rank * q.shape[0]
    if chunk_size is not None:
        return blocks.row_block_loss(q, k, blocks.sigmoid_pair_terms(target, float(bias)), chunk_size, reduction)
    logits = q @ k.T + bias
    signs = (-torch.ones_like(logits)).scatter(1, target.unsqueeze(1), 1.0)
    return V.reduce(-F.logsigmoid(signs * logits).sum(1), reduction)
