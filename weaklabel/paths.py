"""Containment: a path read from data stays inside the folder it was declared under.

Transcripts, audio files, manifest rows and the models' index all name files. A name written in a
data file (``../../etc/passwd``, ``/proc/self/environ``) or a symbolic link placed in a data folder
must not make the pipeline read, or unpickle, a file from elsewhere. Every such path is checked
here against its *root*: the corpus root for transcripts and audio, the manifest's folder for its
rows, the models folder for the index. The check resolves symbolic links, so a link that leaves the
root is caught as well as a ``../``; a root that is itself a link is fine (it is resolved too).

Row-level callers turn :func:`outside_root`'s detail into a reject with reason :data:`REASON`;
whole-file callers use :func:`contained`, which raises.

Examples
--------
>>> outside_root("data/demo/../../etc/passwd", "data/demo") is not None
True
>>> outside_root("data/demo/Audio/a.wav", "data/demo") is None
True
"""

from __future__ import annotations

import os
from pathlib import Path

from weaklabel.errors import DataError

#: Reason code of a row whose path leaves its root (rejects tables of ingest, manifests, the probe).
REASON = "outside_root"


def outside_root(path: str | Path, root: str | Path) -> str | None:
    """Why ``path`` leaves ``root``, or None when it stays inside.

    Parameters
    ----------
    path
        The path as it will be opened: absolute, or relative to the working directory.
    root
        The folder it must stay in.

    Returns
    -------
    str or None
        A detail for a rejects table or an error message: whether a ``../`` or absolute path
        leaves the root, or a symbolic link does (and where it leads); None when ``path``,
        with every link resolved, lies inside ``root`` (also resolved).
    """
    root_real = Path(root).resolve()
    real = Path(path).resolve()
    if real == root_real or real.is_relative_to(root_real):
        return None
    written = Path(os.path.normpath(os.path.abspath(path)))
    root_written = Path(os.path.normpath(os.path.abspath(root)))
    if written == root_written or written.is_relative_to(root_written) or written.is_relative_to(root_real):
        return (
            f"{path} is a symbolic link (or lies under one) that resolves to {real}, outside {root}: "
            "not read; copy the file into the folder instead of linking it"
        )
    return f"{path} resolves to {real}, outside {root} (a '../' or absolute path): not read"


def contained(path: str | Path, root: str | Path, *, what: str = "file") -> Path:
    """``path`` if it stays inside ``root``, else a DataError.

    Parameters
    ----------
    path
        The path as it will be opened.
    root
        The folder it must stay in.
    what
        What the path names (``"model file"``), for the message.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    DataError
        If ``path`` (links resolved) leaves ``root``; the message says how.
    """
    why = outside_root(path, root)
    if why is not None:
        raise DataError(f"{what} {why}")
    return Path(path)
