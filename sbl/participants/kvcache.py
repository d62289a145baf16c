"""A KV cache that grows in place, and grouped-query attention without copies, for transformers.

Two costs of a batch of participants grow with their transcripts without being the model's
arithmetic (measured in ``benchmarks/bench_model.py``, they made batching slower than it
should be):

* transformers' ``DynamicCache`` appends each step's keys and values with ``torch.cat``, which
  copies the whole cache of every layer at every step. :class:`GrowingCache` keeps each layer
  in a buffer with room to spare (grown by half when full) and writes the new slots in
  place; the keys and values the model sees are views of its filled part.
* For models whose key/value heads are shared by several query heads (GQA: Llama 3, SmolLM2),
  transformers' SDPA path on CPU copies every layer's keys and values once per query head
  group (``repeat_kv``) whenever there is an attention mask, which a batch of ragged rows
  always has. ``torch``'s own ``scaled_dot_product_attention(..., enable_gqa=True)`` reads the
  shared heads as they are. :func:`use_grouped_attention` switches a CPU model to it.

Both change no number: the same keys, values and attention, only fewer copies.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AttentionInterface, DynamicCache
from transformers.cache_utils import Cache, DynamicLayer
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

GROUPED_SDPA = "sbl_grouped_sdpa"
_MIN_CAPACITY = 256


class GrowingLayer(DynamicLayer):
    """One layer's keys and values in buffers with spare room; ``keys``/``values`` are views."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None
        self._length = 0

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new slots after the filled ones; returns views of everything filled."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start, end = self._length, self._length + key_states.shape[-2]
        if self._buffers is None or end > self._buffers[0].shape[-2]:
            old = self._buffers or (None, None)
            self._buffers = (_grown(old[0], key_states, start, end),
                             _grown(old[1], value_states, start, end))
        keys, values = self._buffers
        keys[..., start:end, :] = key_states
        values[..., start:end, :] = value_states
        return self._set_length(end)

    def get_seq_length(self) -> int:
        return self._length if self.is_initialized else 0

    def crop(self, tokens_to_remove: int) -> None:
        """Forget the last ``-tokens_to_remove`` slots (they are overwritten by the next update)."""
        if tokens_to_remove > 0:
            raise ValueError("crop takes a negative count of slots to remove")
        if self.is_initialized and tokens_to_remove:
            self._set_length(self._length + tokens_to_remove)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the batch rows at ``indices``."""
        if self.is_initialized and self._buffers is not None:
            keys, values = self._buffers
            self._buffers = (keys[indices], values[indices])
            self._set_length(self._length)

    def repeat_rows(self, count: int) -> None:
        """Make the one batch row ``count`` rows, each with a copy of its keys and values."""
        if self.is_initialized and self._buffers is not None:
            keys, values = self._buffers
            self._buffers = (keys.repeat(count, 1, 1, 1), values.repeat(count, 1, 1, 1))
            self._set_length(self._length)

    def reset(self) -> None:
        self._buffers, self._length = None, 0
        super().reset()

    def _set_length(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Make ``keys`` and ``values`` the first ``length`` slots of the buffers."""
        assert self._buffers is not None
        self._length = length
        keys, values = (b[..., :length, :] for b in self._buffers)
        self.keys, self.values = keys, values
        return keys, values


def _grown(old: torch.Tensor | None, new: torch.Tensor, filled: int,
           needed: int) -> torch.Tensor:
    """A buffer shaped like ``new`` with room for ``needed`` slots and half as many again
    (so copies stay rare and memory at most 1.5 times the cache), holding the first
    ``filled`` slots of ``old``."""
    batch, heads, _, dim = new.shape
    buffer = new.new_empty((batch, heads, needed + max(_MIN_CAPACITY, needed // 2), dim))
    if old is not None and filled:
        buffer[..., :filled, :] = old[..., :filled, :]
    return buffer


class GrowingCache(DynamicCache):
    """A ``DynamicCache`` whose layers are :class:`GrowingLayer`."""

    def __init__(self) -> None:
        Cache.__init__(self, layer_class_to_replicate=GrowingLayer)

    def repeat_rows(self, count: int) -> None:
        """Make a one-row cache ``count`` rows that begin with the same keys and values."""
        for layer in self.layers:
            assert isinstance(layer, GrowingLayer)
            layer.repeat_rows(count)


def grouped_sdpa(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor,
                 value: torch.Tensor, attention_mask: torch.Tensor | None,
                 dropout: float = 0.0, scaling: float | None = None, **kwargs: Any,
                 ) -> tuple[torch.Tensor, None]:
    """transformers' attention signature on torch SDPA, shared key/value heads read in place."""
    # transformers drops an all-ones mask; then only causality is left to enforce.
    causal = attention_mask is None and query.shape[2] > 1
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling,
        is_causal=causal, enable_gqa=key.shape[1] != query.shape[1])
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(GROUPED_SDPA, grouped_sdpa)
ALL_MASK_ATTENTION_FUNCTIONS.register(GROUPED_SDPA, sdpa_mask)


def use_grouped_attention(model: Any, device: str) -> bool:
    """Switch a model on CPU from transformers' SDPA to :func:`grouped_sdpa`; True if it did.

    On CUDA transformers' own choice stays: there the fused kernels that take a mask do not
    take grouped heads, so copying the heads is the faster path.
    """
    config = getattr(model, "config", None)
    if device != "cpu" or getattr(config, "_attn_implementation", None) != "sdpa":
        return False
    model.set_attn_implementation(GROUPED_SDPA)
    return True
