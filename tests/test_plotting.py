"""The shared figure helper: derivatives by autograd, labelled axes, shape errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import losslib  # noqa: E402
from losslib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_value_and_derivative_is_the_autograd_derivative():
    x = torch.linspace(-3, 3, 61)
    huber = lambda r: losslib.huber_loss(r, torch.zeros_like(r), reduction="none")  # noqa: E731
    value, grad = plotting.value_and_derivative(huber, x)
    xs = x.double().numpy()
    np.testing.assert_allclose(value, np.where(np.abs(xs) <= 1, 0.5 * xs**2, np.abs(xs) - 0.5), atol=1e-12)
    np.testing.assert_allclose(grad, np.clip(xs, -1, 1), atol=1e-12)


def test_value_and_derivative_rejects_a_reduced_function():
    with pytest.raises(ValueError, match="elementwise"):
        plotting.value_and_derivative(lambda r: r.sum(), torch.linspace(0, 1, 5))


def test_loss_and_gradient_plots_each_curve_and_its_derivative():
    x = torch.linspace(-2, 2, 41)
    fig, (left, right) = plotting.loss_and_gradient(
        {"square": lambda r: r**2, "abs": torch.abs}, x, xlabel="residual", ylabel="loss"
    )
    assert [line.get_label() for line in left.get_lines()] == ["square", "abs"]
    assert left.get_xlabel() == right.get_xlabel() == "residual"
    assert right.get_ylabel() == "derivative of the loss"
    square_grad = right.get_lines()[0].get_ydata()
    np.testing.assert_allclose(square_grad, 2 * x.double().numpy(), atol=1e-12)
    # styles differ, so curves stay apart in grey print
    styles = {(line.get_color(), line.get_linestyle()) for line in left.get_lines()}
    assert len(styles) == 2


def test_use_style_paints_an_opaque_white_canvas():
    plotting.use_style()
    fig, _ = plt.subplots()
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    assert matplotlib.rcParams["savefig.facecolor"] == "white"


def test_surface_draws_contours_and_the_highlighted_region():
    xs, ys = torch.linspace(-1, 1, 21), torch.linspace(-2, 2, 41)
    X, Y = torch.meshgrid(xs, ys, indexing="ij")
    values = X**2 - Y**2
    ax = plotting.surface(values, xs, ys, xlabel="w", ylabel="b", highlight=values < 0, highlight_label="below zero")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w", "b")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["below zero"]
    assert ax.get_xlim() == pytest.approx((-1, 1)) and ax.get_ylim() == pytest.approx((-2, 2))


@pytest.mark.parametrize("which", ["values", "highlight"])
def test_surface_rejects_a_grid_of_the_wrong_shape(which):
    xs, ys = torch.linspace(0, 1, 4), torch.linspace(0, 1, 5)
    good = torch.zeros(4, 5)
    kwargs = {"values": good, "highlight": good > 0}
    kwargs[which] = torch.zeros(5, 4)
    with pytest.raises(ValueError, match=which):
        plotting.surface(kwargs["values"], xs, ys, xlabel="x", ylabel="y", highlight=kwargs["highlight"])


def test_heatmap_labels_its_axes_and_colour_bar():
    ax = plotting.heatmap(torch.eye(3), xlabel="column", ylabel="row", colorbar_label="similarity", title="S")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("column", "row", "S")
    colour_bar_axes = [a for a in ax.figure.axes if a is not ax]
    assert [a.get_ylabel() for a in colour_bar_axes] == ["similarity"]


def test_spread_bars_draws_mean_bars_error_bars_and_one_dot_per_seed():
    values = {"a": [1.0, 2.0, 3.0], "b": torch.tensor([4.0, 4.0]), "c": [5.0]}
    ax = plotting.spread_bars(values, ylabel="EER", title="three seeds")
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == pytest.approx([2.0, 4.0, 5.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [len(line.get_ydata()) for line in dots] == [3, 2, 1]
    assert (ax.get_ylabel(), ax.get_title()) == ("EER", "three seeds")
    assert [t.get_text() for t in ax.texts] == ["2.000", "4.000", "5.000"]
    with pytest.raises(ValueError, match="empty"):
        plotting.spread_bars({"a": []}, ylabel="EER")
