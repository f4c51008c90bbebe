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
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of the saved PNGs, dots per inch.
DPI = 100


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
