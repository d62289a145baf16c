"""The participant protocol, as participants import it: it is defined in :mod:`sbl.protocol`
(below both the text runtime and the participants); this module keeps the old import path."""

from sbl.protocol import (
    CLOSE,
    MARK,
    RESPONSE,
    Answer,
    Ask,
    Responder,
    ResponseLogprobs,
    Scorer,
    Usage,
    closes_options,
    scored_texts,
)

__all__ = ["CLOSE", "MARK", "RESPONSE", "Answer", "Ask", "Responder", "ResponseLogprobs",
           "Scorer", "Usage", "closes_options", "scored_texts"]
