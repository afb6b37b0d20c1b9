r"""Margin-based embedding classifiers: GE2E, ArcFace, CosFace and the centre loss.

All four compare embeddings with class (or speaker) representatives by the cosine of the
angle between them, except the centre loss, which is Euclidean. Inputs in a reduced
precision (float16, bfloat16) are computed in float32 and the result is cast back to the
input's dtype: a cosine scaled by 64 would otherwise lose every digit a bfloat16 has.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__: list[str] = ["arcface_loss", "center_loss", "cosface_loss", "ge2e_loss"]

GE2E_METHODS = ("softmax", "contrast")


def _compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The dtype to compute in: the promoted input dtype, at least float32."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return torch.promote_types(dtype, torch.float32)


def _normalize(x: torch.Tensor, dim: int) -> torch.Tensor:
    """L2-normalise along ``dim``; a zero vector stays zero, with a finite gradient.

    ``F.normalize`` divides by ``max(‖x‖, 1e-12)``, so no square root or division ever sees
    zero: the cosine of anything with a zero vector is 0 and its gradient is finite.
    """
    return F.normalize(x, p=2.0, dim=dim, eps=1e-12)


def _sin_from_cos(c: torch.Tensor) -> torch.Tensor:
    r"""``sqrt(1 - c²)`` with the exact value and a finite gradient at ``c = ±1``.

    The derivative of the square root is infinite where ``1 - c² = 0`` (the embedding
    coincides with, or is opposite to, its class centre). There the chain rule would
    multiply that infinity by ``dc/dx = 0`` and give NaN. The double ``where`` evaluates
    the square root only where ``1 - c² > 0`` and returns 0 (gradient 0, a subgradient of
    the cone ``sin θ ≈ θ``) elsewhere, so the value is untouched (no ``+ eps``).
    """
    u = 1.0 - c * c
    positive = u > 0
    safe = torch.where(positive, u, torch.ones_like(u))
    return torch.where(positive, torch.sqrt(safe), torch.zeros_like(u))


def _check_margin_classifier(embeddings: torch.Tensor, weight: torch.Tensor, target: torch.Tensor, scale: float) -> int:
    """Shared checks of ArcFace and CosFace; returns the number of classes ``C``."""
    V.check_floating("embeddings", embeddings)
    V.check_ndim("embeddings", embeddings, 2, "[N, D]")
    V.check_nonempty("embeddings", embeddings)
    V.check_floating("weight", weight)
    V.check_ndim("weight", weight, 2, "[C, D]")
    V.check_nonempty("weight", weight)
    V.check_shape("weight", weight, (weight.shape[0], embeddings.shape[1]), "[C, D]")
    V.check_integer("target", target)
    V.check_shape("target", target, (embeddings.shape[0],), "[N]")
    V.check_real("scale", scale)
    V.check_positive("scale", scale)
    V.check_class_indices("target", target, weight.shape[0])
    return weight.shape[0]


def _cosines(embeddings: torch.Tensor, weight: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``[N, C]`` cosines between the rows of ``embeddings`` and of ``weight``."""
    x = _normalize(embeddings.to(dtype), dim=1)
    w = _normalize(weight.to(dtype), dim=1)
    return x @ w.T


def _margin_cross_entropy(
    cos: torch.Tensor, target_logit: torch.Tensor, target: torch.Tensor, scale: float
) -> torch.Tensor:
    """Cross-entropy of ``scale · cos`` with the target column replaced by ``target_logit``."""
    logits = cos.scatter(1, target.unsqueeze(1), target_logit.unsqueeze(1))
    return F.cross_entropy(scale * logits, target, reduction="none")


@register(
    family="classification",
    summary="Additive angular margin softmax (ArcFace): target logit cos(θ_y + m), scaled by s.",
    cite="deng2019arcface",
    chapter="classification/angular-margin",
    reference="pytorch_metric_learning.losses.ArcFaceLoss",
)
def arcface_loss(
    embeddings: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    *,
    scale: float = 64.0,
    margin: float = 0.5,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ArcFace, the additive angular margin loss.

    With :math:`\cos\theta_j = \hat x \cdot \hat W_j` (both L2-normalised) and
    :math:`\theta_y` the angle to the target class,

    .. math::
        \ell = -\log \frac{e^{s\,\psi(\theta_y)}}
                          {e^{s\,\psi(\theta_y)} + \sum_{j \ne y} e^{s \cos\theta_j}},
        \qquad
        \psi(\theta) = \begin{cases}
            \cos(\theta + m) & \theta + m \le \pi \\
            \cos\theta - m \sin m & \theta + m > \pi
        \end{cases}

    :math:`\cos(\theta + m)` is evaluated as :math:`\cos\theta\cos m - \sin\theta\sin m` with
    :math:`\sin\theta = \sqrt{1 - \cos^2\theta}` (no ``acos``), and the square root has a
    finite (zero) gradient where :math:`\cos\theta = \pm 1`, e.g. for an embedding that
    coincides with its class centre.

    Beyond :math:`\theta + m > \pi`, :math:`\cos(\theta + m)` would *increase* with
    :math:`\theta` (a worse embedding would get a larger target logit). There the
    insightface fallback is used, as in pytorch-metric-learning: :math:`\cos\theta - m\sin m`,
    the first-order expansion of :math:`\cos(\theta + m)` in :math:`m`, with
    :math:`\sin\theta` frozen at its value :math:`\sin m` at the switch. At
    :math:`\theta = \pi - m` it jumps from :math:`-1` to :math:`-\cos m - m\sin m`, which is
    a step *down* (so :math:`\psi` stays decreasing) for every margin up to
    :math:`m \approx 2.33` rad, far above the margins used in practice.

    Args:
        embeddings: features :math:`x`, ``[N, D]`` (any norm: they are normalised).
        weight: class centres :math:`W`, ``[C, D]`` (normalised too).
        target: class indices :math:`y`, integer ``[N]``, values in ``[0, C)``.
        scale: :math:`s > 0`, the radius of the hypersphere the logits live on.
        margin: :math:`m \in [0, \pi]`, the additive angular margin in radians.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`deng2019arcface`, equation (3). Equivalent:
    ``pytorch_metric_learning.losses.ArcFaceLoss(C, D, margin=degrees(m), scale=s)`` with
    ``loss.W = weight.T`` (its margin is in degrees, its weight is ``[D, C]``).
    """
    V.check_reduction(reduction)
    _check_margin_classifier(embeddings, weight, target, scale)
    V.check_real("margin", margin)
    V.check_in_interval("margin", margin, 0.0, math.pi, closed=True)
    dtype = _compute_dtype(embeddings, weight)
    cos = _cosines(embeddings, weight, dtype)
    cos_y = cos.gather(1, target.unsqueeze(1)).squeeze(1)
    sin_y = _sin_from_cos(cos_y)
    cos_y_plus_m = cos_y * math.cos(margin) - sin_y * math.sin(margin)
    # theta + m <= pi  <=>  cos(theta) >= cos(pi - m)
    fallback = cos_y - margin * math.sin(margin)
    psi = torch.where(cos_y >= math.cos(math.pi - margin), cos_y_plus_m, fallback)
    loss = _margin_cross_entropy(cos, psi, target, scale)
    return V.reduce(loss.to(embeddings.dtype), reduction)


@register(
    family="classification",
    summary="Large margin cosine loss (CosFace): target logit cos θ_y - m, scaled by s.",
    cite="wang2018cosface",
    chapter="classification/angular-margin",
    reference="pytorch_metric_learning.losses.CosFaceLoss",
)
def cosface_loss(
    embeddings: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    *,
    scale: float = 64.0,
    margin: float = 0.35,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""CosFace, the large margin cosine loss (additive cosine margin).

    .. math::
        \ell = -\log \frac{e^{s(\cos\theta_y - m)}}
                          {e^{s(\cos\theta_y - m)} + \sum_{j \ne y} e^{s \cos\theta_j}}

    with :math:`\cos\theta_j = \hat x \cdot \hat W_j` (both L2-normalised).

    Args:
        embeddings: features :math:`x`, ``[N, D]`` (normalised inside).
        weight: class centres :math:`W`, ``[C, D]`` (normalised inside).
        target: class indices :math:`y`, integer ``[N]``, values in ``[0, C)``.
        scale: :math:`s > 0`.
        margin: :math:`m \ge 0`, subtracted from the target cosine.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`wang2018cosface`, equation (4). Equivalent:
    ``pytorch_metric_learning.losses.CosFaceLoss(C, D, margin=m, scale=s)`` with
    ``loss.W = weight.T``.
    """
    V.check_reduction(reduction)
    _check_margin_classifier(embeddings, weight, target, scale)
    V.check_real("margin", margin)
    V.check_nonnegative("margin", margin)
    dtype = _compute_dtype(embeddings, weight)
    cos = _cosines(embeddings, weight, dtype)
    cos_y = cos.gather(1, target.unsqueeze(1)).squeeze(1)
    loss = _margin_cross_entropy(cos, cos_y - margin, target, scale)
    return V.reduce(loss.to(embeddings.dtype), reduction)


@register(
    family="classification",
    summary="Centre loss: half the squared distance of each feature to its class centre.",
    cite="wen2016discriminative",
    chapter="classification/angular-margin",
    reference=None,
)
def center_loss(
    features: torch.Tensor,
    centers: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Centre loss of Wen et al.: pull each feature towards the centre of its class.

    .. math::
        \ell_i = \tfrac12 \lVert x_i - c_{y_i} \rVert_2^2

    Used next to a softmax loss (it alone collapses every feature and centre to one
    point). The gradient with respect to the features is :math:`x_i - c_{y_i}`; the paper
    updates the centres with their own rule (a running mean with rate :math:`\alpha`)
    rather than by this gradient, which you get by not letting ``centers`` require grad.

    Args:
        features: deep features :math:`x`, ``[N, D]``.
        centers: class centres :math:`c`, ``[C, D]``.
        target: class indices :math:`y`, integer ``[N]``, values in ``[0, C)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``). The paper's
            :math:`\mathcal L_C` over a mini-batch is ``"sum"``.

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`wen2016discriminative`, equation (2).
    """
    V.check_reduction(reduction)
    V.check_floating("features", features)
    V.check_ndim("features", features, 2, "[N, D]")
    V.check_nonempty("features", features)
    V.check_floating("centers", centers)
    V.check_ndim("centers", centers, 2, "[C, D]")
    V.check_nonempty("centers", centers)
    V.check_shape("centers", centers, (centers.shape[0], features.shape[1]), "[C, D]")
    V.check_integer("target", target)
    V.check_shape("target", target, (features.shape[0],), "[N]")
    V.check_class_indices("target", target, centers.shape[0])
    dtype = _compute_dtype(features, centers)
    diff = features.to(dtype) - centers.to(dtype).index_select(0, target)
    loss = 0.5 * diff.pow(2).sum(dim=1)
    return V.reduce(loss.to(features.dtype), reduction)


@register(
    family="classification",
    summary="Generalized end-to-end loss (GE2E) for speaker verification, softmax or contrast.",
    cite="wan2018generalized",
    chapter="classification/ge2e",
    reference=None,
)
def ge2e_loss(
    embeddings: torch.Tensor,
    *,
    w: float = 10.0,
    b: float = -5.0,
    method: str = "softmax",
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Generalized end-to-end loss of Wan et al. for a batch of N speakers × M utterances.

    Each embedding is L2-normalised, :math:`e_{ji} = f_{ji} / \lVert f_{ji} \rVert`. The
    centroid of speaker :math:`k` is :math:`c_k = \frac1M \sum_m e_{km}`; the *exclusive*
    centroid of utterance :math:`i` of speaker :math:`j` leaves it out,
    :math:`c_j^{(-i)} = \frac{1}{M-1} \sum_{m \ne i} e_{jm}`. The similarity matrix is

    .. math::
        S_{ji,k} = \begin{cases}
            w \cos(e_{ji}, c_j^{(-i)}) + b & k = j \\
            w \cos(e_{ji}, c_k) + b & k \ne j
        \end{cases}

    and the loss of one utterance is, for ``method="softmax"`` and ``"contrast"``,

    .. math::
        \ell_{ji} = -S_{ji,j} + \log \sum_{k=1}^{N} e^{S_{ji,k}}, \qquad
        \ell_{ji} = 1 - \sigma(S_{ji,j}) + \max_{k \ne j} \sigma(S_{ji,k}).

    The softmax form does not depend on :math:`b` (it cancels); the contrast form does.
    Cosines go through a guarded normalisation, so a zero embedding or a zero centroid
    gives cosine 0 and finite gradients.

    Args:
        embeddings: ``[N, M, D]``, speaker-major: ``embeddings[j, i]`` is utterance
            :math:`i` of speaker :math:`j`; needs :math:`N \ge 2` and :math:`M \ge 2`.
        w: the learnable scale :math:`w > 0` (the paper constrains it to be positive).
        b: the learnable offset :math:`b`.
        method: ``"softmax"`` or ``"contrast"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N, M]``). The paper's
            :math:`L_G` is ``"sum"``.

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`wan2018generalized`, equations (5)–(10). For a learnable
    :math:`w, b` pass 0-d tensors (keep :math:`w` positive, e.g. clamp it).
    """
    V.check_reduction(reduction)
    V.check_floating("embeddings", embeddings)
    V.check_ndim("embeddings", embeddings, 3, "[N_speakers, M_utterances, D]")
    V.check_nonempty("embeddings", embeddings)
    V.check_min_size("embeddings", embeddings, 0, 2, "speakers")
    V.check_min_size("embeddings", embeddings, 1, 2, "utterances per speaker")
    V.check_real("w", w)
    V.check_positive("w", w)
    V.check_real("b", b)
    V.check_choice("method", method, GE2E_METHODS)
    n, m, _ = embeddings.shape
    e = _normalize(embeddings.to(_compute_dtype(embeddings)), dim=2)  # [N, M, D]
    sums = e.sum(dim=1)  # [N, D]
    centroids = _normalize(sums / m, dim=1)  # [N, D]
    exclusive = _normalize((sums.unsqueeze(1) - e) / (m - 1), dim=2)  # [N, M, D]
    cos = torch.einsum("jid,kd->jik", e, centroids)  # [N, M, N]
    cos_own = (e * exclusive).sum(dim=2)  # [N, M]
    own = torch.eye(n, dtype=torch.bool, device=embeddings.device).unsqueeze(1)  # [N, 1, N]
    cos = torch.where(own, cos_own.unsqueeze(2), cos)
    s = w * cos + b
    s_own = w * cos_own + b
    if method == "softmax":
        loss = torch.logsumexp(s, dim=2) - s_own
    else:
        others = torch.sigmoid(s).masked_fill(own, float("-inf"))
        loss = 1.0 - torch.sigmoid(s_own) + others.amax(dim=2)
    return V.reduce(loss.to(embeddings.dtype), reduction)
