"""Who answers a text run: a person at a terminal, a script, a seeded random chooser, or a
language model (``hf``, ``openai``), each a type of :mod:`.registry` implementing the protocol
of :mod:`sbl.protocol`. ``make("random:7")`` makes one from the spec the command line takes."""

from sbl.participants.random import RandomResponder as Random
from sbl.participants.registry import Options, ParticipantType, make, names
from sbl.participants.scripted import Scripted
from sbl.participants.terminal import Terminal
from sbl.protocol import Answer, Ask, Responder, Usage

__all__ = ["Answer", "Ask", "Options", "ParticipantType", "Random", "Responder", "Scripted",
           "Terminal", "Usage", "make", "names"]
