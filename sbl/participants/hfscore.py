"""Scoring texts with a transformers model: response log-probs from teacher-forced passes.

A text is tokenised whole and fed once; only the logits a response token needs are kept, and
nothing after the last response token is fed (no logit there is read). Texts scored together
(:func:`response_logprobs_many`, as ``sbl score`` does) are taken in sorted order and each
starts from the KV cache of the one before it, cut to their common first tokens: the
participants of one experiment share their instructions, which are then computed once. The
cache is kept only as far as the next text shares it, so it never holds more than a common
prefix. The numbers are those of one pass per text, up to float rounding (the shared part is
the same computation; tests/test_score.py compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sbl.likelihood import token_owners
from sbl.participants.models import LoadedModel
from sbl.protocol import ResponseLogprobs
from sbl.source import SblError

Spans = Sequence[tuple[int, int]]


def response_logprobs(loaded: LoadedModel, text: str, spans: Spans) -> ResponseLogprobs:
    """The summed log-probability of the tokens of each span of ``text``, from one forward
    pass that keeps only the logits a response token needs."""
    return response_logprobs_many(loaded, [(text, spans)])[0]


def response_logprobs_many(loaded: LoadedModel, items: Sequence[tuple[str, Spans]]
                           ) -> list[ResponseLogprobs]:
    """:func:`response_logprobs` of each (text, spans), computing the first tokens a text
    shares with the one before it (in sorted order) once."""
    prepared = [_tokens_and_owners(loaded.tokenizer, text, list(spans)) for text, spans in items]
    order = sorted(range(len(items)), key=lambda i: prepared[i][0])
    state = _Prefix(loaded)
    results: dict[int, ResponseLogprobs] = {}
    for k, i in enumerate(order):
        ids, owners = prepared[i]
        following = prepared[order[k + 1]][0] if k + 1 < len(order) else []
        targets = [t for t, owner in enumerate(owners) if owner is not None]
        logprobs = state.target_logprobs(ids, targets, keep=_common(ids, following))
        results[i] = _totals(owners, targets, logprobs, len(items[i][1]), len(ids))
    return [results[i] for i in range(len(items))]


def _totals(owners: list[int | None], targets: list[int], logprobs: list[float], spans: int,
            tokens: int) -> ResponseLogprobs:
    """Each span's token count and summed log-prob."""
    total = [0.0] * spans
    count = [0] * spans
    for t, lp in zip(targets, logprobs, strict=True):
        owner = owners[t]
        assert owner is not None
        total[owner] += lp
        count[owner] += 1
    return ResponseLogprobs(tuple(count), tuple(total), tokens)


def _tokens_and_owners(tokenizer: Any, text: str,
                       spans: list[tuple[int, int]]) -> tuple[list[int], list[int | None]]:
    """Whole-text token ids, and for each the index of the response it starts in (or None)."""
    if not getattr(tokenizer, "is_fast", False):
        raise SblError.at(None, "scoring needs a fast (Rust) tokenizer for character offsets")
    enc = tokenizer(text, return_offsets_mapping=True)
    owners = token_owners(text, enc["offset_mapping"], spans)
    return list(enc["input_ids"]), owners


def _common(a: list[int], b: list[int]) -> int:
    """How many first tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class _Prefix:
    """The KV cache of the first tokens ``ids`` of the last text fed (None: nothing kept)."""

    loaded: LoadedModel
    ids: list[int] = field(default_factory=list)
    cache: Any = None

    def target_logprobs(self, ids: list[int], targets: list[int], *, keep: int) -> list[float]:
        """log p(ids[t] | ids[:t]) for each t in ``targets``; afterwards the cache holds the
        first ``keep`` tokens of ``ids`` (as far as they were fed)."""
        import torch

        if not targets:
            return []
        end = targets[-1]  # the last logit read is at end - 1: feed no further
        # The logit before the first target must be computed, so at least that token is fed.
        start = max(0, min(_common(self.ids, ids), targets[0] - 1))
        keep = min(keep, end)
        if start == 0:
            self.cache = self._new_cache() if keep else None
        elif start < len(self.ids):
            self.cache.crop(start - len(self.ids))
        model = self.loaded.model
        device = getattr(model, "device", None) or torch.device(self.loaded.device)
        kwargs: dict[str, Any] = {"use_cache": self.cache is not None}
        if self.cache is not None:
            kwargs[self.loaded.cache_arg] = self.cache
            kwargs["attention_mask"] = torch.ones((1, end), dtype=torch.long, device=device)
            kwargs["position_ids"] = torch.arange(start, end, device=device)[None]
        before = torch.tensor([t - 1 - start for t in targets], device=device)
        if _takes_logits_to_keep(model):
            kwargs["logits_to_keep"] = before  # a vocabulary row only where a target follows
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids[start:end]], device=device), **kwargs)
        logits = out.logits[0] if "logits_to_keep" in kwargs else out.logits[0, before]
        self._keep(ids, end, keep)
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        wanted = torch.tensor([ids[t] for t in targets], device=logprobs.device)
        return logprobs.gather(1, wanted[:, None]).flatten().tolist()

    def _keep(self, ids: list[int], fed: int, keep: int) -> None:
        """Cut the cache (holding ``ids[:fed]``) to the first ``keep`` tokens, or drop it."""
        if self.cache is None or keep == 0:
            self.cache, self.ids = None, []
            return
        if keep < fed:
            self.cache.crop(keep - fed)
        self.ids = ids[:keep]

    def _new_cache(self) -> Any:
        from sbl.participants.kvcache import GrowingCache

        return GrowingCache()


def _takes_logits_to_keep(model: Any) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` (transformers 4.50 on)."""
    import inspect

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(inner.forward).parameters
