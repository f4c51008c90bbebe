"""A params file (``params.yaml``): its sections as typed configs, checked across sections once.

Every setting lives in one section, and each stage reads its sections into the frozen config
dataclass of the module that uses them (``params.section("clips", ClipConfig)``). What no single
section can check (two sections that must agree, a setting that needs another) is checked here,
when the file loads, for every command and every stage alike.

The library never picks a params file by itself: the shell (``weaklabel`` or a stage script)
passes the path to :func:`load_params`.

Examples
--------
>>> from weaklabel.audio.clips import ClipConfig
>>> params = load_params(None)  # no file: every section at its defaults
>>> params.section("clips", ClipConfig).length_s
7.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.config import from_mapping
from weaklabel.errors import ParameterError

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True)
class DataConfig:
    """Where the pipeline's input data lives (section ``data``; ``dvc.yaml`` passes these to stages).

    Attributes
    ----------
    corpus
        Corpus root in the CMU-MOSEI raw layout, read by ingest when ``labels.source`` is ``text``.
    gold
        Gold sentiment (``.csd`` or a labels CSV); ``""`` for none.
    manifest
        Labelled manifest CSV, read by ingest instead of the corpus when ``labels.source`` is
        ``manifest``; ``""`` for none.
    crosscorpus
        Manifests of the crosscorpus stage, each a manifest CSV or ``scheme:DIR``
        (``emodb:data/emodb``); empty: the stage reports that it is not configured.
    probe
        The probe stage's folder of recordings (with a ``manifest.csv``): the demo's
        ``data/demo/Probe`` by default; manifest users point it at their own folder, so that
        ``dvc repro`` does not build the demo.
    """

    corpus: str = ""
    gold: str = ""
    manifest: str = ""
    crosscorpus: tuple[str, ...] = ()
    probe: str = "data/demo/Probe"

    def __post_init__(self) -> None:
        for name in ("corpus", "gold", "manifest", "probe"):
            if not isinstance(getattr(self, name), str):
                raise ParameterError(f"data.{name} must be a path (a string), got {getattr(self, name)!r}")
        specs = self.crosscorpus
        if isinstance(specs, str) or not all(isinstance(s, str) and s for s in specs):
            raise ParameterError(
                f"data.crosscorpus must be a list of manifests (CSV paths or scheme:DIR), got {specs!r}; "
                "e.g. [emodb:data/emodb, ravdess:data/ravdess], or [] for none"
            )
        object.__setattr__(self, "crosscorpus", tuple(specs))


@dataclass(frozen=True)
class Params:
    """The sections of a params file.

    Attributes
    ----------
    sections
        Section name -> its mapping of settings, as in the file; a missing section means defaults.
    path
        The file they came from; ``None`` for built-in defaults.
    """

    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def raw(self, name: str) -> dict[str, Any]:
        """Section ``name`` as a plain mapping (empty when the file has no such section)."""
        return dict(self.sections.get(name) or {})

    def section(self, name: str, cls: type[ConfigT]) -> ConfigT:
        """Section ``name`` as the frozen config ``cls``, its defaults filling the gaps.

        Raises
        ------
        ParameterError
            If the section names a key ``cls`` does not have, or a value ``cls`` refuses.
        """
        return from_mapping(cls, self.sections.get(name), section=name)

    @property
    def data(self) -> DataConfig:
        """Section ``data``: the input paths."""
        return self.section("data", DataConfig)


def read_params(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a params YAML file: a mapping of section name -> mapping of settings.

    Raises
    ------
    ParameterError
        If the file is missing, or is not a mapping of mappings.
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"params file {path} not found; pass --params or run from the repo root")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as error:
        raise ParameterError(
            f"params file {path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from error
    except OSError as error:
        raise ParameterError(f"cannot read params file {path}: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ParameterError(
            f"params file {path} is not valid YAML at {where}: {problem}; "
            "check the indentation and quoting there"
        ) from error
    if not isinstance(params, dict):
        raise ParameterError(f"{path} must hold a mapping of sections, found {type(params).__name__}")
    for name, section in params.items():
        if section is not None and not isinstance(section, dict):
            raise ParameterError(
                f"section {name!r} of {path} must be a mapping of settings, found {section!r}; "
                f"write it as `{name}:` followed by indented `key: value` lines"
            )
    return params


def _value(params: Params, key: str, default: Any) -> Any:
    """The value of the dotted ``key`` (``section.setting``), ``default`` when the file leaves it out."""
    name, _, setting = key.partition(".")
    return params.raw(name).get(setting, default)


def _same_sample_rate(params: Params) -> None:
    # Both configs default to the one rate clips are resampled to (weaklabel.audio.io.SAMPLE_RATE).
    clips = _value(params, "clips.sample_rate", SAMPLE_RATE)
    mel = _value(params, "mel.sample_rate", SAMPLE_RATE)
    if clips != mel:
        raise ParameterError(
            f"clips.sample_rate is {clips} but mel.sample_rate is {mel}: the spectrograms are computed "
            "at the rate the clips are planned at; set both to the same rate"
        )


def _manifest_source_has_manifest(params: Params) -> None:
    source = _value(params, "labels.source", None)  # unset: text, which needs no manifest
    if source == "manifest" and not params.data.manifest:
        raise ParameterError(
            "labels.source is manifest but data.manifest is empty: set data.manifest to a manifest "
            "CSV (path, label, group, corpus), or labels.source to text"
        )


#: The cross-section constraints :func:`load_params` checks, each raising a ParameterError that
#: names the keys involved.
CONSTRAINTS: tuple[Callable[[Params], None], ...] = (_same_sample_rate, _manifest_source_has_manifest)


def load_params(path: str | Path | None) -> Params:
    """Load a params file and check the constraints between its sections.

    Parameters
    ----------
    path
        The params file; ``None`` gives the built-in defaults of every section.

    Returns
    -------
    Params
        The sections; :meth:`Params.section` types one.

    Raises
    ------
    ParameterError
        If the file is missing or malformed, ``data`` is invalid, or a constraint of
        :data:`CONSTRAINTS` fails (the message names both keys and how to fix them).
    """
    params = Params() if path is None else Params(read_params(path), Path(path))
    params.section("data", DataConfig)  # every stage's input paths: checked where unused too
    for check in CONSTRAINTS:
        check(params)
    return params
