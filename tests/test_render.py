from __future__ import annotations

import ast
import collections
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from weaklabel.report.figures import new_figure, save_figure
from weaklabel.report.render import render_html, render_markdown, write_report

PNG = b"\x89PNG\r\n\x1a\n"
LIBRARY = REPO / "weaklabel"


def small_figure():
    figure = new_figure(2, 1.5)
    figure.subplots().plot([0, 1], [0, 1])
    return figure


def test_markdown_of_every_block_kind(tmp_path):
    blocks = [
        ("h1", "Title"),
        ("warn", "random weights"),
        ("h2", "Section"),
        ("p", "some **bold** text"),
        ("ul", ["one", "two"]),
        ("table", (["name", "n"], [["a|b", 3], ["multi\nline", 10]])),
        ("table", (["corpus", "files"], [["x", 7]], "lr")),
        ("img", ("a figure", tmp_path / "fig.png")),
    ]
    md = render_markdown(blocks, relative_to=tmp_path)
    assert md == (
        "# Title\n\n> **WARNING: random weights**\n\n## Section\n\nsome **bold** text\n\n- one\n- two\n\n"
        "| name | n |\n| --- | --- |\n| a\\|b | 3 |\n| multi line | 10 |\n\n"
        "| corpus | files |\n| --- | ---: |\n| x | 7 |\n\n![a figure](fig.png)\n\n*a figure*\n"
    )


def test_html_is_self_contained_and_aligns_columns(tmp_path):
    png = save_figure(small_figure(), tmp_path / "fig.png")
    blocks = [
        ("h1", "T <&>"),
        ("p", "`code` and **bold**"),
        ("table", (["corpus", "files"], [["x", 7]], "lr")),
        ("img", ("shown", png)),
        ("img", ("absent", tmp_path / "missing.png")),
    ]
    page = render_html(blocks, title="my report")
    assert "<title>my report</title>" in page and "<h1>T &lt;&amp;&gt;</h1>" in page
    assert "<code>code</code>" in page and "<strong>bold</strong>" in page
    assert '<th>corpus</th><th style="text-align: right">files</th>' in page
    assert '<td>x</td><td style="text-align: right">7</td>' in page
    assert "data:image/png;base64," in page and "missing.png missing" in page
    assert 'src="' not in page.replace('src="data:', "")  # no file referenced


def test_write_report_figures_only(tmp_path):
    paths = write_report(tmp_path / "out", figures={"a.png": small_figure(), "b.png": small_figure()})
    assert list(paths) == ["a.png", "b.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert paths["a.png"].read_bytes()[:8] == PNG


def test_write_report_embeds_its_own_figures(tmp_path):
    blocks = [("h1", "Report"), ("img", ("the figure", tmp_path / "fig.png"))]
    paths = write_report(tmp_path, figures={"fig.png": small_figure()}, blocks=blocks, name="doc", dpi=50)
    assert [p.name for p in paths.values()] == ["fig.png", "doc.md", "doc.html"]
    assert "![the figure](fig.png)" in paths["md"].read_text()
    assert "data:image/png;base64," in paths["html"].read_text()


def test_save_figure_resolution_changes_pixels_not_layout(tmp_path):
    import matplotlib.image

    figure = small_figure()
    low = matplotlib.image.imread(save_figure(figure, tmp_path / "sub" / "low.png", dpi=50))
    high = matplotlib.image.imread(save_figure(figure, tmp_path / "high.png", dpi=100))
    assert low.shape[:2] == (75, 100) and high.shape[:2] == (150, 200)


def test_reports_leave_matplotlib_global_state_alone():
    """Importing every report and drawing a figure imports no pyplot and sets no backend."""
    code = (
        "import sys, matplotlib\n"
        "before = dict.__getitem__(matplotlib.rcParams, 'backend')  # unresolved: no pyplot import\n"
        "import weaklabel.report.crosscorpus, weaklabel.report.evaluation\n"
        "import weaklabel.report.labels, weaklabel.report.probe\n"
        "from weaklabel.report.figures import new_figure, save_figure\n"
        "import tempfile, pathlib\n"
        "figure = new_figure(2, 2)\n"
        "figure.subplots().plot([0, 1])\n"
        "save_figure(figure, pathlib.Path(tempfile.mkdtemp()) / 'f.png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == before\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_library_sets_no_backend_and_uses_no_pyplot():
    offenders = [
        str(path.relative_to(REPO))
        for path in LIBRARY.rglob("*.py")
        if re.search(r"matplotlib\.use\(|matplotlib\.pyplot|from matplotlib import pyplot", path.read_text())
    ]
    assert offenders == []


def test_public_function_names_are_not_reused_across_the_library():
    """One name, one place: no two library modules define a public function of the same name.

    The command modules (``weaklabel/cli``) are left out: each has ``add_parser`` and ``run`` by design.
    """
    defined = collections.defaultdict(list)
    for path in sorted(LIBRARY.rglob("*.py")):
        if "cli" in path.relative_to(LIBRARY).parts:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                defined[node.name].append(str(Path(path).relative_to(REPO)))
    assert {name: files for name, files in defined.items() if len(files) > 1} == {}
