"""What the installed transformers lets a model's forward do, found by trying it once at load.

The participant asks the forward for logits at a few positions per row only (a vocabulary row
costs ``batch × positions × vocab`` floats, 128k wide for Llama 3). Releases differ in what
``logits_to_keep`` takes, and not by version number alone (5.17, which GPU images ship, fails
on a 2-D index with "Index tensor must have the same number of dimensions as input tensor"):

* ``"2d"``: a (batch, k) tensor, a different k positions per row;
* ``"1d"``: a 1-D tensor of positions, the same for every row (the union is asked for);
* ``"none"``: no ``logits_to_keep``; every position's logits come back and are picked after.

:func:`keep_mode` runs the model on two rows of three tokens and checks each form's logits
against the full forward's, so a release that accepts a form but means something else by it is
not trusted either. The probe costs three small forward passes (half a second for smollm2 on
two cores), so :func:`remembered_keep_mode` keeps its answer in the model cache, keyed by all
it depends on: the transformers and torch releases, the model's class, device type, dtype and
quantisation.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

KEEP_MODES = ("2d", "1d", "none")


def keep_mode(model: Any, device: Any) -> str:
    """The best form of ``logits_to_keep`` this model's forward computes correctly."""
    import torch

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    if "logits_to_keep" not in inspect.signature(inner.forward).parameters:
        return "none"
    ids = torch.tensor([[1, 2, 3], [3, 2, 1]], dtype=torch.long, device=device)
    where = torch.tensor([[2, 0], [1, 1]], dtype=torch.long, device=device)
    with torch.inference_mode():
        full = model(input_ids=ids, use_cache=False).logits.float()
        if _agrees(model, ids, where, torch.take_along_dim(full, where[..., None], dim=1)):
            return "2d"
        union = torch.tensor([0, 2], dtype=torch.long, device=device)
        if _agrees(model, ids, union, full[:, union]):
            return "1d"
    return "none"


def remembered_keep_mode(model: Any, device: Any) -> str:
    """:func:`keep_mode`, probed once per installed release and kind of model, then read from
    the cache (:func:`sbl.participants.modelcache.remembered`)."""
    from sbl.participants.modelcache import remembered

    return remembered("probes", f"logits_to_keep {probe_key(model, device)}",
                      lambda: keep_mode(model, device))


def probe_key(model: Any, device: Any) -> str:
    """What decides how a model's forward takes ``logits_to_keep``, as one string."""
    import torch
    import transformers

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    kind = type(inner)
    weight = next(inner.parameters(), None)
    quantized = getattr(getattr(inner, "config", None), "quantization_config", None)
    method = getattr(quantized, "quant_method", None) or (
        quantized.get("quant_method") if isinstance(quantized, dict) else None)
    return " ".join(str(part) for part in (
        f"transformers={transformers.__version__}", f"torch={torch.__version__}",
        f"{kind.__module__}.{kind.__qualname__}", f"device={torch.device(device).type}",
        f"dtype={getattr(weight, 'dtype', None)}", f"quantized={method}"))


def _agrees(model: Any, ids: Any, keep: Any, expected: Any) -> bool:
    """Whether the forward with ``logits_to_keep=keep`` gives ``expected`` (and does not fail)."""
    import torch

    try:
        got = model(input_ids=ids, use_cache=False, logits_to_keep=keep).logits.float()
    except (RuntimeError, IndexError, TypeError, ValueError):
        return False
    # Loose enough for bfloat16 matmuls of other shapes; a wrong position is off by far more.
    return got.shape == expected.shape and bool(torch.allclose(got, expected, atol=0.1,
                                                                rtol=0.02))


def kept_logits(forward: Callable[..., Any], keep: list[list[int]], mode: str,
                device: Any) -> Any:
    """``forward(**kwargs)``'s logits at each row's ``keep`` positions, (batch, most kept,
    vocab), asked for in the form ``mode`` allows; rows keeping fewer repeat their last."""
    import torch

    most = max(1, max(len(k) for k in keep))
    where = [(k + k[-1:] * (most - len(k))) if k else [0] * most for k in keep]
    kwargs = {}
    if mode == "2d":
        kwargs["logits_to_keep"] = torch.tensor(where, device=device)
    elif mode == "1d":  # the union of every row's positions, then each row's picked out
        union = sorted({p for w in where for p in w})
        kwargs["logits_to_keep"] = torch.tensor(union, device=device)
        place = {p: i for i, p in enumerate(union)}
        where = [[place[p] for p in w] for w in where]
    logits = forward(**kwargs).logits
    if mode == "2d":
        return logits
    index = torch.tensor(where, device=logits.device)
    return torch.take_along_dim(logits, index[..., None], dim=1)
