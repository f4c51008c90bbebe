"""Plan which audio each clip holds: the window policy, one setting (:attr:`ClipConfig.window`).

A plan is a clips table (:data:`CLIPS_SCHEMA`), one row per segment: which slice of the source file
is read and where it sits in a clip of a common length, so that clips can be batched. Nothing is
read while planning; :func:`load_clip` reads one planned clip. Every path from recordings to
features (:func:`weaklabel.features.extract.extract_features`: the features stage, the probe,
cross-corpus evaluation) goes through a plan, and the window policy (:data:`WINDOWS`) says how it
is cut:

``random`` (training clips, the default)
    Every clip is cropped or zero-padded to ``length_s``, at a random offset, so that a model
    cannot learn where speech sits in the window. Each clip's generator is seeded from the run
    seed *and* the segment id, so a clip keeps its offset when other segments are added or
    removed, and reruns are identical.
``centre`` (probing)
    The same crop or pad, centred: deterministic without a seed.
``full``
    No cropping: each clip holds its whole segment, un-padded at the start (``pad_left`` 0) and
    zero-padded at the end to the longest segment of the plan (the clips' common length). An
    embedder that reads the un-padded audio (eGeMAPS, through ``pad_left`` and ``audio_samples``)
    then sees every sample.

A clips table read back from disk is data like any other: :func:`clip_problem` says whether a row
is a window that can be read at all (finite, non-negative, padding inside the clip), and
:func:`load_clip` refuses one that is not, so that an impossible row becomes a reject of that clip,
never a clip of silence or a stopped run.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.audio.io import SAMPLE_RATE, read_slice
from weaklabel.errors import DataError, ParameterError
from weaklabel.tables import rejects_frame

#: Window policies of :attr:`ClipConfig.window` (see the module docstring).
WINDOWS = ("random", "centre", "full")

#: Reason code of a clips-table row that is no readable window (:func:`clip_problem`).
BAD_WINDOW = "bad_window"

CLIPS_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("audio_path", pa.string()),
        ("read_start", pa.float64()),  # seconds into the source file where the clip's audio starts
        ("read_seconds", pa.float64()),  # seconds of real audio in the clip (speech before padding)
        ("crop_offset", pa.float64()),  # seconds cropped off the segment's start (0 when padded)
        ("pad_left", pa.int64()),  # silence samples before the audio (0 when cropped)
        ("length", pa.int64()),  # clip length in samples
        ("sample_rate", pa.int32()),
    ]
)


@dataclass(frozen=True)
class ClipConfig:
    """How clips are cut from segments (the ``clips`` section of params.yaml).

    Attributes
    ----------
    length_s
        Clip length in seconds (the original study used 7 s); ``full`` windows ignore it.
    seed
        Seed for the random crop offsets and padding positions (``random`` windows only).
    sample_rate
        Rate of the clips, Hz.
    window
        Window policy, one of :data:`WINDOWS`: ``random`` (seeded random crop or pad to
        ``length_s``), ``centre`` (centred crop or pad to ``length_s``) or ``full`` (whole
        segments, un-padded at the start, as long as the longest).

    Raises
    ------
    ParameterError
        If ``length_s`` or ``sample_rate`` is not positive, or ``window`` is unknown.
    """

    length_s: float = 7.0
    seed: int = 0
    sample_rate: int = SAMPLE_RATE
    window: str = "random"

    def __post_init__(self) -> None:
        if self.length_s <= 0:
            raise ParameterError(f"clips.length_s must be > 0, got {self.length_s}")
        if self.sample_rate <= 0:
            raise ParameterError(f"clips.sample_rate must be > 0, got {self.sample_rate}")
        if self.window not in WINDOWS:
            raise ParameterError(
                f"clips.window must be one of {', '.join(WINDOWS)}, got {self.window!r}: random for "
                "training clips, centre for probing, full for whole recordings"
            )

    @property
    def length(self) -> int:
        """Clip length in samples (``random`` and ``centre`` windows)."""
        return int(round(self.length_s * self.sample_rate))


def clip_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the run ``seed`` and the clip's ``key``."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def clip_window(n_samples: int, length: int, *, rng: np.random.Generator | None) -> tuple[int, int]:
    """Where to crop and how much to pad so that ``n_samples`` becomes ``length``.

    Parameters
    ----------
    n_samples
        Samples of real audio available.
    length
        Target length in samples.
    rng
        Random offsets from this generator; ``None`` centres the audio instead.

    Returns
    -------
    crop_start, pad_left : int
        Samples to skip at the start of the audio (when it is longer than ``length``) and
        samples of silence to put before it (when shorter). One of the two is always 0.
    """
    slack = abs(n_samples - length)
    offset = slack // 2 if rng is None else int(rng.integers(0, slack + 1))
    return (offset, 0) if n_samples > length else (0, offset)


def fix_length(audio: np.ndarray, length: int, *, crop_start: int = 0, pad_left: int = 0) -> np.ndarray:
    """Crop or zero-pad ``audio`` (n,) to exactly ``length`` samples.

    Returns
    -------
    numpy.ndarray
        Shape (length,), float32: ``audio[crop_start:]`` placed after ``pad_left`` zeros,
        cut or zero-padded at the end.
    """
    out = np.zeros(length, dtype=np.float32)
    piece = np.asarray(audio, dtype=np.float32)[crop_start : crop_start + length - pad_left]
    out[pad_left : pad_left + piece.size] = piece
    return out


def plan_clips(segments: pd.DataFrame, config: ClipConfig) -> pd.DataFrame:
    """Decide, for every segment, which audio its clip holds, by ``config.window``.

    Parameters
    ----------
    segments
        The ingest table (or any recordings table): ``segment_id``, ``audio_path``, ``start``,
        ``duration`` (seconds); a whole file is ``start`` 0 and ``duration`` its length.
    config
        Clip length, seed, rate and window policy.

    Returns
    -------
    pandas.DataFrame
        One row per segment, columns of :data:`CLIPS_SCHEMA`, every ``length`` the same:
        ``config.length`` for ``random`` and ``centre`` windows, the longest segment's samples for
        ``full`` (0 for no segments).

    Examples
    --------
    >>> segments = pd.DataFrame(
    ...     {"segment_id": ["a", "b"], "audio_path": ["a.wav", "b.wav"], "start": 0.0, "duration": [1.0, 3.0]}
    ... )
    >>> centre = plan_clips(segments, ClipConfig(length_s=2.0, window="centre"))
    >>> centre[["crop_offset", "pad_left"]].values.tolist()
    [[0.0, 8000.0], [0.5, 0.0]]
    >>> full = plan_clips(segments, ClipConfig(window="full"))
    >>> full[["read_seconds", "pad_left", "length"]].values.tolist()
    [[1.0, 0.0, 48000.0], [3.0, 0.0, 48000.0]]
    """
    rate = config.sample_rate
    table = segments[["segment_id", "audio_path", "start", "duration"]]
    counts = [int(round(duration * rate)) for duration in table["duration"]]
    length = max(counts, default=0) if config.window == "full" else config.length
    rows = []
    for seg, n_samples in zip(table.itertuples(index=False), counts, strict=True):
        if config.window == "full":
            crop_start, pad_left = 0, 0
        else:
            rng = clip_rng(config.seed, seg.segment_id) if config.window == "random" else None
            crop_start, pad_left = clip_window(n_samples, length, rng=rng)
        read = min(n_samples, length)
        rows.append(
            (
                seg.segment_id,
                seg.audio_path,
                seg.start + crop_start / rate,
                read / rate,
                crop_start / rate,
                pad_left,
                length,
                rate,
            )
        )
    return pd.DataFrame(rows, columns=CLIPS_SCHEMA.names)


def clip_problem(clip: pd.Series | object) -> tuple[str, str] | None:
    """Whether a clips-table row is a window that can be read: ``(reason, detail)``, or None.

    Parameters
    ----------
    clip
        A row of :data:`CLIPS_SCHEMA` (a Series or an ``itertuples`` row).

    Returns
    -------
    tuple of (str, str) or None
        ``(BAD_WINDOW, detail)`` when ``read_start`` is not a finite number >= 0, ``read_seconds``
        not a finite number >= 0, ``length`` or ``sample_rate`` not > 0, ``pad_left`` outside
        ``[0, length)``, or the audio after the padding runs more than a sample past the clip's end;
        None for a readable window. (0 s of audio is readable here; whether an empty clip is
        wanted is the caller's call.) The detail names the segment and its file.

    Examples
    --------
    >>> row = pd.Series({"segment_id": "v___1", "audio_path": "v.wav", "read_start": 0.0,
    ...                  "read_seconds": float("inf"), "pad_left": 0, "length": 16000, "sample_rate": 16000})
    >>> clip_problem(row)[0]
    'bad_window'
    """
    values = {
        name: getattr(clip, name, None) for name in ("read_start", "read_seconds", "pad_left", "length")
    }
    values["sample_rate"] = getattr(clip, "sample_rate", None)
    try:
        numbers = {name: float(value) for name, value in values.items()}
    except (TypeError, ValueError):
        numbers = {}
    where = f"clip {getattr(clip, 'segment_id', '?')} of {getattr(clip, 'audio_path', '?')}"
    if len(numbers) != len(values) or not all(math.isfinite(v) for v in numbers.values()):
        return BAD_WINDOW, f"{where}: non-numeric or non-finite window {values}"
    start, seconds, pad, length, rate = (numbers[n] for n in values)
    if start < 0 or seconds < 0 or length <= 0 or rate <= 0:
        return (
            BAD_WINDOW,
            f"{where}: read_start, read_seconds must be >= 0 and length, sample_rate > 0: {values}",
        )
    if not 0 <= pad < length:
        return BAD_WINDOW, f"{where}: pad_left {pad:.0f} lies outside the clip of {length:.0f} samples"
    if pad + round(seconds * rate) > length + 1:
        return BAD_WINDOW, (
            f"{where}: {seconds} s of audio after {pad:.0f} samples of padding overruns the clip of "
            f"{length:.0f} samples"
        )
    return None


def load_clip(clip: pd.Series | object) -> np.ndarray:
    """Read one planned clip (a row of :func:`plan_clips`) as float32 of shape (length,).

    Raises
    ------
    DataError
        If the row is no readable window (:func:`clip_problem`), or its file cannot be decoded or
        holds NaN or infinite samples in the slice; the message names the file.
    """
    problem = clip_problem(clip)
    if problem is not None:
        raise DataError(problem[1])
    audio = read_slice(clip.audio_path, clip.read_start, clip.read_seconds, sample_rate=clip.sample_rate)
    return fix_length(audio, int(clip.length), pad_left=int(clip.pad_left))


def plan_clips_or_reject(segments: pd.DataFrame, config: ClipConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`plan_clips` for segments with audio; the others become rejects (reason ``no_audio``).

    Segments ingested in text-only mode may have a null ``audio_path``: they carry text and gold
    but no clip can be cut from them.

    Parameters
    ----------
    segments
        The ingest table: ``segment_id``, ``audio_path`` (may be null), ``start``, ``duration``.
    config
        Clip length, seed, rate and window policy.

    Returns
    -------
    clips : pandas.DataFrame
        One row per segment with audio, columns of :data:`CLIPS_SCHEMA`.
    rejects : pandas.DataFrame
        One row per segment without audio (stage ``clips``); ``len(clips) + len(rejects) == len(segments)``.
    """
    no_audio = segments["audio_path"].isna().to_numpy()
    rejects = rejects_frame(
        (
            {
                "source": "segments",
                "key": key,
                "reason": "no_audio",
                "detail": "segment has no audio (ingested in text-only mode): no clip can be cut",
            }
            for key in segments.loc[no_audio, "segment_id"]
        ),
        stage="clips",
    )
    return plan_clips(segments[~no_audio], config), rejects
