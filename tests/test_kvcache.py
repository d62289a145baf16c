"""The in-place KV cache and grouped-query attention give the numbers transformers gives."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import AutoModelForCausalLM, DynamicCache  # noqa: E402
from transformers.cache_utils import DynamicLayer  # noqa: E402

from sbl.participants import models  # noqa: E402
from sbl.participants.kvcache import GROUPED_SDPA, GrowingCache, GrowingLayer  # noqa: E402


def _states(rng: torch.Generator, batch: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.randn(batch, 2, length, 8, generator=rng),
            torch.randn(batch, 2, length, 8, generator=rng))


def test_growing_layer_matches_dynamic_layer_through_updates_crops_and_selects():
    rng = torch.Generator().manual_seed(0)
    growing, dynamic = GrowingLayer(), DynamicLayer()
    # Enough slots to outgrow the first buffer twice; crops and row selection in between.
    for step, length in enumerate([5, 300, 1, 7, 600, 3]):
        keys, values = _states(rng, 4 if step < 3 else 3, length)
        got = growing.update(keys, values)
        want = dynamic.update(keys, values)
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
        assert growing.get_seq_length() == dynamic.get_seq_length()
        if step == 1:
            growing.crop(-17)
            dynamic.crop(-17)
        if step == 2:
            rows = torch.tensor([0, 2, 3])
            growing.batch_select_indices(rows)
            dynamic.batch_select_indices(rows)
    assert torch.equal(growing.keys, dynamic.keys)
    assert torch.equal(growing.values, dynamic.values)
    with pytest.raises(ValueError):
        growing.crop(3)


def test_grouped_attention_and_growing_cache_equal_transformers_on_ragged_rows(tiny_model_dir):
    """Two rows fed ragged chunks (right-padded, masked) through both stacks."""
    ours = models.load(str(tiny_model_dir), device="cpu")
    assert ours.model.config._attn_implementation == GROUPED_SDPA
    theirs = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), attn_implementation="sdpa")
    assert theirs.config.num_key_value_heads < theirs.config.num_attention_heads  # GQA
    rng = torch.Generator().manual_seed(1)
    caches = [(GrowingCache(), ours.model), (DynamicCache(), theirs)]
    mask = torch.zeros((2, 0), dtype=torch.long)
    for widths in [(9, 4), (1, 6), (5, 5), (3, 8)]:
        width = max(widths)
        ids = torch.randint(3, 300, (2, width), generator=rng)
        new = torch.tensor([[1] * w + [0] * (width - w) for w in widths])
        mask = torch.cat([mask, new], dim=1)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, -width:]
        outputs = []
        for cache, model in caches:
            with torch.inference_mode():
                out = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                            **{ours.cache_arg: cache}, use_cache=True)
            outputs.append(out.logits)
        real = new.bool()
        assert torch.allclose(outputs[0][real], outputs[1][real], atol=1e-5)
