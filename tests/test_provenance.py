from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from importlib import metadata

import pytest

import weaklabel
from weaklabel import provenance as module
from weaklabel.provenance import (
    NOT_INSTALLED,
    git_state,
    package_versions,
    params_digest,
    provenance,
    provenance_block,
)
from weaklabel.report.render import render_markdown

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed on this machine")


def git(folder, *args):
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "params.yaml").write_text("train:\n  seed: 0\n")
    git(folder, "add", "params.yaml")
    git(folder, "commit", "-q", "-m", "first")
    return folder


@needs_git
def test_git_state_of_a_clean_and_a_dirty_checkout(repo):
    state = git_state(repo)
    assert state == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "short": git(repo, "rev-parse", "--short", "HEAD"),
        "dirty": False,
        "changed": 0,
    }
    assert len(state["commit"]) == 40 and state["commit"].startswith(state["short"])
    (repo / "params.yaml").write_text("train:\n  seed: 1\n")
    (repo / "new.txt").write_text("x")
    assert git_state(repo)["dirty"] is True and git_state(repo)["changed"] == 2


@needs_git
def test_not_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    state = git_state(tmp_path)
    assert state["commit"] == state["short"] == "unknown: not a git checkout"
    assert state["dirty"] is None and "not a git repository" in state["note"]


def test_never_raises_without_git_or_when_git_hangs(tmp_path, monkeypatch):
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    info = provenance(tmp_path / "params.yaml", root=tmp_path)
    assert info["git"]["commit"] == "unknown: git not installed" and info["git"]["dirty"] is None
    assert info["params"]["sha256"].startswith("unknown: cannot read")

    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(module.shutil, "which", lambda name: "/usr/bin/git")
    monkeypatch.setattr(module.subprocess, "run", hang)
    assert git_state(tmp_path)["commit"] == f"unknown: git took over {module.GIT_TIMEOUT:g} s"

    def missing(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(module.subprocess, "run", missing)
    assert git_state(tmp_path)["commit"] == "unknown: git failed to run"


def test_package_versions(monkeypatch):
    versions = package_versions()
    assert list(versions) == list(module.PACKAGES)
    assert versions["numpy"] == metadata.version("numpy") and versions["weaklabel"] == weaklabel.__version__
    real = metadata.version

    def fake(name):
        if name in ("opensmile", "tensorflow"):
            raise metadata.PackageNotFoundError(name)
        return "9.9.9" if name == "tensorflow-cpu" else real(name)

    monkeypatch.setattr(module.metadata, "version", fake)
    versions = package_versions()
    assert versions["opensmile"] == NOT_INSTALLED and versions["tensorflow"] == "9.9.9 (tensorflow-cpu)"


def test_params_digest_of_a_file_and_of_a_mapping(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes(b"a: 1\n")
    assert params_digest(path) == {"source": str(path), "sha256": hashlib.sha256(b"a: 1\n").hexdigest()}
    one = params_digest({"b": {"y": 2, "x": [1, 2]}, "a": 1.5})
    two = params_digest({"a": 1.5, "b": {"x": [1, 2], "y": 2}})
    assert one == two and one["source"] == "mapping (canonical JSON)" and len(one["sha256"]) == 64
    assert params_digest({"a": 1.6}) != one
    assert params_digest(tmp_path)["sha256"].startswith("unknown: cannot read")  # a folder


@needs_git
def test_provenance_and_its_block(repo):
    info = provenance(repo / "params.yaml", root=repo)
    assert set(info) == {"git", "packages", "python", "params", "date_utc", "platform"}
    assert info["params"]["sha256"] == hashlib.sha256((repo / "params.yaml").read_bytes()).hexdigest()
    date = datetime.fromisoformat(info["date_utc"])
    assert date.utcoffset() == timedelta(0) and abs(datetime.now(timezone.utc) - date) < timedelta(minutes=5)
    assert provenance(None, root=repo)["params"] is None
    md = render_markdown(provenance_block(info))
    assert md.startswith("## Provenance") and f"`{info['git']['commit']}` (clean)" in md
    assert f"| numpy | {info['packages']['numpy']} |" in md
    (repo / "params.yaml").write_text("changed\n")
    md = render_markdown(provenance_block(provenance({"a": 1}, root=repo)))
    assert "working tree DIRTY: 1 path differs" in md and "of mapping (canonical JSON)" in md
