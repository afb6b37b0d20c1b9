r"""The one plotting helper the chapters share.

Every figure in the book goes through these functions, so all share one style: an opaque
white canvas with dark ink (readable on the light and the dark theme of the site), the
Okabe–Ito colour-blind-safe palette, labelled axes, and derivatives computed by autograd
(never by hand), so a plotted gradient is the gradient the loss really has.

Typical use in a chapter::

    from losslib import plotting
    plotting.use_style()
    x = torch.linspace(-3, 3, 401)
    plotting.loss_and_gradient({"hinge": lambda m: losslib.hinge_loss(m, ...)}, x,
                               xlabel=r"margin $t\,s$")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Patch

#: Okabe & Ito (2008) colour-blind-safe palette, black first.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: Line styles cycled with the colours, so curves differ in print and for colour-blind readers.
LINESTYLES = ("-", "--", "-.", ":")

STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "text.color": "#222222",
    "axes.labelcolor": "#222222",
    "axes.edgecolor": "#444444",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "lines.linewidth": 2.0,
    "font.size": 11,
    "axes.titlesize": 12,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (8.0, 3.4),
    "figure.constrained_layout.use": True,
}


def use_style() -> None:
    """Apply the book's figure style to matplotlib (call once per chapter)."""
    mpl.rcParams.update(STYLE)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).cpu().numpy()


def _as_array(values) -> np.ndarray:
    return _numpy(values) if isinstance(values, torch.Tensor) else np.asarray(values, dtype=float)


def value_and_derivative(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    r"""Evaluate an elementwise function and its derivative :math:`d\ell/dx` by autograd.

    ``fn`` maps a 1-D tensor of points to a tensor of the same shape, each output depending
    only on its own input (e.g. a loss with ``reduction="none"``).
    """
    x = x.detach().clone().to(torch.float64).requires_grad_(True)
    y = fn(x)
    if y.shape != x.shape:
        raise ValueError(f"fn must be elementwise: input shape {tuple(x.shape)}, got {tuple(y.shape)}")
    (grad,) = torch.autograd.grad(y.sum(), x)
    return _numpy(y), _numpy(grad)


def _style_of(i: int) -> dict:
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[(i // 2) % len(LINESTYLES)]}


def loss_and_gradient(
    curves: Mapping[str, Callable[[torch.Tensor], torch.Tensor]],
    x: torch.Tensor,
    *,
    xlabel: str,
    ylabel: str = "loss",
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    grad_ylim: tuple[float, float] | None = None,
    legend_title: str | None = None,
    grad_ylabel: str | None = None,
) -> tuple[plt.Figure, np.ndarray]:
    """Two panels: each curve's loss (left) and its derivative by autograd (right).

    Args:
        curves: label -> elementwise function of ``x`` (see :func:`value_and_derivative`).
        x: the 1-D grid (margin, residual or probability).
        xlabel, ylabel: axis labels.
        grad_ylabel: the right panel's y label (default: "derivative of the <ylabel>",
            taken with respect to the quantity on the x axis).
        title: optional figure title.
        ylim, grad_ylim: optional y-limits of the two panels.
        legend_title: optional legend heading (e.g. the hyper-parameter swept).

    Returns:
        The figure and its two axes.
    """
    fig, axes = plt.subplots(1, 2)
    xs = _numpy(x)
    for i, (label, fn) in enumerate(curves.items()):
        value, grad = value_and_derivative(fn, x)
        axes[0].plot(xs, value, label=label, **_style_of(i))
        axes[1].plot(xs, grad, label=label, **_style_of(i))
    axes[0].set(xlabel=xlabel, ylabel=ylabel)
    axes[1].set(xlabel=xlabel, ylabel=grad_ylabel or f"derivative of the {ylabel}")
    axes[1].axhline(0.0, color="#888888", linewidth=0.8)
    if ylim is not None:
        axes[0].set_ylim(*ylim)
    if grad_ylim is not None:
        axes[1].set_ylim(*grad_ylim)
    axes[0].legend(title=legend_title)
    if title:
        fig.suptitle(title)
    return fig, axes


def sweep(
    make_fn: Callable[[float], Callable[[torch.Tensor], torch.Tensor]],
    values: Sequence[float],
    x: torch.Tensor,
    *,
    name: str,
    xlabel: str,
    ylabel: str = "loss",
    **kwargs,
) -> tuple[plt.Figure, np.ndarray]:
    """Loss and derivative for each value of one hyper-parameter ``name``.

    ``make_fn(value)`` returns the elementwise function for that value; the remaining
    keyword arguments go to :func:`loss_and_gradient`.
    """
    curves = {f"{name} = {v:g}": make_fn(v) for v in values}
    return loss_and_gradient(curves, x, xlabel=xlabel, ylabel=ylabel, legend_title=None, **kwargs)


def curves(
    series: Mapping[str, Sequence[float] | np.ndarray | torch.Tensor],
    x: Sequence[float] | np.ndarray | torch.Tensor | None = None,
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
    logy: bool = False,
) -> plt.Axes:
    """One panel of labelled curves, e.g. training curves of several losses compared."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.4))
    for i, (label, ys) in enumerate(series.items()):
        ys = _as_array(ys)
        xs = np.arange(len(ys)) if x is None else _as_array(x)
        ax.plot(xs, ys, label=label, **_style_of(i))
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def bars(
    values: Mapping[str, float],
    *,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
    fmt: str = "{:.3f}",
) -> plt.Axes:
    """A labelled bar chart with the value written on each bar (comparisons of losses)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.4))
    labels = list(values)
    heights = [float(values[k]) for k in labels]
    bars_ = ax.bar(labels, heights, color=[PALETTE[i % len(PALETTE)] for i in range(len(labels))])
    for bar, h in zip(bars_, heights, strict=True):
        ax.annotate(fmt.format(h), (bar.get_x() + bar.get_width() / 2, h), ha="center", va="bottom")
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return ax


def decision_regions(
    predict: Callable[[torch.Tensor], torch.Tensor],
    points: torch.Tensor,
    labels: torch.Tensor,
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
) -> plt.Axes:
    """2-D data coloured by label over the regions of ``predict`` (grid -> class index)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.8))
    pts = _numpy(points)
    pad = 0.5
    gx = np.linspace(pts[:, 0].min() - pad, pts[:, 0].max() + pad, resolution)
    gy = np.linspace(pts[:, 1].min() - pad, pts[:, 1].max() + pad, resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = torch.tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=points.dtype)
    with torch.no_grad():
        zz = _numpy(predict(grid)).reshape(xx.shape)
    classes = np.unique(_numpy(labels))
    cmap = mpl.colors.ListedColormap([PALETTE[i % len(PALETTE)] for i in range(len(classes))])
    ax.contourf(xx, yy, zz, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap, alpha=0.18)
    for i, c in enumerate(classes):
        mask = _numpy(labels) == c
        ax.scatter(pts[mask, 0], pts[mask, 1], s=12, color=PALETTE[i % len(PALETTE)], label=f"class {c:g}")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=9)
    return ax


def linear_boundary(
    ax: plt.Axes,
    weight: torch.Tensor,
    bias: float | torch.Tensor,
    *,
    levels: Sequence[float] = (-1.0, 0.0, 1.0),
    highlight: torch.Tensor | None = None,
) -> plt.Axes:
    r"""Draw the lines :math:`w^\top x + b = c` of a 2-D linear classifier on ``ax``.

    The level 0 (the decision boundary) is solid, the others (e.g. the margins
    :math:`\pm 1` of an SVM) dashed. ``highlight`` optionally circles points ``[K, 2]``
    (e.g. the support vectors). Call after :func:`decision_regions` so the axis limits
    are those of the data.
    """
    w = _numpy(torch.as_tensor(weight)).ravel()
    b = float(bias)
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    xs = np.linspace(*xlim, 2)
    ys = np.linspace(*ylim, 2)
    for c in levels:
        style = {"color": "#222222", "linewidth": 1.4 if c == 0 else 1.0, "linestyle": "-" if c == 0 else "--"}
        if abs(w[1]) >= abs(w[0]):
            ax.plot(xs, (c - b - w[0] * xs) / w[1], **style)
        else:
            ax.plot((c - b - w[1] * ys) / w[0], ys, **style)
    if highlight is not None and len(highlight):
        pts = _numpy(torch.as_tensor(highlight))
        ax.scatter(pts[:, 0], pts[:, 1], s=70, facecolors="none", edgecolors="#222222", linewidths=1.0)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def _colour_bar_and_title(ax: plt.Axes, mappable, colorbar_label: str | None, title: str | None) -> None:
    bar = ax.figure.colorbar(mappable, ax=ax)
    if colorbar_label:
        bar.set_label(colorbar_label)
    if title:
        ax.set_title(title)


def heatmap(
    matrix: torch.Tensor | np.ndarray,
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str | None = None,
) -> plt.Axes:
    """A matrix as an image (e.g. a similarity matrix), with a colour bar.

    Uses the perceptually uniform, colour-blind-safe ``cividis`` map; rows run top to bottom.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    m = _as_array(matrix)
    image = ax.imshow(m, cmap="cividis", vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    _colour_bar_and_title(ax, image, colorbar_label, title)
    return ax


def surface(
    values: torch.Tensor | np.ndarray,
    xs: torch.Tensor | np.ndarray,
    ys: torch.Tensor | np.ndarray,
    *,
    xlabel: str,
    ylabel: str,
    ax: plt.Axes | None = None,
    title: str | None = None,
    levels: int = 14,
    colorbar_label: str | None = None,
    highlight: torch.Tensor | np.ndarray | None = None,
    highlight_label: str = "highlighted",
) -> plt.Axes:
    r"""A function of two parameters as filled contours, e.g. a loss over :math:`(w, b)`.

    Args:
        values: a ``[len(xs), len(ys)]`` grid, ``values[i, j] = f(xs[i], ys[j])`` (the
            layout of ``torch.meshgrid(xs, ys, indexing="ij")``).
        xs, ys: the grid's coordinates along the x and the y axis.
        xlabel, ylabel: axis labels.
        ax: the axes to draw on (default: a new figure).
        title, colorbar_label: optional texts.
        levels: the number of contour levels (``cividis``, colour-blind safe).
        highlight: an optional boolean grid of the same shape; its true cells are hatched
            and named ``highlight_label`` in the legend (e.g. where the surface is not convex).

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 3.6))
    v, x, y = _as_array(values), _as_array(xs), _as_array(ys)
    if v.shape != (len(x), len(y)):
        raise ValueError(f"values must have shape (len(xs), len(ys)) = {(len(x), len(y))}, got {v.shape}")
    filled = ax.contourf(x, y, v.T, levels=levels, cmap="cividis")
    ax.contour(x, y, v.T, levels=filled.levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.grid(False)
    if highlight is not None:
        mask = _as_array(highlight).astype(float)
        if mask.shape != v.shape:
            raise ValueError(f"highlight must have the shape of values {v.shape}, got {mask.shape}")
        with mpl.rc_context({"hatch.color": PALETTE[1], "hatch.linewidth": 0.8}):
            ax.contourf(x, y, mask.T, levels=[0.5, 1.5], colors="none", hatches=["////"])
        ax.contour(x, y, mask.T, levels=[0.5], colors=PALETTE[1], linewidths=1.4)
        ax.legend(
            handles=[Patch(facecolor="none", edgecolor=PALETTE[1], hatch="////", label=highlight_label)],
            loc="upper left",
            framealpha=0.9,
            frameon=True,
        )
    ax.set(xlabel=xlabel, ylabel=ylabel)
    _colour_bar_and_title(ax, filled, colorbar_label, title)
    return ax


def embedding_scatter(
    points: torch.Tensor,
    labels: torch.Tensor,
    *,
    ax: plt.Axes | None = None,
    title: str | None = None,
    centres: torch.Tensor | None = None,
    unit_circle: bool = False,
) -> plt.Axes:
    """2-D embeddings coloured by class, optionally with class centres (drawn as rays from
    the origin) and the unit circle, for angular losses."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.8, 3.8))
    pts = _numpy(points)
    lab = _numpy(labels)
    for i, c in enumerate(np.unique(lab)):
        mask = lab == c
        ax.scatter(pts[mask, 0], pts[mask, 1], s=8, alpha=0.6, color=PALETTE[i % len(PALETTE)])
    if centres is not None:
        cs = _numpy(centres)
        for i, c in enumerate(cs):
            ax.plot([0, c[0]], [0, c[1]], color=PALETTE[i % len(PALETTE)], linewidth=1.6)
    if unit_circle:
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(np.cos(t), np.sin(t), color="#888888", linewidth=0.8)
    ax.set_aspect("equal")
    ax.set(xlabel="$z_1$", ylabel="$z_2$")
    if title:
        ax.set_title(title)
    return ax


def spread_bars(
    values: Mapping[str, Sequence[float] | np.ndarray | torch.Tensor],
    *,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
    fmt: str = "{:.3f}",
) -> plt.Axes:
    """Results over several seeds: one bar per entry at the mean, an error bar of one
    standard deviation (``ddof=1``; none for a single value), every seed as a dot, and the
    mean written above the bar. ``values`` maps a label to the per-seed results."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.4))
    labels = list(values)
    runs = [_as_array(values[k]).ravel() for k in labels]
    if any(r.size == 0 for r in runs):
        raise ValueError("spread_bars: every entry of values needs at least one result, got an empty one")
    means = [float(r.mean()) for r in runs]
    sds = [float(r.std(ddof=1)) if r.size > 1 else 0.0 for r in runs]
    positions = np.arange(len(labels))
    ax.bar(positions, means, color=[PALETTE[i % len(PALETTE)] for i in range(len(labels))], alpha=0.75)
    ax.errorbar(positions, means, yerr=sds, fmt="none", ecolor="#222222", capsize=4, linewidth=1.2)
    for p, r in zip(positions, runs, strict=True):
        ax.plot(np.full(r.size, p, dtype=float), r, "o", color="#222222", markersize=3, alpha=0.7)
    for p, m, s in zip(positions, means, sds, strict=True):
        ax.annotate(fmt.format(m), (p, m + s), ha="center", va="bottom", xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(positions, labels)
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return ax
