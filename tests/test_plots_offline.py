"""DVC plots that render offline: the page template with Vega inline, and the by-model line template.

The slow test draws a two-model ROC with ``dvc plots show --html-template .dvc/plots/offline.html``
and renders the page in headless Chromium with every host name unresolvable, then counts the pixels
of each model's line colour; DVC's own page (Vega from a CDN) stays blank the same way, which shows
that the check cannot pass online by accident.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

PLOTS = REPO / ".dvc" / "plots"
OFFLINE = PLOTS / "offline.html"
#: The first two colours of Vega's default categorical scheme (tableau10): one per model.
BLUE, ORANGE = (0x4C, 0x78, 0xA8), (0xF5, 0x85, 0x18)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_offline_page_carries_vega_inline_and_loads_nothing():
    page = OFFLINE.read_text()
    assert "{plot_divs}" in page and "{refresh_tag}" in page
    assert "{scripts}" not in page  # DVC would put its CDN <script src=...> tags there
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert page.count("<script>") == 3
    notice = (REPO / "NOTICE").read_text()
    for name, version in re.findall(r"<!-- (Vega|Vega-Lite|vega-embed) ([\d.]+) \(BSD-3-Clause\) -->", page):
        assert f"{name} {version}" in notice
    for script in re.findall(r"<script>\n(.*?)\n</script>", page, flags=re.S):  # unmodified, as NOTICE says
        assert hashlib.sha256((script + "\n").encode()).hexdigest() in notice
    assert (PLOTS / "LICENSE-VEGA.txt").is_file()


def test_by_model_template_draws_one_coloured_line_per_model():
    spec = json.loads((PLOTS / "by_model.json").read_text())
    assert spec["data"]["values"] == "<DVC_METRIC_DATA>"
    encoding = spec["encoding"]
    assert (encoding["x"]["field"], encoding["y"]["field"]) == ("<DVC_METRIC_X>", "<DVC_METRIC_Y>")
    assert encoding["color"]["field"] == "model" and spec["mark"]["type"] == "line"


def colour_pixels(png, colour) -> int:
    """Pixels of a screenshot within a few levels of an RGB colour."""
    from matplotlib.image import imread

    rgb = (imread(png)[..., :3] * 255).round()
    return int((abs(rgb - colour).max(axis=-1) <= 12).sum())


def screenshot(page, png, profile) -> None:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
        "--window-size=900,700",
        "--virtual-time-budget=10000",
        f"--screenshot={png}",
        page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.is_file(), done.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (Debian package chromium; .ci/setup installs it)")
@pytest.mark.skipif(importlib.util.find_spec("dvc") is None, reason="no dvc (the pipeline extra)")
def test_offline_page_renders_the_models_in_headless_chromium(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    rows = ["model,fpr,tpr", "a,0,0", "a,0.2,0.6", "a,1,1", "b,0,0", "b,0.5,0.5", "b,1,1"]
    (repo / "roc.csv").write_text("\n".join(rows) + "\n")
    plot = {"roc.csv": {"x": "fpr", "y": "tpr", "template": "by_model", "title": "ROC"}}
    (repo / "dvc.yaml").write_text(json.dumps({"plots": [plot]}))
    env = {"DVC_NO_ANALYTICS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "--no-scm", "-q", "-f"], cwd=repo, env=env, check=True, timeout=120)
    shutil.copytree(PLOTS, repo / ".dvc" / "plots")
    pages = {}
    for name, extra in (("offline", ["--html-template", str(OFFLINE)]), ("cdn", [])):
        cmd = [*dvc, "plots", "show", "-o", name, *extra]
        done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        pages[name] = repo / name / "index.html"
    assert "cdn.jsdelivr" not in pages["offline"].read_text()

    screenshot(pages["offline"], tmp_path / "offline.png", tmp_path / "profile1")
    assert colour_pixels(tmp_path / "offline.png", BLUE) > 200  # model a
    assert colour_pixels(tmp_path / "offline.png", ORANGE) > 200  # model b
    screenshot(pages["cdn"], tmp_path / "cdn.png", tmp_path / "profile2")
    assert colour_pixels(tmp_path / "cdn.png", BLUE) + colour_pixels(tmp_path / "cdn.png", ORANGE) == 0


def test_dvc_config_makes_the_offline_page_the_default():
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO / ".dvc" / "config")
    assert (REPO / ".dvc" / config["plots"]["html_template"]) == OFFLINE  # relative to .dvc/
