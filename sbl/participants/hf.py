"""Model participants on transformers: choices by log-probability, on a KV cache that only grows.

Each participant is one row of a batched KV cache (a *group* holds up to ``batch_size`` rows
that started together). An ask feeds only the text after what that participant has already
been fed, so each transcript token is processed once rather than once per trial. Rows advance
together: each row's new tokens are right-padded to the longest, the attention mask grows with
them (zeros over pads), and position ids come from the mask's cumulative sum, so a row's
numbers do not depend on its neighbours (up to float rounding).

The chosen answer is not fed right away: the next ask's new text starts with it (``C>> and
get 7 points. …``), so its tokens are fed then, in the same chunk as the text that follows.
That keeps chunk-by-chunk tokenisation equal to tokenising the whole transcript: the only cut
is right after ``" <<"``, where Llama-3-style pre-tokenisers always split before a letter,
digit or space (a response starting with punctuation re-feeds the ``" <<"`` token with it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sbl.participants.base import (
    CLOSE,
    MARK,
    Answer,
    Ask,
    ResponseLogprobs,
    Usage,
    scored_texts,
)
from sbl.participants.models import LoadedModel
from sbl.participants.sampling import participant_rng, sample_index, sample_rows


@dataclass(eq=False)
class _Row:
    """One participant: its place in a group, the text fed so far and the next-token log-probs."""

    participant: str
    rng: np.random.Generator
    group: _Group
    index: int
    seen: str = ""
    last: Any = None  # log-probs (vocab,) of the token after `seen`
    ends_with_mark: bool = False
    processed: int = 0
    fed: list[int] = field(default_factory=list)  # the real tokens in the cache, in order


@dataclass(eq=False)
class _Draft:
    """A free-text answer being sampled for one row: its tokens so far and their log-prob."""

    row: _Row
    ask: int
    max_chars: int
    last: Any  # log-probs of the next token
    ids: list[int] = field(default_factory=list)
    logprob: float = 0.0


@dataclass
class _Scores:
    """One choice ask's option log-probs and the probability mass on the valid first tokens."""

    option: dict[str, float]
    valid_mass: float


@dataclass(eq=False)
class _Group:
    """Rows that share one batched KV cache and its 2-D attention mask (1 = real token)."""

    cache: Any
    mask: Any
    rows: list[_Row | None] = field(default_factory=list)


class HFResponder:
    """Answers asks with a transformers causal LM; see the module docstring for how.

    Each participant samples with its own RNG, seeded by its ask's ``seed`` (mixed with
    ``seed`` here unless that is 0), so the same seeds give the same choices, batched or not.
    """

    def __init__(self, loaded: LoadedModel, *, temperature: float = 1.0, seed: int = 0,
                 batch_size: int = 16) -> None:
        import torch

        self.lm, self.name = loaded, loaded.source
        self.temperature, self.seed, self.batch_size = temperature, seed, batch_size
        self._torch = torch
        self._device = getattr(loaded.model, "device", None) or torch.device(loaded.device)
        self._rows: dict[str, _Row] = {}
        self._finished: dict[str, Usage] = {}
        self._option_cache: dict[str, list[int]] = {}
        tok = loaded.tokenizer
        self._prefix = special_prefix(tok)
        self._mark = self._encode(MARK)
        self._pad = next((t for t in (tok.pad_token_id, tok.eos_token_id) if t is not None), 0)
        self._eos = tok.eos_token_id

    # -- the protocol ------------------------------------------------------------------

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Answer every ask (one per participant), advancing their rows together."""
        with self._torch.inference_mode():
            rows = self._rows_for(asks)
            spent = self._advance(rows, asks)
            choices = self._choose(rows, asks, self._score_options(rows, asks, spent), spent)
            texts = self._generate(rows, asks, spent)
        return [choices[i] if i in choices else Answer(*texts[i], None, spent[i])
                for i in range(len(asks))]

    def finish(self, participant: str, transcript: str) -> None:
        """Record the participant's totals and free its row of the cache."""
        row = self._rows.pop(participant, None)
        if row is None:
            total = len(self._prefix) + len(self._encode(transcript))
        else:  # what was fed plus the tail: equal to encoding it all, and much cheaper
            start, tail = self._unfed(row, transcript)
            total = len(row.fed) + len(start) + len(self._encode(tail))
            self._drop(row)
        self._finished[participant] = Usage(row.processed if row else 0, total, 1)

    def response_logprobs(self, text: str, spans: Sequence[tuple[int, int]]
                          ) -> ResponseLogprobs:
        """Score ``text`` (the :class:`~sbl.protocol.Scorer` protocol): one forward pass."""
        return self.response_logprobs_many([(text, spans)])[0]

    def response_logprobs_many(self, items: Sequence[tuple[str, Sequence[tuple[int, int]]]]
                               ) -> list[ResponseLogprobs]:
        """:meth:`response_logprobs` of each (text, spans); the first tokens a text shares
        with another are fed once (:mod:`sbl.participants.hfscore`)."""
        from sbl.participants.hfscore import response_logprobs_many

        return response_logprobs_many(self.lm, items)

    # -- totals --------------------------------------------------------------------------

    def usage(self) -> Usage:
        """Totals over every participant seen; transcript tokens count finished ones only."""
        live = Usage(sum(r.processed for r in self._rows.values()), 0, len(self._rows))
        return sum(self._finished.values(), Usage()) + live

    def fed_tokens(self, participant: str) -> list[int]:
        """The token ids a live participant's cache holds (for checking tokenisation)."""
        return list(self._rows[participant].fed)

    def usage_of(self, participant: str) -> Usage:
        """One participant's totals (transcript tokens once it has finished)."""
        if participant in self._rows:
            return Usage(self._rows[participant].processed, 0, 1)
        return self._finished.get(participant, Usage())

    # -- rows and groups -----------------------------------------------------------------

    def _rows_for(self, asks: Sequence[Ask]) -> list[_Row]:
        """The row of each ask; participants new to this call share new groups."""
        fresh = [a for a in asks if a.participant not in self._rows]
        for start in range(0, len(fresh), self.batch_size):
            part = fresh[start:start + self.batch_size]
            torch = self._torch
            group = _Group(self._new_cache(), torch.zeros((len(part), 0), dtype=torch.long,
                                                          device=self._device))
            for i, ask in enumerate(part):
                row = _Row(ask.participant, participant_rng(ask.seed, self.seed), group, i)
                group.rows.append(row)
                self._rows[ask.participant] = row
        return [self._rows[a.participant] for a in asks]

    def _new_cache(self) -> Any:
        from sbl.participants.kvcache import GrowingCache

        return GrowingCache()

    def _drop(self, row: _Row) -> None:
        """Free a finished row; its group's cache keeps it until the group's next step."""
        group = row.group
        group.rows[row.index] = None
        if all(r is None for r in group.rows):
            group.cache, group.mask = None, None

    def _compact(self, group: _Group) -> None:
        """Take finished rows out of the group's cache and mask (once, however many finished)."""
        live = [i for i, r in enumerate(group.rows) if r is not None]
        if len(live) == len(group.rows):
            return
        index = self._torch.tensor(live, device=self._device)
        group.cache.batch_select_indices(index)
        group.mask = group.mask[index]
        kept = [r for r in group.rows if r is not None]
        for i, r in enumerate(kept):
            r.index = i
        group.rows = list(kept)

    def _forget(self, row: _Row, count: int) -> None:
        """Mask out the row's last ``count`` real tokens (all of them with count=-1)."""
        real = row.group.mask[row.index].nonzero().flatten()
        row.group.mask[row.index, real if count < 0 else real[len(real) - count:]] = 0
        del row.fed[0 if count < 0 else len(row.fed) - count:]

    # -- feeding text --------------------------------------------------------------------

    def _advance(self, rows: list[_Row], asks: Sequence[Ask]) -> list[int]:
        """Feed each row the new part of its transcript; returns tokens fed per ask."""
        for group in _groups(rows):
            self._compact(group)
        news = [self._unfed(row, ask.transcript) for row, ask in zip(rows, asks, strict=True)]
        encoded = self._encode_many([text for _, text in news])
        chunks: dict[int, list[int]] = {}
        for row, ask, (start, _), ids in zip(rows, asks, news, encoded, strict=True):
            chunks[id(row)] = ids = start + ids
            row.seen = ask.transcript
            row.fed.extend(ids)
            if ids:
                row.ends_with_mark = ids[-len(self._mark):] == self._mark
        for group in _groups(rows):
            feed = [chunks.get(id(r), []) if r else [] for r in group.rows]
            feed = self._feed_shared_start(group, feed)
            keep = [[len(c) - 1] if c else [] for c in feed]
            for r, lp in zip(group.rows, self._step(group, feed, keep), strict=True):
                if r is not None and lp is not None:
                    r.last = lp[0]
        spent = [len(chunks[id(r)]) for r in rows]
        for row, n in zip(rows, spent, strict=True):
            row.processed += n
        return spent

    def _feed_shared_start(self, group: _Group, feed: list[list[int]]) -> list[list[int]]:
        """A new group's rows usually begin with the same instructions: feed the tokens every
        row's first chunk starts with once, as one row, and give each row a copy of its
        keys and values; returns what is left of each chunk (at least its last token, whose
        log-probs are needed). The rows' numbers are the same, up to float rounding."""
        if len(feed) < 2 or group.mask.shape[1] or not all(feed) or None in group.rows:
            return feed
        shared = min(_common_start(feed), min(len(c) for c in feed) - 1)
        if shared < 2:
            return feed
        alone = _Group(self._new_cache(), group.mask[:1])
        self._step(alone, [feed[0][:shared]], [[]])
        alone.cache.repeat_rows(len(feed))
        group.cache, group.mask = alone.cache, alone.mask.expand(len(feed), -1).clone()
        return [c[shared:] for c in feed]

    def _unfed(self, row: _Row, transcript: str) -> tuple[list[int], str]:
        """The text the row has not been fed yet, and the token ids that go before it."""
        if row.seen and not transcript.startswith(row.seen):
            self._forget(row, -1)  # the transcript changed under us: start this row afresh
            row.seen, row.last = "", None
        if not row.seen:
            return self._prefix, transcript
        new = transcript[len(row.seen):]
        if new and not (new[0].isalnum() or new[0].isspace()) and row.ends_with_mark:
            # Whole-text tokenisation would glue "<<" to this punctuation: re-feed " <<".
            self._forget(row, len(self._mark))
            new = MARK + new
        return [], new

    def _step(self, group: _Group, chunks: list[list[int]],
              keep: list[list[int]]) -> list[Any]:
        """One forward pass over the group: each row's chunk, right-padded.

        Returns, per row, log-probs (len(keep[i]), vocab) at the chunk positions in
        ``keep[i]``, or None where nothing was kept.
        """
        torch = self._torch
        width = max((len(c) for c in chunks), default=0)
        if width == 0:
            return [None] * len(chunks)
        ids = torch.tensor([c + [self._pad] * (width - len(c)) for c in chunks],
                           dtype=torch.long, device=self._device)
        new = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunks],
                           dtype=torch.long, device=self._device)
        mask = torch.cat([group.mask, new], dim=1)
        # Pads do not count as positions, so each row's RoPE positions are its own.
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, -width:]
        logits = self._forward(group, ids, mask, positions, keep)
        group.mask = mask
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        return [logprobs[i, :len(k)] if k else None for i, k in enumerate(keep)]

    def _forward(self, group: _Group, ids: Any, mask: Any, positions: Any,
                 keep: list[list[int]]) -> Any:
        """Logits (batch, positions kept, vocab), extending the group's cache in place."""
        from sbl.participants.compat import kept_logits, remembered_keep_mode

        if self.lm.logits_keep is None:  # found once per loaded model, when first needed
            self.lm.logits_keep = remembered_keep_mode(self.lm.model, self._device)
        cache = {self.lm.cache_arg: group.cache, "use_cache": True}
        return kept_logits(functools.partial(self.lm.model, input_ids=ids, attention_mask=mask,
                                             position_ids=positions, **cache),
                           keep, self.lm.logits_keep, self._device)

    def _crop(self, group: _Group, count: int) -> None:
        """Take the last ``count`` slots back out of the group's cache and mask."""
        if count > 0:
            group.cache.crop(-count)  # transformers 5 accepts only negative values
            group.mask = group.mask[:, :-count]

    # -- choices -------------------------------------------------------------------------

    def _option_ids(self, option: str) -> list[int]:
        """The option's tokens (with ``">>"`` if scored closed) as they appear after ``" <<"``."""
        if option not in self._option_cache:
            ids = self._encode(MARK + option)
            n = len(self._mark)
            self._option_cache[option] = (
                ids[n:] if ids[:n] == self._mark and len(ids) > n else self._encode(option))
        return self._option_cache[option]

    def _score_options(self, rows: list[_Row], asks: Sequence[Ask],
                       spent: list[int]) -> dict[int, _Scores]:
        """Log-prob of each valid option for each choice ask (multi-token ones on the cache)."""
        choice = [i for i, ask in enumerate(asks) if ask.options is not None]
        if not choice:
            return {}
        # Options that begin one another are scored with their closing ">>" (base.py).
        ids = {i: [self._option_ids(t) for t in scored_texts(asks[i].options or ())]
               for i in choice}
        # Every first token of every row in one lookup: per-row lookups cost more than the math.
        width = max(len(ids[i]) for i in choice)
        index = [[t[0] for t in ids[i]] + [0] * (width - len(ids[i])) for i in choice]
        lasts = self._torch.stack([rows[i].last for i in choice])
        firsts = lasts.gather(1, self._torch.tensor(index, device=lasts.device)).tolist()
        scores: dict[int, _Scores] = {}
        pending: dict[int, list[tuple[int, str, list[int]]]] = {}
        for i, first in zip(choice, firsts, strict=True):
            options = asks[i].options or ()
            unique = dict(zip((t[0] for t in ids[i]), first, strict=False))
            scores[i] = _Scores({o: lp for o, t, lp in zip(options, ids[i], first, strict=False)
                                 if len(t) == 1}, sum(math.exp(lp) for lp in unique.values()))
            pending.setdefault(id(rows[i]), []).extend(
                (i, o, t) for o, t in zip(options, ids[i], strict=True) if len(t) > 1)
        for group in _groups(rows):
            self._score_multi(group, pending, scores, spent)
        return scores

    def _score_multi(self, group: _Group, pending: dict[int, list[tuple[int, str, list[int]]]],
                     scores: dict[int, _Scores], spent: list[int]) -> None:
        """Feed multi-token options, one per row per round, and crop them back out."""
        todo = [pending.get(id(r), []) if r else [] for r in group.rows]
        for k in range(max((len(t) for t in todo), default=0)):
            feed = [t[k][2][:-1] if k < len(t) else [] for t in todo]
            keep = [list(range(len(c))) for c in feed]
            for t, row, lp in zip(todo, group.rows, self._step(group, feed, keep), strict=True):
                if k >= len(t) or row is None:
                    continue
                ask_index, option, ids = t[k]
                follow = lp.gather(1, self._torch.tensor(ids[1:], device=lp.device)[:, None])
                scores[ask_index].option[option] = float(row.last[ids[0]]) + float(follow.sum())
                spent[ask_index] += len(ids) - 1
                row.processed += len(ids) - 1
            self._crop(group, max(len(c) for c in feed))

    def _choose(self, rows: list[_Row], asks: Sequence[Ask], scores: dict[int, _Scores],
                spent: list[int]) -> dict[int, Answer]:
        """Sample among each ask's valid options, renormalised, at the responder's temperature."""
        if not scores:
            return {}
        order = list(scores)
        options = [asks[i].options or () for i in order]
        raw = np.full((len(order), max(map(len, options))), -np.inf)
        for k, (i, names) in enumerate(zip(order, options, strict=True)):
            raw[k, :len(names)] = [scores[i].option[o] for o in names]
        picks = sample_rows(raw, [len(o) for o in options], self.temperature,
                            [rows[i].rng for i in order])
        chosen = raw[np.arange(len(order)), picks] - np.logaddexp.reduce(raw, axis=1)
        answers = {}
        for k, (i, names) in enumerate(zip(order, options, strict=True)):
            meta: dict[str, object] = {"option_logprobs": {o: scores[i].option[o] for o in names}}
            answers[i] = Answer(names[picks[k]], float(chosen[k]),
                                max(0.0, 1.0 - scores[i].valid_mass), spent[i], meta)
        return answers

    # -- free text -----------------------------------------------------------------------

    def _generate(self, rows: list[_Row], asks: Sequence[Ask],
                  spent: list[int]) -> dict[int, tuple[str, float]]:
        """Sample free-text answers token by token until ``>>``, EOS or ``max_chars``."""
        out: dict[int, tuple[str, float]] = {}
        for group in _groups(rows):
            drafts = [_Draft(r, i, a.max_chars, r.last)
                      for i, (r, a) in enumerate(zip(rows, asks, strict=True))
                      if a.options is None and r.group is group]
            if drafts:
                self._generate_group(group, drafts, spent, out)
        return out

    def _generate_group(self, group: _Group, drafts: list[_Draft], spent: list[int],
                        out: dict[int, tuple[str, float]]) -> None:
        """Sample the drafts' tokens in lockstep, then crop them back out of the cache."""
        steps = 0
        while drafts:
            feed: list[list[int]] = [[] for _ in group.rows]
            for d in list(drafts):
                token = sample_index(d.last.double().cpu().numpy(), self.temperature, d.row.rng)
                text = self.lm.tokenizer.decode(d.ids + [token], skip_special_tokens=True)
                done = _free_text_done(text, token == self._eos, len(d.ids) + 1, d.max_chars)
                if done is not None:
                    closing = CLOSE in text or token == self._eos  # not part of the answer
                    out[d.ask] = (done, d.logprob + (0.0 if closing else float(d.last[token])))
                    drafts.remove(d)
                    continue
                d.ids.append(token)
                d.logprob += float(d.last[token])
                feed[d.row.index] = [token]
                spent[d.ask] += 1
                d.row.processed += 1
            if not any(feed):
                break
            logprobs = self._step(group, feed, [[0] if f else [] for f in feed])
            steps += 1
            for d in drafts:
                d.last = logprobs[d.row.index][0]
        self._crop(group, steps)  # the answer is fed with the next ask's text

    # -- tokens --------------------------------------------------------------------------

    def _encode(self, text: str) -> list[int]:
        return list(self.lm.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode_many(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, in one call: for short chunks the per-call cost dominates."""
        encoded = self.lm.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [list(ids) for ids in encoded]

    def encode_transcript(self, text: str) -> list[int]:
        """Token ids of a whole transcript, as the model is fed it (leading BOS included)."""
        return self._prefix + self._encode(text)


def _groups(rows: list[_Row]) -> list[_Group]:
    """The distinct groups of ``rows``, in first-seen order."""
    seen: dict[int, _Group] = {}
    for r in rows:
        seen.setdefault(id(r.group), r.group)
    return list(seen.values())


def _common_start(chunks: list[list[int]]) -> int:
    """How many first tokens all ``chunks`` share."""
    first = chunks[0]
    n = min(len(c) for c in chunks)
    for c in chunks[1:]:
        n = next((k for k in range(n) if c[k] != first[k]), n)
    return n


def _free_text_done(text: str, eos: bool, n_tokens: int, max_chars: int) -> str | None:
    """The finished answer, or None while generation should go on."""
    if CLOSE in text:
        return text[:text.index(CLOSE)][:max_chars]
    if eos or len(text) >= max_chars or n_tokens >= max_chars:
        return text[:max_chars]
    return None


def special_prefix(tokenizer: Any) -> list[int]:
    """The special tokens (e.g. BOS) the tokenizer puts in front of a whole text."""
    plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    full = list(tokenizer("a")["input_ids"])
    for k in range(len(full) - len(plain) + 1):
        if full[k:k + len(plain)] == plain:
            return full[:k]
    return []
