"""Provenance of a run: which code, which packages, which parameters, when and on what machine.

:func:`provenance` collects it as a JSON-able dict and :func:`provenance_block` shows it in a
report. It never raises: what cannot be found is written as ``unknown: <why>`` (no git, not a git
checkout, git too slow, a params file that is absent), so a report is written on any machine.

Examples
--------
>>> info = provenance({"train": {"seed": 0}}, root=".")
>>> sorted(info)
['date_utc', 'git', 'packages', 'params', 'platform', 'python']
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weaklabel import __version__
from weaklabel.models.bundle import DISTRIBUTIONS

if TYPE_CHECKING:
    from weaklabel.report.render import Block

log = logging.getLogger(__name__)

#: Packages whose versions are recorded (PyPI names; other distributions of one package, e.g.
#: ``tensorflow-cpu``, are those of :data:`weaklabel.models.bundle.DISTRIBUTIONS`).
PACKAGES = (
    "weaklabel",
    "numpy",
    "pandas",
    "scikit-learn",
    "tensorflow",
    "keras",
    "librosa",
    "ai-edge-litert",
    "opensmile",
)
#: Seconds one git command may take before the commit is reported unknown.
GIT_TIMEOUT = 10.0
#: What is recorded when a package is absent.
NOT_INSTALLED = "not installed"


def _git(root: Path, *args: str) -> tuple[str | None, str, str]:
    """Stdout of ``git -C root ARGS`` (stripped), or None, why not and git's own words."""
    git = shutil.which("git")
    if git is None:
        return None, "unknown: git not installed", ""
    try:
        done = subprocess.run(
            [git, "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"unknown: git took over {GIT_TIMEOUT:g} s", ""
    except OSError as error:
        return None, "unknown: git failed to run", str(error)
    if done.returncode != 0:
        return None, "unknown: not a git checkout", (done.stderr.strip().splitlines() or [""])[0]
    return done.stdout.strip(), "", ""


def git_state(root: str | Path) -> dict[str, Any]:
    """The commit checked out at ``root`` and whether the working tree differs from it.

    Parameters
    ----------
    root
        A folder inside the repository.

    Returns
    -------
    dict
        ``commit`` (40 hex digits), ``short`` (its abbreviation) and ``dirty`` (True when a
        tracked file is modified or an untracked, not ignored, file exists; ``changed``: how many
        paths). Without git, outside a checkout or when git hangs: ``commit`` and ``short`` are
        ``"unknown: <why>"`` (e.g. ``"unknown: not a git checkout"``), ``dirty`` is None and
        ``note`` holds git's own message, if any.
    """
    root = Path(root)
    commit, why, said = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": why, "short": why, "dirty": None, "note": said}
    short = _git(root, "rev-parse", "--short", "HEAD")[0] or commit[:7]
    status, why, said = _git(root, "status", "--porcelain")
    if status is None:
        return {"commit": commit, "short": short, "dirty": None, "note": f"status {why}: {said}"}
    changed = len(status.splitlines())
    return {"commit": commit, "short": short, "dirty": changed > 0, "changed": changed}


def package_versions() -> dict[str, str]:
    """Installed version of each of :data:`PACKAGES`, ``"not installed"`` for the absent.

    Read from package metadata: nothing is imported. weaklabel's is the running code's
    ``weaklabel.__version__``.

    Returns
    -------
    dict
        Name -> version; a version from another distribution than the name says is followed by
        it, e.g. ``"2.19.0 (tensorflow-cpu)"``.
    """
    versions = {}
    for name in PACKAGES:
        versions[name] = __version__ if name == "weaklabel" else NOT_INSTALLED
        for distribution in () if name == "weaklabel" else DISTRIBUTIONS.get(name, (name,)):
            try:
                version = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
            versions[name] = version if distribution == name else f"{version} ({distribution})"
            break
    return versions


def params_digest(params: str | Path | Mapping[str, Any]) -> dict[str, str]:
    """The sha256 of a params file's bytes, or of a params mapping serialised canonically.

    Parameters
    ----------
    params
        A file (``params.yaml``) or the parameters themselves: a mapping is hashed as JSON with
        sorted keys, no spaces and non-JSON values as ``str``, so equal mappings hash equal.

    Returns
    -------
    dict
        ``source`` (the path, or ``"mapping (canonical JSON)"``) and ``sha256`` (64 hex digits,
        or ``"unknown: <why>"`` when the file cannot be read).
    """
    if isinstance(params, Mapping):
        text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
        return {
            "source": "mapping (canonical JSON)",
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        }
    path = Path(params)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        digest = f"unknown: cannot read {path} ({error.strerror or error})"
    return {"source": str(path), "sha256": digest}


def provenance(params_path: str | Path | Mapping[str, Any] | None, *, root: str | Path) -> dict[str, Any]:
    """Which code, packages and parameters made a result, when and where.

    Parameters
    ----------
    params_path
        The params file the run read (its bytes are hashed), the parameters as a mapping (hashed
        canonically, :func:`params_digest`), or None when there are none.
    root
        A folder of the repository whose commit is recorded (:func:`git_state`).

    Returns
    -------
    dict
        JSON-able: ``git`` (:func:`git_state`), ``packages`` (:func:`package_versions`),
        ``python`` (version and implementation), ``params`` (:func:`params_digest`, or None),
        ``date_utc`` (ISO 8601, seconds) and ``platform`` (``platform.platform()``). Never raises.
    """
    return {
        "git": git_state(root),
        "packages": package_versions(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "params": None if params_path is None else params_digest(params_path),
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
    }


def provenance_block(prov: Mapping[str, Any]) -> list[Block]:
    """The provenance section of a report.

    Parameters
    ----------
    prov
        From :func:`provenance`.

    Returns
    -------
    list of tuple
        A heading and a table (:data:`weaklabel.report.render.Block`).
    """
    git = prov.get("git") or {}
    dirty = git.get("dirty")
    changed = git.get("changed", "?")
    differ = "path differs" if changed == 1 else "paths differ"
    state = {
        True: f" (working tree DIRTY: {changed} {differ} from the commit)",
        False: " (clean)",
        None: "",
    }[dirty]
    params = prov.get("params") or {}
    rows = [
        ["commit", f"`{git.get('commit', 'unknown')}`{state}"],
        ["params", f"sha256 `{params['sha256']}` of {params['source']}" if params else "none given"],
        ["date (UTC)", prov.get("date_utc", "unknown")],
        ["python", prov.get("python", "unknown")],
        ["platform", prov.get("platform", "unknown")],
    ]
    rows += [[name, version] for name, version in (prov.get("packages") or {}).items()]
    return [("h2", "Provenance"), ("table", (["what", "value"], rows))]
