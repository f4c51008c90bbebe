"""The one figure helper of every report: a matplotlib figure without pyplot, and how it is saved.

Figures are made with the object-oriented API (:class:`matplotlib.figure.Figure` on an Agg canvas):
no pyplot, so no global backend, no figure registry to close and nothing that changes the state of
the process that imports the library. matplotlib is imported only when a figure is made, so the
library loads fast.

Examples
--------
>>> figure = new_figure(4, 3)
>>> axes = figure.subplots()
>>> save_figure(figure, "plot.png")  # doctest: +SKIP
PosixPath('plot.png')

A figure that shows results of a backbone with random weights carries the warning inside the
image (:func:`stamp_warning`), so a PNG copied out of its report still says it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of the saved PNGs, dots per inch.
DPI = 100
#: Colour of the band :func:`stamp_warning` draws across the top of a figure.
WARNING_COLOUR = "#cc0000"


def new_figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
    """A blank figure on its own Agg canvas.

    Parameters
    ----------
    width, height
        Size in inches.
    layout
        matplotlib's layout engine (``"constrained"``, ``"tight"``), or None to place the axes
        yourself (e.g. with ``figure.tight_layout()``).

    Returns
    -------
    matplotlib.figure.Figure
        Add axes with ``figure.subplots(...)``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str | Path, *, dpi: float = DPI) -> Path:
    """Write a figure as a PNG; parent folders are created.

    Parameters
    ----------
    figure
        From :func:`new_figure`.
    path
        The PNG to write.
    dpi
        Resolution of the PNG, dots per inch. Only the pixels change with it: the layout is
        computed at the figure's own resolution.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path


def stamp_warning(figure: Figure, text: str, *, fontsize: float = 9.0) -> Figure:
    """Write a warning into the image: white bold text on a red band across the top of the figure.

    The figure grows by the band's height and its axes keep their size below it: the layout
    engine (constrained or tight) is told to leave the band free; without one, the axes are moved
    down. Call it once, after the figure is drawn and before it is saved.

    Parameters
    ----------
    figure
        From :func:`new_figure`.
    text
        The warning, e.g. :func:`weaklabel.features.identity.weights_banner` of random backbones;
        wrapped to the figure's width.
    fontsize
        Size of the warning's text, points.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure, stamped.

    Examples
    --------
    >>> figure = new_figure(4, 3)
    >>> _ = figure.subplots().plot([0, 1])
    >>> _ = stamp_warning(figure, "RANDOM weights (NOT transfer learning): VGG16.")
    """
    from matplotlib.patches import Rectangle

    width, height = figure.get_figwidth(), figure.get_figheight()
    chars = max(20, int((width - 0.4) * 72 / (0.7 * fontsize)))  # bold characters that fit, with margins
    lines = textwrap.wrap(text, width=chars) or [""]
    band = (len(lines) * 1.3 + 0.8) * fontsize / 72  # inches
    below = height / (height + band)  # the old figure's share of the new height
    figure.set_figheight(height + band)
    engine = figure.get_layout_engine()
    if engine is not None and "rect" in engine.get():
        # (left, bottom, width, height) for constrained, (left, bottom, right, top) for tight:
        # scaling the 2nd and 4th by the same share suits both
        rect = engine.get()["rect"]
        engine.set(rect=(rect[0], rect[1] * below, rect[2], rect[3] * below))
    else:
        for axes in figure.axes:
            x0, y0, w, h = axes.get_position().bounds
            axes.set_position((x0, y0 * below, w, h * below))
    figure.add_artist(
        Rectangle(
            (0, below), 1, 1 - below, transform=figure.transFigure, facecolor=WARNING_COLOUR, edgecolor="none"
        )
    )
    figure.text(
        0.5,
        (1 + below) / 2,
        "\n".join(lines),
        ha="center",
        va="center",
        color="white",
        fontsize=fontsize,
        fontweight="bold",
    )
    return figure
