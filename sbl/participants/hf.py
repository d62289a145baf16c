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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sbl.participants.base import CLOSE, MARK, Answer, Ask
from sbl.participants.models import LoadedModel


@dataclass
class Usage:
    """What a responder processed: tokens fed to the model and tokens of the final transcripts."""

    tokens_processed: int = 0
    transcript_tokens: int = 0
    participants: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.tokens_processed + other.tokens_processed,
                     self.transcript_tokens + other.transcript_tokens,
                     self.participants + other.participants)


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
        import transformers

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
        self._keep_2d = int(transformers.__version__.split(".")[0]) >= 5

    # -- the protocol ------------------------------------------------------------------

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Answer every ask (one per participant), advancing their rows together."""
        with self._torch.inference_mode():
            rows = self._rows_for(asks)
            spent = self._advance(rows, asks)
            scores = self._score_options(rows, asks, spent)
            texts = self._generate(rows, asks, spent)
        answers = []
        for i, (row, ask) in enumerate(zip(rows, asks, strict=True)):
            if ask.options is None:
                text, logprob = texts[i]
                answers.append(Answer(text, logprob, None, spent[i]))
            else:
                answers.append(self._choose(row, ask, scores[i], spent[i]))
        return answers

    def finish(self, participant: str, transcript: str) -> None:
        """Record the participant's totals and free its row of the cache."""
        row = self._rows.pop(participant, None)
        total = len(self._prefix) + len(self._encode(transcript))
        self._finished[participant] = Usage(row.processed if row else 0, total, 1)
        if row is not None:
            self._drop(row)

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
        from transformers import DynamicCache

        return DynamicCache()

    def _drop(self, row: _Row) -> None:
        """Remove a finished row from its group's cache (the others keep their state)."""
        group = row.group
        group.rows[row.index] = None
        live = [i for i, r in enumerate(group.rows) if r is not None]
        if not live:
            group.cache, group.mask = None, None
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
        chunks: dict[int, list[int]] = {}
        for row, ask in zip(rows, asks, strict=True):
            chunks[id(row)] = ids = self._chunk(row, ask.transcript)
            row.seen = ask.transcript
            row.fed.extend(ids)
            if ids:
                row.ends_with_mark = ids[-len(self._mark):] == self._mark
        for group in _groups(rows):
            feed = [chunks.get(id(r), []) if r else [] for r in group.rows]
            keep = [[len(c) - 1] if c else [] for c in feed]
            for r, lp in zip(group.rows, self._step(group, feed, keep), strict=True):
                if r is not None and lp is not None:
                    r.last = lp[0]
        spent = [len(chunks[id(r)]) for r in rows]
        for row, n in zip(rows, spent, strict=True):
            row.processed += n
        return spent

    def _chunk(self, row: _Row, transcript: str) -> list[int]:
        """Token ids of the text the row has not been fed yet."""
        if row.seen and not transcript.startswith(row.seen):
            self._forget(row, -1)  # the transcript changed under us: start this row afresh
            row.seen, row.last = "", None
        if not row.seen:
            return self._prefix + self._encode(transcript)
        new = transcript[len(row.seen):]
        if new and not (new[0].isalnum() or new[0].isspace()) and row.ends_with_mark:
            # Whole-text tokenisation would glue "<<" to this punctuation: re-feed " <<".
            self._forget(row, len(self._mark))
            new = MARK + new
        return self._encode(new)

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
        ids = torch.full((len(chunks), width), self._pad, dtype=torch.long)
        new = torch.zeros((len(chunks), width), dtype=torch.long)
        for i, c in enumerate(chunks):
            ids[i, :len(c)] = torch.tensor(c, dtype=torch.long)
            new[i, :len(c)] = 1
        mask = torch.cat([group.mask, new.to(self._device)], dim=1)
        # Pads do not count as positions, so each row's RoPE positions are its own.
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, -width:]
        most = max(1, max(len(k) for k in keep))
        where = torch.tensor([(k + k[-1:] * (most - len(k))) if k else [0] * most
                              for k in keep], dtype=torch.long, device=self._device)
        logits = self._forward(group, ids.to(self._device), mask, positions, where)
        group.mask = mask
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        return [logprobs[i, :len(k)] if k else None for i, k in enumerate(keep)]

    def _forward(self, group: _Group, ids: Any, mask: Any, positions: Any, where: Any) -> Any:
        """Logits (batch, positions kept, vocab), extending the group's cache in place."""
        kwargs = {self.lm.cache_arg: group.cache, "use_cache": True}
        if self._keep_2d:
            kwargs["logits_to_keep"] = where
        out = self.lm.model(input_ids=ids, attention_mask=mask, position_ids=positions, **kwargs)
        if self._keep_2d:
            return out.logits
        return self._torch.take_along_dim(out.logits, where[..., None], dim=1)

    def _crop(self, group: _Group, count: int) -> None:
        """Take the last ``count`` slots back out of the group's cache and mask."""
        if count > 0:
            group.cache.crop(-count)  # transformers 5 accepts only negative values
            group.mask = group.mask[:, :-count]

    # -- choices -------------------------------------------------------------------------

    def _option_ids(self, option: str) -> list[int]:
        """The option's tokens as they appear right after ``" <<"``."""
        if option not in self._option_cache:
            ids = self._encode(MARK + option)
            n = len(self._mark)
            self._option_cache[option] = (
                ids[n:] if ids[:n] == self._mark and len(ids) > n else self._encode(option))
        return self._option_cache[option]

    def _score_options(self, rows: list[_Row], asks: Sequence[Ask],
                       spent: list[int]) -> dict[int, dict[str, float]]:
        """Log-prob of each valid option for each choice ask (multi-token ones on the cache)."""
        scores: dict[int, dict[str, float]] = {}
        pending: dict[int, list[tuple[int, str, list[int]]]] = {}
        for i, (row, ask) in enumerate(zip(rows, asks, strict=True)):
            if ask.options is None:
                continue
            scores[i] = {}
            for option in ask.options:
                ids = self._option_ids(option)
                if len(ids) == 1:
                    scores[i][option] = float(row.last[ids[0]])
                else:
                    pending.setdefault(id(row), []).append((i, option, ids))
        for group in _groups(rows):
            self._score_multi(group, pending, scores, spent)
        return scores

    def _score_multi(self, group: _Group, pending: dict[int, list[tuple[int, str, list[int]]]],
                     scores: dict[int, dict[str, float]], spent: list[int]) -> None:
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
                scores[ask_index][option] = float(row.last[ids[0]]) + float(follow.sum())
                spent[ask_index] += len(ids) - 1
                row.processed += len(ids) - 1
            self._crop(group, max(len(c) for c in feed))

    def _choose(self, row: _Row, ask: Ask, scores: dict[str, float], tokens: int) -> Answer:
        """Sample among the valid options, renormalised, at the responder's temperature."""
        assert ask.options
        raw = np.array([scores[o] for o in ask.options], dtype=np.float64)
        pick = sample_index(raw, self.temperature, row.rng)
        firsts = {self._option_ids(o)[0] for o in ask.options}
        valid = float(sum(np.exp(float(row.last[t])) for t in firsts))
        chosen = raw[pick] - np.logaddexp.reduce(raw)
        scored = dict(zip(ask.options, raw.tolist(), strict=True))
        meta: dict[str, object] = {"option_logprobs": scored}
        return Answer(ask.options[pick], float(chosen), max(0.0, 1.0 - valid), tokens, meta)

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

    def encode_transcript(self, text: str) -> list[int]:
        """Token ids of a whole transcript, as the model is fed it (leading BOS included)."""
        return self._prefix + self._encode(text)


def _groups(rows: list[_Row]) -> list[_Group]:
    """The distinct groups of ``rows``, in first-seen order."""
    seen: dict[int, _Group] = {}
    for r in rows:
        seen.setdefault(id(r.group), r.group)
    return list(seen.values())


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


def participant_rng(seed: int, base: int = 0) -> np.random.Generator:
    """The RNG a participant samples with: its own seed, mixed with a run's ``base`` if any."""
    return np.random.default_rng(seed if base == 0 else [base & 0xFFFFFFFF, seed & 0xFFFFFFFF])


def sample_index(logprobs: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Draw an index from softmax(logprobs / temperature); argmax at temperature 0."""
    if temperature <= 0:
        return int(np.argmax(logprobs))
    z = np.asarray(logprobs, dtype=np.float64) / temperature
    p = np.exp(z - z.max())
    cumulative = np.cumsum(p / p.sum())
    return min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(p) - 1)
