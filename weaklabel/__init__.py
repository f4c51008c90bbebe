"""weaklabel: weakly labelled emotional speech from transcribed speech.

The text says what was meant; the voice is trained to hear it. Transcribed segments are scored
for sentiment (TextBlob, VADER), the confident ones become positive/negative labels, and an audio
model is trained on the matching clips.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
