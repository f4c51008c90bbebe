"""The fault suite: bad input of every kind ends in one line and exit code 2, or in a reject.

Table-driven. Each :class:`Fault` writes one bad input into an empty folder and names the
``weaklabel`` command that meets it; the command runs in-process from that folder (so its default
paths, ``./params.yaml`` included, are the folder's) through :func:`weaklabel.cli.main`. A fault is
either

- an **error**: exit code 2 and exactly one line on stderr, ``weaklabel: error: ...``, matching
  ``error``; no traceback, nothing else; or
- a **reject**: exit code 0, the table ``rejects`` holds a row with reason ``reason`` (whose detail
  matches ``detail`` when given), and the run's counts conserve: ``counts`` reads (in, kept,
  rejected) from what the run wrote, and in = kept + rejected.

A few faults also run as DVC stage scripts in a subprocess (:data:`STAGE_FAULTS`): under
``dvc repro`` the same one line, prefixed by the script's name, and exit code 2.

Owners of other areas add rows to :data:`FAULTS` (probe, models, trained-model files...): a row
is a name, a ``make(folder) -> argv`` function and the expectation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from tests.conftest import REPO, tone
from weaklabel.audio.clips import CLIPS_SCHEMA, ClipConfig, plan_clips
from weaklabel.cli import main
from weaklabel.sources.mosei import AUDIO_DIR, SEGMENTS_SCHEMA, TRANSCRIPT_DIR
from weaklabel.tables import write_table

Make = Callable[[Path], list[str]]
Counts = Callable[[Path], tuple[int, int, int]]


@dataclass(frozen=True)
class Fault:
    """One bad input and what must come of it.

    Attributes
    ----------
    name
        Test id, ``area-what``.
    make
        Writes the bad input under the folder it is given and returns the ``weaklabel`` argv.
    error
        Regex the one error line must match (exit code 2); None for a reject.
    reason
        Reject reason that must appear in ``rejects`` (exit code 0); None for an error.
    rejects
        The rejects table, relative to the folder.
    counts
        (in, kept, rejected) of the run, read from what it wrote; must conserve.
    detail
        Regex that the detail of one ``reason`` row must match.
    absent
        Strings that must appear in no file the run wrote (content that must not leak).
    """

    name: str
    make: Make
    error: str | None = None
    reason: str | None = None
    rejects: str = ""
    counts: Counts | None = None
    detail: str | None = None
    absent: tuple[str, ...] = ()


# --- builders of good input, each fault then breaks one thing ------------------------------------


def write_params(folder: Path, sections: dict) -> None:
    (folder / "params.yaml").write_text(yaml.safe_dump(sections))


def wav(
    path: Path, seconds: float = 3.0, *, audio: np.ndarray | None = None, subtype: str = "PCM_16"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds) if audio is None else audio, 16_000, subtype=subtype)
    return path


def corpus(folder: Path, lines: dict[str, bytes] | None = None) -> Path:
    """A MOSEI-layout corpus under ``folder/corpus``: video -> transcript bytes (default: 2 videos)."""
    root = folder / "corpus"
    lines = lines or {
        "v1": b"v1___1___0.0___1.0___a fine line\nv1___2___1.0___2.0___another fine line\n",
        "v2": b"v2___1___0.5___2.5___the second video\n",
    }
    (root / TRANSCRIPT_DIR).mkdir(parents=True)
    for video, data in lines.items():
        wav(root / AUDIO_DIR / f"{video}.wav")
        (root / TRANSCRIPT_DIR / f"{video}.txt").write_bytes(data)
    return root


def ingest_counts(folder: Path) -> tuple[int, int, int]:
    summary = json.loads((folder / "reports" / "ingest.json").read_text())
    rejects = pd.read_parquet(folder / "data" / "ingest" / "rejects.parquet")
    assert len(rejects) == summary["rejected"]
    read = summary["lines_read"] + summary.get("transcript_files_rejected", 0)
    return read, summary["segments"], summary["rejected"]


def features_counts(folder: Path) -> tuple[int, int, int]:
    summary = json.loads((folder / "reports" / "features.json").read_text())
    rejects = pd.read_parquet(folder / "data" / "features" / "rejects.parquet")
    assert len(rejects) == summary["rejected"]
    return summary["clips"], summary["kept"], summary["rejected"]


def segments(folder: Path, ids: list[str | None]) -> Path:
    """A segments table (one short file per row) at the standard path."""
    audio = wav(folder / "a.wav")
    frame = pd.DataFrame(
        {
            "segment_id": ids,
            "video": "v",
            "speaker": "v",
            "segment": [str(i) for i in range(len(ids))],
            "start": 0.0,
            "end": 1.0,
            "duration": 1.0,
            "text": "what a lovely day",
            "audio_path": str(audio),
            "sample_rate": pd.array([16_000] * len(ids), dtype="Int32"),
            "audio_seconds": 3.0,
            "gold_sentiment": np.nan,
            "gold_split": pd.array([None] * len(ids), dtype="string"),
        }
    )
    return write_table(frame, folder / "data" / "ingest" / "segments.parquet", schema=SEGMENTS_SCHEMA)


def clips(folder: Path, change: Callable[[pd.DataFrame, Path], None] | None = None) -> list[str]:
    """Three good 1 s files planned as 2 s centred clips, ``change`` applied; mel_mean only."""
    rows = []
    for name in ("a", "b", "c"):
        rows.append({"segment_id": f"v___{name}", "audio_path": str(wav(folder / f"{name}.wav", 1.0))})
    recordings = pd.DataFrame(rows).assign(start=0.0, duration=1.0)
    table = plan_clips(recordings, ClipConfig(length_s=2.0, window="centre"))
    if change is not None:
        change(table, folder)
    write_table(table, folder / "data" / "clips" / "clips.parquet", schema=CLIPS_SCHEMA)
    write_params(folder, {"embed": {"features": ["mel_mean"], "workers": 1, "batch_size": 2}})
    return ["features"]


def manifest(folder: Path, rows: list[str], *, header: str = "path,label,group,corpus") -> list[str]:
    """A gold-label manifest ``m/manifest.csv`` (two good files, then ``rows``) and its params.

    ``m/extra.wav`` exists but is not listed; ``outside.wav`` beside ``m/`` is a readable file that
    only the containment check keeps out.
    """
    wav(folder / "m" / "good1.wav")
    wav(folder / "m" / "good2.wav")
    wav(folder / "m" / "extra.wav")  # unlisted unless a fault lists it
    wav(folder / "outside.wav")  # readable: only containment keeps it out
    text = "\n".join([header, "good1.wav,1,s1,c", "good2.wav,0,s2,c", *rows]) + "\n"
    (folder / "m" / "manifest.csv").write_text(text)
    write_params(folder, {"labels": {"source": "manifest"}, "data": {"manifest": "m/manifest.csv"}})
    return ["ingest"]


def manifest_counts(folder: Path) -> tuple[int, int, int]:
    summary = json.loads((folder / "reports" / "ingest.json").read_text())
    rejects = pd.read_parquet(folder / "data" / "ingest" / "rejects.parquet")
    assert len(rejects) == summary["rejected"]
    return summary["lines_read"], summary["segments"], summary["rejected"]


def csd(folder: Path, build: Callable[[h5py.Group], None]) -> list[str]:
    """A corpus plus a gold ``.csd`` whose ``data`` group ``build`` fills (v1 good unless it says)."""
    root = corpus(folder)
    with h5py.File(folder / "gold.csd", "w") as handle:
        data = handle.create_group("CMU_MOSEI_Labels").create_group("data")
        build(data)
    return ["ingest", str(root), "--gold", str(folder / "gold.csd")]


def good_video(data: h5py.Group, video: str = "v1") -> None:
    group = data.create_group(video)
    group["features"] = np.zeros((2, 7))
    group["intervals"] = np.array([[0.0, 1.0], [1.0, 2.0]])


def gold_csv(folder: Path, content: bytes) -> list[str]:
    root = corpus(folder)
    (folder / "gold.csv").write_bytes(content)
    return ["ingest", str(root), "--gold", str(folder / "gold.csv")]


def models_folder(bundle: str, model: str = "m") -> Make:
    """``weaklabel probe`` on one good recording with a models folder whose bundle.json is ``bundle``."""

    def make(folder: Path) -> list[str]:
        wav(folder / "probe_in" / "a.wav")
        (folder / "models").mkdir()
        (folder / "models" / "bundle.json").write_text(bundle)
        (folder / "evil").mkdir()  # a model folder outside the models folder: must never be opened
        (folder / "evil" / "model.json").write_text('{"class": "weaklabel.models.baselines:PriorModel"}')
        return ["probe", "probe_in", "--models", "models", "--model", model]

    return make


#: A bundle whose model reads a VGG16 store and whose folder is ``FOLDER``.
BUNDLE = (
    '{"clip": {"length": 16000, "sample_rate": 16000}, "features": {"vgg16": {"meta": {"embedder": '
    '"vgg16"}}}, "models": {"m": {"path": "FOLDER", "features": "vgg16"}}}'
)


#: The model of :func:`trained_models`, and the probe's output folder (under data/, where ``absent`` looks).
PROBED = "data/probe"
PROBE_REJECTS = f"{PROBED}/probe_rejects.parquet"


def trained_models(folder: Path, kind: str = "random_forest") -> Path:
    """``folder/models`` as the train stage writes it: one small model on the time-averaged mel.

    ``kind`` is ``random_forest`` (saved as ``model.skops``) or ``knn`` (``neighbours.npz``); the
    mel_mean backbone needs no TensorFlow, so the probe runs fast. The model is named ``m``.
    """
    from weaklabel.features.mel_mean import MelMeanEmbedder
    from weaklabel.models.baselines import KNNModel, RandomForestModel
    from weaklabel.models.bundle import library_versions, write_bundle

    meta = MelMeanEmbedder().meta
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, meta["dim"])).astype(np.float32)
    model = RandomForestModel(n_estimators=3) if kind == "random_forest" else KNNModel(n_neighbors=3)
    model.fit(X, np.arange(12) % 2).save(folder / "models" / "m")
    bundle = {
        "clip": {"length": 16_000, "sample_rate": 16_000},
        "features": {"mel_mean": {"meta": meta, "dim": meta["dim"]}},
        "models": {"m": {"path": "m", "features": "mel_mean"}},
        "versions": library_versions(),
    }
    write_bundle(bundle, folder / "models")
    write_params(folder, {"embed": {"workers": 1, "batch_size": 2}})
    return folder / "models" / "m"


def probe_argv(folder: Path) -> list[str]:
    wav(folder / "probe_in" / "a.wav")
    return ["probe", "probe_in", "--models", "models", "--model", "m", "--out", PROBED]


def model_file(kind: str, name: str, content: bytes | Callable[[Path], None]) -> Make:
    """The probe with :func:`trained_models` whose file ``name`` is replaced by ``content``."""

    def make(folder: Path) -> list[str]:
        model = trained_models(folder, kind)
        if callable(content):
            content(model / name)
        else:
            (model / name).write_bytes(content)
        return probe_argv(folder)

    return make


def corrupt_keras(folder: Path) -> list[str]:
    """A dense head whose ``model.keras`` is damaged (Keras itself said "File not found")."""
    model = trained_models(folder)
    for path in model.iterdir():
        path.unlink()
    description = {
        "class": "weaklabel.models.head:DenseHead",
        "params": {"hidden": [4]},
        "fitted": {"n_features_in": 128, "n_train": 12, "history": [], "best_epoch": 1, "best_val_auc": None},
    }
    (model / "model.json").write_text(json.dumps(description))
    (model / "model.keras").write_bytes(b"PK\x03\x04 a truncated .keras archive")
    return probe_argv(folder)


def skops_running_code(path: Path) -> None:
    """A skops file holding a transformer that would call ``os.system``: loading it must refuse it."""
    from sklearn.preprocessing import FunctionTransformer

    from weaklabel.models.files import write_skops

    write_skops(FunctionTransformer(func=os.system, kw_args={"command": "true"}), path)


def pickled_by_an_older_weaklabel(path: Path) -> None:
    """The folder an older weaklabel wrote: the estimator as ``model.joblib`` (a pickle), no skops file."""
    path.rename(path.parent / "model.joblib")


def probe_manifest(rows: list[str], *, link: bool = False) -> Make:
    """The probe of ``probe_in`` with a trained model; ``probe_in/manifest.csv`` lists a.wav, then ``rows``.

    ``outside.wav`` beside ``probe_in/`` is a readable recording that only containment keeps out;
    with ``link``, ``probe_in/link.wav`` is a symbolic link to it.
    """

    def make(folder: Path) -> list[str]:
        trained_models(folder)
        argv = probe_argv(folder)
        wav(folder / "outside.wav")
        if link:
            (folder / "probe_in" / "link.wav").symlink_to(folder / "outside.wav")
        lines = ["path,language,polarity", "a.wav,en,positive", *(f"{row},en,negative" for row in rows)]
        (folder / "probe_in" / "manifest.csv").write_text("\n".join(lines) + "\n")
        return argv

    return make


def probe_counts(folder: Path) -> tuple[int, int, int]:
    summary = json.loads((folder / PROBED / "probe_summary.json").read_text())
    rejects = pd.read_parquet(folder / PROBED / "probe_rejects.parquet")
    scored = pd.read_parquet(folder / PROBED / "probe.parquet")
    assert len(rejects) == summary["rejected"] and len(scored) == summary["scored"] == 1  # only a.wav
    return summary["files"], summary["scored"], summary["rejected"]


def with_params(sections: dict, argv: list[str], setup: Callable[[Path], object] | None = None) -> Make:
    def make(folder: Path) -> list[str]:
        if setup is not None:
            setup(folder)
        write_params(folder, sections)
        return argv

    return make


def raw_params(text: bytes, argv: list[str]) -> Make:
    def make(folder: Path) -> list[str]:
        segments(folder, ["v___1"])
        (folder / "params.yaml").write_bytes(text)
        return argv

    return make


def ingest_with(lines: dict[str, bytes], extra: Callable[[Path, Path], None] | None = None) -> Make:
    def make(folder: Path) -> list[str]:
        root = corpus(folder, lines)
        if extra is not None:
            extra(folder, root)
        return ["ingest", str(root), "--gold", ""]

    return make


def link_transcript(target: str) -> Callable[[Path, Path], None]:
    def extra(folder: Path, root: Path) -> None:
        secret = folder / "secret.txt"
        secret.write_text("TOPSECRET___1___0___1___leaked words\nroot:x:0:0:root:/root:/bin/bash\n")
        (root / TRANSCRIPT_DIR / "v9.txt").symlink_to(secret if target == "secret" else target)

    return extra


def link_audio(folder: Path, root: Path) -> None:
    outside = wav(folder / "elsewhere.wav")
    audio = root / AUDIO_DIR / "v2.wav"
    audio.unlink()
    audio.symlink_to(outside)


def not_a_transcript(folder: Path, root: Path) -> None:
    (root / TRANSCRIPT_DIR / "v3.txt").write_bytes(
        b"root:x:0:0:PRIVATE:/root:/bin/bash\n\x00\x01binary\xff\n"
    )
    wav(root / AUDIO_DIR / "v3.wav")


def corrupt_wav(folder: Path, root: Path) -> None:
    (root / AUDIO_DIR / "v2.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")


def corrupt_table(path: str, argv: list[str]) -> Make:
    def make(folder: Path) -> list[str]:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(b"PAR1 this is not a parquet file PAR1")
        return argv

    return make


def nan_in_file(value: float) -> Callable[[pd.DataFrame, Path], None]:
    def change(table: pd.DataFrame, folder: Path) -> None:
        audio = tone(1.0)
        audio[100] = value
        wav(folder / "b.wav", audio=audio, subtype="FLOAT")

    return change


def set_cell(column: str, value: object) -> Callable[[pd.DataFrame, Path], None]:
    def change(table: pd.DataFrame, folder: Path) -> None:
        table.loc[1, column] = value

    return change


def make_clips(change: Callable[[pd.DataFrame, Path], None] | None = None) -> Make:
    return lambda folder: clips(folder, change)


def make_manifest(rows: list[str], *, header: str = "path,label,group,corpus") -> Make:
    return lambda folder: manifest(folder, rows, header=header)


def manifest_bytes(content: bytes) -> Make:
    def make(folder: Path) -> list[str]:
        manifest(folder, [])
        (folder / "m" / "manifest.csv").write_bytes(content)
        return ["ingest"]

    return make


def manifest_link(folder: Path) -> list[str]:
    argv = manifest(folder, ["link.wav,1,s3,c"])
    (folder / "m" / "link.wav").symlink_to(folder / "outside.wav")
    return argv


def label_segments(ids: list[str | None]) -> Make:
    def make(folder: Path) -> list[str]:
        segments(folder, ids)
        return ["label"]

    return make


def label_csv(content: bytes) -> Make:
    def make(folder: Path) -> list[str]:
        (folder / "segments.csv").write_bytes(content)
        return ["label", "segments.csv"]

    return make


LENGTH = ["clips"]
SEG = segments


def one_segment(folder: Path) -> None:
    segments(folder, ["v___a"])


def data_is_a_dataset(data: h5py.Group) -> None:
    parent = data.parent
    del parent["data"]
    parent.create_dataset("data", data=[1])


def corrupt_hdf5(folder: Path) -> list[str]:
    gold_csv(folder, b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    return ["ingest", "corpus", "--gold", "gold.csv"]


# --- the table ----------------------------------------------------------------------------------

FAULTS: list[Fault] = [
    # params: typed when they load, YAML errors name the line
    Fault("params-length-string", with_params({"clips": {"length_s": "7s"}}, LENGTH, one_segment),
          error=r"clips\.length_s must be a finite number, got '7s' \(a string\)"),
    Fault("params-seed-string", with_params({"clips": {"seed": "abc"}}, LENGTH, one_segment),
          error=r"clips\.seed must be an integer, got 'abc'"),
    Fault("params-seed-negative", with_params({"clips": {"seed": -1}}, LENGTH, one_segment),
          error=r"clips\.seed must be a non-negative integer"),
    Fault("params-length-negative", with_params({"clips": {"length_s": -7}}, LENGTH, one_segment),
          error=r"clips\.length_s must be > 0, got -7"),
    Fault("params-length-nan", with_params({"clips": {"length_s": float("nan")}}, LENGTH, one_segment),
          error=r"clips\.length_s must be a finite number, got nan"),
    Fault("params-length-list", with_params({"clips": {"length_s": [7]}}, LENGTH, one_segment),
          error=r"clips\.length_s must be a finite number, got \[7\] \(a list\)"),
    Fault("params-shard-size-string",
          with_params({"embed": {"shard_size": "abc"}}, ["features"], lambda f: clips(f)),
          error=r"embed\.shard_size must be an integer, got 'abc'"),
    Fault("params-n-mels-string", with_params({"mel": {"n_mels": "128"}}, ["features"], lambda f: clips(f)),
          error=r"mel\.n_mels must be an integer, got '128'"),
    Fault("params-threshold-string",
          with_params({"labels": {"threshold": "high"}}, ["label"], one_segment),
          error=r"labels\.threshold must be a finite number, got 'high'"),
    Fault("params-text-only-string",
          with_params({"ingest": {"text_only": "yes"}}, ["ingest", "corpus"], corpus),
          error=r"ingest\.text_only must be true or false, got 'yes'"),
    # models: names KIND@FEATURES and each kind's settings, checked when the params load
    Fault("params-train-model-unknown-kind", with_params({"train": {"models": ["svm@vgg16"]}}, ["train"]),
          error=r"train\.models entry 'svm@vgg16': unknown kind 'svm'"),
    Fault("params-train-logreg-without-features", with_params({"train": {"models": ["logreg"]}}, ["train"]),
          error=r"say which features logreg reads, e\.g\. logreg@yamnet"),
    Fault("params-train-logreg-cs-text", with_params({"train": {"logreg": {"Cs": ["1e-4"]}}}, ["train"]),
          error=r"train\.logreg\.Cs must be a non-empty list of numbers > 0"),
    Fault("params-train-egemaps-lr-gone", with_params({"train": {"egemaps_lr": {"C": 1.0}}}, ["train"]),
          error=r"unknown parameter\(s\) train\.egemaps_lr"),
    Fault("params-demo-videos-float", with_params({"demo": {"videos": 2.5}}, ["demo", "--out", "d"]),
          error=r"demo\.videos must be an integer, got 2\.5"),
    Fault("params-demo-strength-string",
          with_params({"demo": {"affect_strength": "full"}}, ["demo", "--out", "d"]),
          error=r"demo\.affect_strength must be a finite number, got 'full'"),
    Fault("params-data-corpus-number", with_params({"data": {"corpus": 3}}, ["ingest"]),
          error=r"data\.corpus must be a string, got 3 \(an integer\)"),
    Fault("params-section-scalar", raw_params(b"clips: 7\n", LENGTH),
          error=r"section 'clips' of .* must be a mapping of settings"),
    Fault("params-unknown-key", with_params({"clips": {"lenght_s": 7}}, LENGTH, one_segment),
          error=r"unknown parameter\(s\) clips\.lenght_s"),
    Fault("params-invalid-yaml", raw_params(b"clips:\n  length_s: [7\n  seed: 0\n", LENGTH),
          error=r"params\.yaml is not valid YAML at line 3, column \d+"),
    Fault("params-tab-indent", raw_params(b"clips:\n\tlength_s: 7\n", LENGTH),
          error=r"params\.yaml is not valid YAML at line 2"),
    Fault("params-not-utf8", raw_params(b"clips:\n  window: \xff\xfe\n", LENGTH),
          error=r"params\.yaml is not UTF-8 text"),
    # ingest (CMU-MOSEI layout): lines, files and links
    Fault("ingest-cr-line-ends",
          ingest_with({"v1": b"v1___1___0___1___one\rv1___2___1___2___two\rv1___3___2___3___three\r"}),
          counts=ingest_counts),
    Fault("ingest-transcript-link-outside",
          ingest_with({"v1": b"v1___1___0___1___fine\n"}, link_transcript("secret")),
          reason="outside_root", rejects="data/ingest/rejects.parquet", counts=ingest_counts,
          detail=r"symbolic link .* outside", absent=("TOPSECRET", "leaked", "root:x")),
    Fault("ingest-transcript-link-etc-passwd",
          ingest_with({"v1": b"v1___1___0___1___fine\n"}, link_transcript("/etc/passwd")),
          reason="outside_root", rejects="data/ingest/rejects.parquet", counts=ingest_counts,
          detail=r"symbolic link", absent=("root:x", "/bin/bash")),
    Fault("ingest-transcript-link-dangling",
          ingest_with({"v1": b"v1___1___0___1___fine\n"}, link_transcript("no-such-file.txt")),
          reason="unreadable_transcript", rejects="data/ingest/rejects.parquet", counts=ingest_counts),
    Fault("ingest-not-a-transcript", ingest_with({"v1": b"v1___1___0___1___fine\n"}, not_a_transcript),
          reason="malformed_line", rejects="data/ingest/rejects.parquet", counts=ingest_counts,
          detail=r"content not shown", absent=("PRIVATE", "/bin/bash", "binary")),
    Fault("ingest-audio-link-outside", ingest_with({}, link_audio), reason="outside_root",
          rejects="data/ingest/rejects.parquet", counts=ingest_counts, detail=r"audio .* symbolic link"),
    Fault("ingest-corrupt-audio", ingest_with({}, corrupt_wav), reason="unreadable_audio",
          rejects="data/ingest/rejects.parquet", counts=ingest_counts, detail=r"v2\.wav"),
    Fault("ingest-nan-time", ingest_with({"v1": b"v1___1___nan___1___x\nv1___2___0___1___ok\n"}),
          reason="bad_time", rejects="data/ingest/rejects.parquet", counts=ingest_counts),
    Fault("ingest-path-video-id", ingest_with({"v1": b"../../etc___1___0___1___x\nv1___2___0___1___ok\n"}),
          reason="unsafe_video_id", rejects="data/ingest/rejects.parquet", counts=ingest_counts),
    Fault("ingest-no-corpus", lambda f: ["ingest", str(f / "nowhere"), "--gold", ""],
          error=r"has no Transcript/Segmented/Combined folder"),
    # gold sentiment: .csd layouts and CSVs
    Fault("gold-csd-video-is-dataset",
          lambda f: csd(f, lambda d: (good_video(d), d.create_dataset("v2", data=np.zeros(3)))),
          reason="gold_malformed", rejects="data/ingest/gold_rejects.parquet", detail=r"'v2' is a Dataset",
          counts=ingest_counts),
    Fault("gold-csd-string-features",
          lambda f: csd(f, lambda d: (good_video(d), d.create_group("v2").update(
              {"features": np.array([[b"x"] * 7] * 2), "intervals": np.zeros((2, 2))}))),
          reason="gold_malformed", rejects="data/ingest/gold_rejects.parquet", detail=r"features \|S1",
          counts=ingest_counts),
    Fault("gold-csd-features-group",
          lambda f: csd(f, lambda d: (good_video(d), d.create_group("v2").create_group("features"))),
          reason="gold_malformed", rejects="data/ingest/gold_rejects.parquet", detail=r"features a Group",
          counts=ingest_counts),
    Fault("gold-csd-data-is-dataset",
          lambda f: csd(f, data_is_a_dataset),
          error=r"gold file .*gold\.csd: /CMU_MOSEI_Labels/data is a Dataset, expected a group"),
    Fault("gold-csd-corrupt",
          corrupt_hdf5,
          error=r"cannot open gold file gold\.csv as HDF5"),
    Fault("gold-csv-not-utf8", lambda f: gold_csv(f, b"video,start,end,sentiment\n\xff\xfe,0,1,1\n"),
          error=r"cannot read gold CSV .*gold\.csv"),
    Fault("gold-csv-empty", lambda f: gold_csv(f, b""), error=r"cannot read gold CSV .*gold\.csv"),
    Fault("gold-csv-no-sentiment", lambda f: gold_csv(f, b"video,start,end\nv1,0,1\n"),
          error=r"gold CSV .*gold\.csv has no sentiment column"),
    # manifests (gold-label ingest)
    Fault("manifest-not-utf8", manifest_bytes(b"path,label,group,corpus\n\xe9t\xe9.wav,1,s1,c\n"),
          error=r"manifest m/manifest\.csv is not UTF-8 text"),
    Fault("manifest-empty", manifest_bytes(b""), error=r"manifest m/manifest\.csv is empty"),
    Fault("manifest-no-group-column", make_manifest([], header="path,label,corpus"),
          error=r"manifest m/manifest\.csv lacks column\(s\) \['group'\]"),
    Fault("manifest-no-label-column", make_manifest([], header="path,group,corpus"),
          error=r"lacks column\(s\) \['label'\]"),
    Fault("manifest-dotdot-path", make_manifest(["../outside.wav,1,s3,c"]), reason="outside_root",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts, detail=r"'\.\./' or absolute"),
    Fault("manifest-absolute-path", make_manifest(["/etc/passwd,1,s3,c"]), reason="outside_root",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts, detail=r"/etc/passwd"),
    Fault("manifest-proc-environ", make_manifest(["/proc/self/environ,0,s3,c"]), reason="outside_root",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts),
    Fault("manifest-link-outside", manifest_link, reason="outside_root",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts, detail=r"symbolic link"),
    Fault("manifest-empty-group-cell", make_manifest(["extra.wav,1,,c"]), reason="missing_group",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts),
    Fault("manifest-missing-file", make_manifest(["nope.wav,1,s3,c"]), reason="missing_file",
          rejects="data/ingest/rejects.parquet", counts=manifest_counts),
    # clips tables met by the extraction loop (features stage, mel_mean only)
    Fault("clips-read-seconds-inf", make_clips(set_cell("read_seconds", np.inf)), reason="bad_window",
          rejects="data/features/rejects.parquet", counts=features_counts, detail=r"v___b .*b\.wav"),
    Fault("clips-read-start-nan", make_clips(set_cell("read_start", np.nan)), reason="bad_window",
          rejects="data/features/rejects.parquet", counts=features_counts),
    Fault("clips-pad-left-beyond", make_clips(set_cell("pad_left", 10**6)), reason="bad_window",
          rejects="data/features/rejects.parquet", counts=features_counts, detail=r"pad_left 1000000"),
    Fault("clips-nan-sample", make_clips(nan_in_file(np.nan)), reason="decode_failed",
          rejects="data/features/rejects.parquet", counts=features_counts, detail=r"b\.wav holds 1 NaN"),
    Fault("clips-inf-sample", make_clips(nan_in_file(np.inf)), reason="decode_failed",
          rejects="data/features/rejects.parquet", counts=features_counts, detail=r"b\.wav holds 1 NaN or"),
    Fault("clips-table-corrupt", corrupt_table("data/clips/clips.parquet", ["features"]),
          error=r"cannot read table data/clips/clips\.parquet as Parquet"),
    # tables and labels
    Fault("segments-corrupt-clips", corrupt_table("data/ingest/segments.parquet", ["clips"]),
          error=r"cannot read table data/ingest/segments\.parquet as Parquet"),
    Fault("segments-corrupt-label", corrupt_table("data/ingest/segments.parquet", ["label"]),
          error=r"cannot read table data/ingest/segments\.parquet as Parquet"),
    Fault("segments-missing", lambda f: ["clips"], error=r"table data/ingest/segments\.parquet not found"),
    Fault("label-duplicate-ids", label_segments(["v___1", "v___2", "v___1"]),
          error=r"1 repeated \(\['v___1'\]\)"),
    Fault("label-empty-id", label_segments(["v___1", "", "v___3"]),
          error=r"1 empty segment_id\(s\) \(rows \[1\]\)"),
    Fault("label-null-id", label_segments(["v___1", None]), error=r"1 empty segment_id\(s\)"),
    # models folders met by the probe (and evaluate): the bundle is data, its paths stay inside
    Fault("models-bundle-not-json", models_folder("{not json"), error=r"bundle\.json is not valid JSON"),
    Fault("models-bundle-a-list", models_folder("[1, 2]"),
          error=r"bundle\.json holds a list, expected an object"),
    Fault("models-path-outside", models_folder(BUNDLE.replace("FOLDER", "../evil")),
          error=r"model 'm' folder .*evil resolves to .*, outside models"),
    Fault("models-path-absolute", models_folder(BUNDLE.replace("FOLDER", "/etc")),
          error=r"model 'm' folder /etc resolves to /etc, outside models"),
    Fault("label-csv-not-utf8", label_csv(b"segment_id,text\nv___1,caf\xe9 \xff\n"),
          error=r"segments file segments\.csv is not a readable UTF-8 CSV"),
    # trained-model files: damaged ones say which and to retrain; none runs code when it loads
    Fault("models-keras-corrupt", corrupt_keras,
          error=r"models/m/model\.keras cannot be read as a saved model \(not a \.keras archive.*retrain"),
    Fault("models-skops-corrupt", model_file("random_forest", "model.skops", b"PK\x03\x04 not a skops zip"),
          error=r"models/m/model\.skops cannot be read as a saved model .*retrain"),
    Fault("models-knn-rows-corrupt", model_file("knn", "neighbours.npz", b"\x93NUMPY garbage"),
          error=r"models/m/neighbours\.npz cannot be read as a saved model .*retrain"),
    Fault("models-model-json-corrupt", model_file("random_forest", "model.json", b'{"class": '),
          error=r"models/m/model\.json cannot be read as a saved model \(JSONDecodeError.*retrain"),
    Fault("models-skops-untrusted-type", model_file("random_forest", "model.skops", skops_running_code),
          error=r"models/m/model\.skops holds type\(s\) .*posix\.system.*, which a saved "
                r"RandomForestClassifier never holds: not loaded"),
    Fault("models-joblib-pickle", model_file("random_forest", "model.skops", pickled_by_an_older_weaklabel),
          error=r"model\.skops missing; its model\.joblib is a pickle .*no longer loaded"),
    # probe manifests: a row leaving the probed folder is a reject, never opened; counts conserve
    Fault("probe-manifest-dotdot", probe_manifest(["../outside.wav"]), reason="outside_root",
          rejects=PROBE_REJECTS, counts=probe_counts, detail=r"a '\.\./' or absolute path"),
    Fault("probe-manifest-etc-passwd", probe_manifest(["/etc/passwd"]), reason="outside_root",
          rejects=PROBE_REJECTS, counts=probe_counts, detail=r"/etc/passwd resolves to",
          absent=("root:x:0:0",)),
    Fault("probe-manifest-proc-environ", probe_manifest(["/proc/self/environ"]), reason="outside_root",
          rejects=PROBE_REJECTS, counts=probe_counts, detail=r"/proc/self/environ resolves",
          absent=("PATH=",)),
    Fault("probe-manifest-link-outside", probe_manifest(["link.wav"], link=True), reason="outside_root",
          rejects=PROBE_REJECTS, counts=probe_counts, detail=r"is a symbolic link"),
    Fault("probe-manifest-all-outside", probe_manifest(["../outside.wav", "/etc/passwd", "/proc/self/environ",
                                                        "link.wav"], link=True),
          reason="outside_root", rejects=PROBE_REJECTS, counts=probe_counts),
]  # fmt: skip


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_fault(fault: Fault, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = fault.make(tmp_path)
    capsys.readouterr()
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    if fault.error is not None:
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, f"exit {code}, stderr {err!r}"
        assert len(lines) == 1 and lines[0].startswith("weaklabel: error: "), lines
        assert re.search(fault.error, lines[0]), lines[0]
        return
    assert code == 0, f"exit {code}, stderr {err!r}"
    if fault.reason is not None:
        rejects = pd.read_parquet(tmp_path / fault.rejects)
        mine = rejects[rejects["reason"] == fault.reason]
        assert len(mine), f"no {fault.reason} reject in {rejects[['key', 'reason']].to_dict('records')}"
        if fault.detail is not None:
            assert mine["detail"].str.contains(fault.detail, regex=True).any(), mine["detail"].tolist()
    if fault.counts is not None:
        read, kept, rejected = fault.counts(tmp_path)
        assert read == kept + rejected and read > 0
    for path in (tmp_path / "data").rglob("*.parquet") if fault.absent else ():
        cells = "\n".join(str(cell) for cell in pd.read_parquet(path).to_numpy().ravel())
        leaked = [text for text in fault.absent if text in cells or text.encode() in path.read_bytes()]
        assert not leaked, f"{leaked} leaked into {path}"


def test_the_suite_covers_forty_distinct_bad_inputs():
    assert len({fault.name for fault in FAULTS}) == len(FAULTS) >= 40


def test_cr_only_transcript_keeps_every_segment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ingest_with({"v1": b"v1___1___0___1___one\rv1___2___1___2___two\rv1___3___2___3___three"})(
        tmp_path
    )
    assert main(["-q", *argv]) == 0
    table = pd.read_parquet(tmp_path / "data" / "ingest" / "segments.parquet")
    assert table["text"].tolist() == ["one", "two", "three"]


#: (stage script, make, error): under ``dvc repro`` the stage scripts say the same one line.
STAGE_FAULTS = [
    (
        "clips",
        raw_params(b"clips:\n  length_s: [7\n", []),
        r"^pipelines\.clips: error: params file params\.yaml is not valid YAML at line 3",
    ),
    (
        "clips",
        with_params({"clips": {"length_s": "7s"}}, [], one_segment),
        r"^pipelines\.clips: error: clips\.length_s must be a finite number",
    ),
    (
        "label",
        label_segments(["v___1", "v___1"]),
        r"^pipelines\.label: error: .*repeated \(\['v___1'\]\)",
    ),
]
STAGE_ARGS = {
    "clips": ["--in", "data/ingest/segments.parquet", "--out", "c.parquet", "--rejects", "r.parquet"],
    "label": ["--in", "data/ingest/segments.parquet", "--out", "l", "--report", "r"],
}


@pytest.mark.parametrize(
    ("stage", "make", "error"), STAGE_FAULTS, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(STAGE_FAULTS)]
)
def test_stage_script_fault_is_one_line(stage, make, error, tmp_path):
    make(tmp_path)
    if not (tmp_path / "params.yaml").exists():
        write_params(tmp_path, {})
    result = subprocess.run(
        [sys.executable, "-m", f"pipelines.{stage}", *STAGE_ARGS[stage]],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower() or "Traceback" in line]
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(errors) == 1 and re.search(error, errors[0]), result.stderr[-2000:]
