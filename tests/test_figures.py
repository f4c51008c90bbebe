"""The warning stamped into figures, and the figures that must carry it."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from weaklabel.features.identity import weights_banner
from weaklabel.learn.probe import ProbeResult
from weaklabel.report.figures import WARNING_COLOUR, new_figure, save_figure, stamp_warning
from weaklabel.report.probe import plot_probe

RED = np.array([0xCC, 0, 0]) / 255


def pixels(figure, path):
    return matplotlib.image.imread(save_figure(figure, path, dpi=50))[..., :3]


def red_share(image):
    """Share of pixels of each row that are the warning's red."""
    return (np.abs(image - RED).max(axis=-1) < 0.02).mean(axis=1)


def drawn(layout):
    figure = new_figure(4, 3, layout=layout)
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1])
    axes.set_title("a title")
    return figure


@pytest.mark.parametrize("layout", ["constrained", "tight", None])
def test_stamp_puts_a_red_band_above_the_axes(tmp_path, layout):
    plain = pixels(drawn(layout), tmp_path / "plain.png")
    figure = drawn(layout)
    axes_height = figure.axes[0].get_window_extent().height
    text = weights_banner({"vgg16": {"weights": "random"}}) * 3  # long: wraps over lines
    assert stamp_warning(figure, text) is figure
    stamped = pixels(figure, tmp_path / "stamped.png")
    assert WARNING_COLOUR == "#cc0000" and red_share(plain).max() == 0
    assert stamped.shape[0] > plain.shape[0] and stamped.shape[1] == plain.shape[1]  # grew in height
    share = red_share(stamped)
    band = np.flatnonzero(share > 0.5)
    assert band[0] < 3 and band[-1] < stamped.shape[0] * 0.35  # at the top
    assert share[band[-1] + 3 :].max() < 0.01  # nothing red below it
    assert (np.abs(stamped[band] - 1).max(axis=-1) < 0.05).any()  # white text on the band
    figure.canvas.draw()
    assert figure.axes[0].get_window_extent().height == pytest.approx(axes_height, rel=0.1)


def probe_result(weights):
    scores = pd.DataFrame(
        {
            "language": ["en", "en", "de", "de"],
            "polarity": ["positive", "negative", "positive", None],
            "scaled": [0.9, 0.1, 0.6, 0.4],
        }
    )
    summary = pd.DataFrame({"language": ["de", "en"], "auc": [np.nan, 1.0], "scored": [2, 2]})
    info = {"model": "dense_head@vgg16", "features": "vgg16", "weights": weights, "scored": 4}
    info["backbone"] = "VGG16 block5_pool avg (512-d)"
    return ProbeResult(scores=scores, summary=summary, rejects=pd.DataFrame(), info=info)


def test_probe_figure_is_stamped_only_for_a_random_backbone(tmp_path):
    random = plot_probe(probe_result("random"))
    texts = [" ".join(t.get_text().split()) for t in random.texts]  # unwrapped
    assert any("RANDOM weights (NOT transfer learning): VGG16" in t for t in texts)
    assert red_share(pixels(random, tmp_path / "random.png"))[:3].min() > 0.9
    pretrained = plot_probe(probe_result("imagenet"))
    assert not pretrained.texts and red_share(pixels(pretrained, tmp_path / "imagenet.png")).max() == 0
