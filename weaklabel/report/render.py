"""The one report renderer: a list of blocks becomes Markdown and a self-contained HTML page.

Every report (:mod:`weaklabel.report.labels`, :mod:`~weaklabel.report.evaluation`,
:mod:`~weaklabel.report.probe`, :mod:`~weaklabel.report.crosscorpus`) is written by
:func:`write_report`: its figures as PNGs and, when it has text, its blocks as ``<name>.md`` and
``<name>.html``. A block is a ``(kind, payload)`` pair (:data:`Block`):

==========  ==================================================================================
kind        payload
==========  ==================================================================================
``h1``      title text
``h2``      section heading text
``p``       paragraph text (``**bold**`` and ```code``` allowed, as in every text payload)
``warn``    a warning, shouted in a box
``ul``      list of item texts
``table``   ``(header, rows)`` or ``(header, rows, align)``: ``align`` has one letter per column,
            ``l`` (left, the default) or ``r`` (right, for counts)
``img``     ``(caption, path)`` of a PNG: linked from the Markdown, embedded in the HTML
==========  ==================================================================================

The HTML embeds figures as base64 PNGs, so it reads offline and can be mailed as one file.

Examples
--------
>>> blocks = [("h1", "Title"), ("table", (["corpus", "files"], [["a", 3]], "lr"))]
>>> print(render_markdown(blocks))
# Title
<BLANKLINE>
| corpus | files |
| --- | ---: |
| a | 3 |
<BLANKLINE>
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weaklabel.report.figures import DPI, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: A report block: ``(kind, payload)``, see the module docstring.
Block = tuple[str, Any]


def _table(payload: tuple) -> tuple[Sequence[object], Sequence[Sequence[object]], str]:
    """Header, rows and one alignment letter per column of a table payload."""
    header, rows, *align = payload
    return header, rows, align[0] if align else "l" * len(header)


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block], *, relative_to: str | Path | None = None) -> str:
    """Markdown of the blocks; images are linked (relative to ``relative_to`` when given).

    Parameters
    ----------
    blocks
        The report's blocks (:data:`Block`).
    relative_to
        The folder the markdown file will live in.

    Returns
    -------
    str
        The document.
    """
    lines: list[str] = []
    for kind, payload in blocks:
        if kind == "h1":
            lines += [f"# {payload}", ""]
        elif kind == "h2":
            lines += [f"## {payload}", ""]
        elif kind == "p":
            lines += [payload, ""]
        elif kind == "warn":
            lines += [f"> **WARNING: {payload}**", ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in payload] + [""]
        elif kind == "table":
            header, rows, align = _table(payload)
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join(" ---: " if a == "r" else " --- " for a in align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            caption, path = payload
            link = Path(path)
            if relative_to is not None:
                try:
                    link = link.resolve().relative_to(Path(relative_to).resolve())
                except ValueError:
                    pass
            lines += [f"![{caption}]({link.as_posix()})", "", f"*{caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`(.+?)`")

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f3f3f3; }
.warn { border: 3px solid #c00; background: #fee; color: #900; padding: 0.8rem 1rem; font-weight: bold; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-style: italic; color: #555; }
"""


def _inline(text: object) -> str:
    escaped = html.escape(str(text))
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def _html_row(cells: Sequence[object], align: str, tag: str) -> str:
    opening = {"l": f"<{tag}>", "r": f'<{tag} style="text-align: right">'}
    return "".join(f"{opening[a]}{_inline(c)}</{tag}>" for c, a in zip(cells, align, strict=True))


def render_html(blocks: Sequence[Block], *, title: str = "weaklabel report") -> str:
    """A self-contained HTML page of the blocks, figures embedded as base64 PNGs.

    Parameters
    ----------
    blocks
        The report's blocks (:data:`Block`).
    title
        The page title.

    Returns
    -------
    str
        The document; it references no other file.
    """
    body: list[str] = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{_inline(payload)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline(payload)}</p>")
        elif kind == "warn":
            body.append(f'<div class="warn">WARNING: {_inline(payload)}</div>')
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in payload) + "</ul>")
        elif kind == "table":
            header, rows, align = _table(payload)
            head = _html_row(header, align, "th")
            cells = "".join(f"<tr>{_html_row(row, align, 'td')}</tr>" for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        elif kind == "img":
            caption, path = payload
            if Path(path).is_file():
                data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{_inline(caption)}</figcaption></figure>"
                )
            else:
                body.append(f"<p>(figure {html.escape(str(path))} missing)</p>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(
    out: str | Path,
    *,
    figures: Mapping[str, Figure] | None = None,
    blocks: Sequence[Block] | None = None,
    name: str = "report",
    title: str = "weaklabel report",
    dpi: float = DPI,
) -> dict[str, Path]:
    """Write a report into ``out``: its figures as PNGs, then its blocks as Markdown and HTML.

    Figures are written first, so that ``img`` blocks pointing at them are embedded in the HTML.

    Parameters
    ----------
    out
        The report's folder (created).
    figures
        File name (``roc.png``) -> figure (:func:`weaklabel.report.figures.new_figure`).
    blocks
        The text of the report; None for a report of figures only (no ``.md``, no ``.html``).
    name
        Stem of the text files: ``<name>.md`` and ``<name>.html``.
    title
        Title of the HTML page.
    dpi
        Resolution of the figures' PNGs, dots per inch.

    Returns
    -------
    dict
        Each figure's file name -> its path, then ``md`` and ``html`` -> their paths (with blocks).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {file: save_figure(figure, out / file, dpi=dpi) for file, figure in (figures or {}).items()}
    if blocks is not None:
        paths["md"] = out / f"{name}.md"
        paths["md"].write_text(render_markdown(blocks, relative_to=out), encoding="utf-8")
        paths["html"] = out / f"{name}.html"
        paths["html"].write_text(render_html(blocks, title=title), encoding="utf-8")
    return paths
