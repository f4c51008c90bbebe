"""Text to speech with espeak-ng, called as a subprocess.

espeak-ng (Debian/Ubuntu package ``espeak-ng``) is a formant synthesizer: fast (about 100x real
time), small, offline and deterministic, which is what a synthesized demo corpus needs. It writes a
22.05 kHz mono WAV to stdout; :func:`synthesize` reads it, trims the leading and trailing silence
and resamples it to 16 kHz (soxr).

Prosody is set per call: ``pitch`` (espeak-ng's 0-99 base pitch), ``rate`` (words per minute),
``amplitude`` (0-200) on the command line, and ``pitch_range`` (a factor on the voice's intonation
range) through SSML ``<prosody range="...%">``.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from weaklabel.audio.io import SAMPLE_RATE, to_mono
from weaklabel.errors import DataError, MissingDependencyError, ParameterError

log = logging.getLogger(__name__)

#: The program called; looked up on PATH at each call.
ESPEAK = "espeak-ng"

INSTALL_HINT = (
    "install it with `sudo apt-get install espeak-ng` (Debian/Ubuntu), `sudo dnf install espeak-ng` "
    "(Fedora) or `brew install espeak-ng` (macOS), then check that `espeak-ng --version` runs"
)

#: Trimming: the leading and trailing parts whose 10 ms RMS envelope stays this many dB below the
#: loudest 10 ms of the utterance are cut (espeak-ng pads with zeros and ends on a faint decay).
TRIM_DB = 40.0


def espeak_path() -> str:
    """Full path of the espeak-ng executable.

    Returns
    -------
    str
        What :func:`shutil.which` finds for ``espeak-ng``.

    Raises
    ------
    MissingDependencyError
        If espeak-ng is not on PATH; the message says how to install it.
    """
    path = shutil.which(ESPEAK)
    if path is None:
        raise MissingDependencyError(
            f"{ESPEAK} was not found on PATH, and the demo corpus is synthesized with it: {INSTALL_HINT}"
        )
    return path


def espeak_version() -> str:
    """The version line espeak-ng prints, e.g. ``"eSpeak NG text-to-speech: 1.51 ..."``.

    Raises
    ------
    MissingDependencyError
        If espeak-ng is not on PATH.
    """
    result = subprocess.run([espeak_path(), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip().split("  Data at:")[0]


def speech_bounds(audio: np.ndarray, sample_rate: int, *, floor_db: float = TRIM_DB) -> tuple[int, int]:
    """Where speech starts and ends: the first and last sample of the loud part of ``audio``.

    Parameters
    ----------
    audio
        Shape (n,), a single utterance.
    sample_rate
        Its rate, Hz (sets the 10 ms envelope window).
    floor_db
        Samples whose 10 ms RMS envelope lies more than this many dB below the envelope's maximum
        are silence.

    Returns
    -------
    tuple of int
        ``(start, end)`` sample indices, ``audio[start:end]`` is the speech; ``(0, 0)`` when the
        audio is all zeros.
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.size == 0 or not np.any(audio):
        return 0, 0
    window = max(1, int(round(0.01 * sample_rate)))
    energy = np.concatenate([[0.0], np.cumsum(audio**2)])
    half = window // 2
    lo = np.clip(np.arange(audio.size) - half, 0, audio.size)
    hi = np.clip(np.arange(audio.size) - half + window, 0, audio.size)
    envelope = np.sqrt((energy[hi] - energy[lo]) / window)
    loud = np.flatnonzero(envelope > envelope.max() * 10 ** (-floor_db / 20))
    return int(loud[0]), int(loud[-1]) + 1


def synthesize(
    text: str,
    *,
    voice: str = "en-us",
    pitch: float = 50,
    rate: float = 175,
    amplitude: float = 100,
    pitch_range: float = 1.0,
    trim: bool = True,
    sample_rate: int = SAMPLE_RATE,
    timeout: float = 60.0,
) -> np.ndarray:
    """Speak ``text`` with espeak-ng and return the waveform.

    Parameters
    ----------
    text
        What to say, plain text in the voice's language (it is XML-escaped into SSML).
    voice
        An espeak-ng voice, optionally with a variant: ``"en-us"``, ``"en+f3"``, ``"fr+m3"``.
        Note that espeak-ng ignores the variant after some region names (``"en-gb+f3"`` sounds
        like ``"en-gb"``); ``"en+f3"`` is the British voice with the variant applied.
    pitch
        Base pitch, 0 to 99 (espeak-ng's ``-p``, default 50); rounded to an integer.
    rate
        Speaking rate in words per minute, 80 to 450 (``-s``, default 175); rounded.
    amplitude
        Loudness, 0 to 200 (``-a``, default 100); rounded.
    pitch_range
        Factor on the voice's intonation range (SSML ``<prosody range>``): 1 is the voice's own,
        0.5 flatter, 2 livelier. Must lie in 0 to 4.
    trim
        Cut the leading and trailing silence (see :func:`speech_bounds`), so the result starts and
        ends with speech.
    sample_rate
        Rate of the result, Hz.
    timeout
        Seconds before the espeak-ng process is killed.

    Returns
    -------
    numpy.ndarray
        Shape (n,), float32 in -1..1, mono at ``sample_rate``.

    Raises
    ------
    MissingDependencyError
        If espeak-ng is not installed; the message says how to install it.
    ParameterError
        If ``text`` is empty, a prosody value is out of range, or espeak-ng has no such ``voice``.
    DataError
        If espeak-ng fails otherwise or returns no audio.

    Examples
    --------
    >>> audio = synthesize("What a lovely day.", voice="en+f3", pitch=60)  # doctest: +SKIP
    >>> audio.dtype, audio.ndim  # doctest: +SKIP
    (dtype('float32'), 1)
    """
    if not text or not text.strip():
        raise ParameterError("synthesize needs non-empty text, got an empty string")
    checks = {"pitch": (pitch, 0, 99), "rate": (rate, 80, 450), "amplitude": (amplitude, 0, 200)}
    for name, (value, low, high) in checks.items():
        if not low <= value <= high:
            raise ParameterError(f"espeak-ng {name} must lie in {low}..{high}, got {value}")
    if not 0 <= pitch_range <= 4:
        raise ParameterError(f"pitch_range must lie in 0..4 (1 = the voice's own), got {pitch_range}")
    command = [
        espeak_path(),
        "--stdout",
        "-m",  # SSML: carries the pitch range, and keeps text from being read as options
        "-z",  # no final sentence pause: the caller places pauses itself
        "-v",
        voice,
        "-p",
        str(int(round(pitch))),
        "-s",
        str(int(round(rate))),
        "-a",
        str(int(round(amplitude))),
    ]
    ssml = (
        f'<speak><prosody range="{int(round(pitch_range * 100))}%">{escape(text.strip())}</prosody></speak>'
    )
    try:
        result = subprocess.run(command, input=ssml.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise DataError(
            f"espeak-ng took over {timeout} s to speak {text[:60]!r}; shorten the text"
        ) from error
    stderr = result.stderr.decode("utf-8", "replace").strip()
    if "voice does not exist" in stderr:
        raise ParameterError(
            f"espeak-ng has no voice {voice!r}; list the installed ones with `espeak-ng --voices`"
        )
    if result.returncode != 0 or len(result.stdout) <= 44:
        raise DataError(
            f"espeak-ng failed on {text[:60]!r} with voice {voice!r} (exit {result.returncode}): "
            f"{stderr or 'no audio written'}; try `espeak-ng -v {voice} 'test'` in a shell"
        )
    data, native = sf.read(io.BytesIO(result.stdout), dtype="float32")
    if trim:
        start, end = speech_bounds(data, native)
        if end <= start:
            raise DataError(f"espeak-ng returned only silence for {text[:60]!r} with voice {voice!r}")
        data = data[start:end]
    audio = to_mono(data, native, sample_rate=sample_rate)
    return np.clip(audio, -1.0, 1.0)
