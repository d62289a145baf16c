"""Who answers a text run: a person at a terminal, a script, a seeded random chooser, or a
language model (``hf``, ``openai``). Each implements the protocol of :mod:`.base`."""

from sbl.participants.base import Answer, Ask, Responder
from sbl.participants.random import RandomResponder as Random
from sbl.participants.scripted import Scripted
from sbl.participants.terminal import Terminal

__all__ = ["Answer", "Ask", "Random", "Responder", "Scripted", "Terminal"]
