"""The synthesized demo corpus: CMU-MOSEI raw layout spoken by espeak-ng, with SIMULATED affect.

:func:`build_demo_corpus` writes the corpus (``weaklabel demo OUT``, DVC stage ``demo``);
:func:`synthesize` is the espeak-ng wrapper it uses. The sentences (``positive.txt``,
``negative.txt``, ``neutral.txt``) and the multilingual probe utterances (``probe.txt``) ship as
package data beside these modules.
"""

from weaklabel.demo.corpus import (
    AFFECT,
    PROBE_VOICES,
    SPEAKERS,
    SPOKEN_WORDS,
    Affect,
    DemoConfig,
    ProbeUtterance,
    Sentence,
    Speaker,
    affect_prosody,
    build_demo_corpus,
    load_probes,
    load_sentences,
    spoken_texts,
)
from weaklabel.demo.speech import espeak_version, speech_bounds, synthesize

__all__ = [
    "AFFECT",
    "PROBE_VOICES",
    "SPEAKERS",
    "SPOKEN_WORDS",
    "Affect",
    "DemoConfig",
    "ProbeUtterance",
    "Sentence",
    "Speaker",
    "affect_prosody",
    "build_demo_corpus",
    "espeak_version",
    "load_probes",
    "load_sentences",
    "speech_bounds",
    "spoken_texts",
    "synthesize",
]
