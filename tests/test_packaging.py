"""What pip installs: lean core dependencies, one line when TensorFlow is missing, a complete wheel.

CI also installs the wheel in a fresh virtual environment and runs the ``weaklabel`` command end to
end from it (.ci/wheel).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tests.conftest import REPO
from weaklabel import shell
from weaklabel.errors import MissingDependencyError, import_keras, import_tensorflow

tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11+")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_dvc_is_the_pipeline_extra_not_a_core_dependency():
    assert "dvc" not in names(PYPROJECT["dependencies"])
    assert names(PYPROJECT["optional-dependencies"]["pipeline"]) == {"dvc"}
    for path in [*REPO.glob("weaklabel/**/*.py"), *REPO.glob("pipelines/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not [a for a in node.names if a.name.split(".")[0] == "dvc"], path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "dvc", path


def test_tensorflow_extras_are_bounded_to_the_measured_minor():
    extras = PYPROJECT["optional-dependencies"]
    for extra, package in (("cpu", "tensorflow-cpu"), ("gpu", "tensorflow[and-cuda]")):
        (requirement,) = extras[extra]
        assert requirement.startswith(package) and "<2.22" in requirement
    (keras,) = [r for r in PYPROJECT["dependencies"] if r.startswith("keras")]
    assert ">=3.12.1" in keras and "<4" in keras


def test_the_library_never_imports_the_pipeline_scripts():
    """A wheel user has weaklabel/ only: nothing there may need pipelines/."""
    for path in REPO.glob("weaklabel/**/*.py"):
        assert not re.search(r"^\s*(from|import) pipelines\b", path.read_text(), flags=re.M), path


@pytest.fixture
def no_tensorflow(monkeypatch):
    """Imports of TensorFlow fail as where no extra is installed (None in sys.modules)."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)


def test_missing_tensorflow_is_one_line_naming_the_extra(no_tensorflow):
    for load in (import_tensorflow, import_keras):
        with pytest.raises(MissingDependencyError) as caught:
            load()
        message = str(caught.value)
        assert "\n" not in message
        assert "pip install 'weaklabel[cpu]'" in message and "'weaklabel[gpu]'" in message


def test_a_command_needing_tensorflow_without_it_exits_2_with_one_line(no_tensorflow, capsys):
    from weaklabel.features.vgg16 import VGG16Embedder
    from weaklabel.models.head import DenseHead

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)).astype(np.float32), np.arange(20) % 2
    assert shell.run(lambda: DenseHead(epochs=1).fit(X, y), prog="weaklabel") == shell.ERROR_EXIT
    assert shell.run(lambda: VGG16Embedder(weights="random"), prog="weaklabel") == shell.ERROR_EXIT
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("weaklabel: error: TensorFlow is not installed") for line in lines)
    assert all(line.endswith("(or 'weaklabel[gpu]' for an NVIDIA GPU)") for line in lines)


@pytest.mark.slow
def test_wheel_carries_what_a_command_line_user_needs(tmp_path):
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and "Could not find a version that satisfies" in done.stderr:
        pytest.skip("the build backend (setuptools) cannot be fetched here: offline")
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("weaklabel-*.whl")
    files = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "weaklabel/features/assets/yamnet.tflite",
        "weaklabel/features/assets/yamnet_class_map.csv",
        "weaklabel/features/assets/LICENSE-YAMNET.txt",
        *(f"weaklabel/demo/{name}.txt" for name in ("positive", "negative", "neutral", "probe")),
        "weaklabel/cli/__init__.py",
    ):
        assert needed in files, needed
    assert not [f for f in files if f.startswith(("pipelines/", "tests/", "benchmarks/", "data/"))]
    info = {f.split("/", 1)[1]: f for f in files if ".dist-info/" in f}
    assert "weaklabel = weaklabel.cli:main" in zipfile.ZipFile(wheel).read(info["entry_points.txt"]).decode()
    assert [f for f in info if f.endswith("LICENSE")] and [f for f in info if f.endswith("NOTICE")]
    metadata = zipfile.ZipFile(wheel).read(info["METADATA"]).decode()
    assert "Requires-Dist: dvc" in metadata and 'extra == "pipeline"' in metadata
