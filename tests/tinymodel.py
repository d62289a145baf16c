"""A tiny random-weight Llama and LoRA adapter, built and saved by the tests themselves.

The model goes through the real ``save_pretrained`` / ``from_pretrained(dir,
local_files_only=True)`` path, so the loading code is exercised without any download. Its
byte-level BPE tokenizer is trained on Psych-101-style bandit text, so that (as with Llama-3)
``" <<"`` and ``">>"`` are single tokens and a capital letter after ``" <<"`` is one token.
"""

from __future__ import annotations

import random
from pathlib import Path

BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLOURS = ("orange", "blue", "green", "red", "purple", "yellow")

INSTRUCTIONS = (
    "You are participating in multiple games involving two slot machines, labeled {a} and {b}.\n"
    "Each time you choose a slot machine, you get some points.\n"
    "You choose a slot machine by pressing the corresponding key.\n"
    "Your goal is to choose the slot machines that will give you the most points.\n\n"
)


def bandit_trial(a: str, b: str, choice: str, points: int, colours: tuple[str, str]) -> str:
    """One Psych-101 bandit line, ending in a newline."""
    return (f"Machine {a} is {colours[0]} and machine {b} is {colours[1]}. "
            f"You press <<{choice}>> and get {points} points.\n")


def bandit_text(rng: random.Random, trials: int) -> str:
    """A whole made-up bandit session in the Psych-101 format."""
    a, b = rng.sample(LETTERS, 2)
    lines = [INSTRUCTIONS.format(a=a, b=b)]
    for _ in range(trials):
        colours = tuple(rng.sample(COLOURS, 2))
        lines.append(bandit_trial(a, b, rng.choice((a, b)), rng.randint(0, 99), colours))
    return "".join(lines)


def _train_tokenizer():  # -> transformers.PreTrainedTokenizerFast
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = [bandit_text(rng, 20) for _ in range(60)]
    # Llama-3's trap: " <<-" is one token, so a response starting with "-" swallows the marker.
    corpus += [f"You bet <<-{rng.randint(1, 9)}>> points.\n" * 3 for _ in range(60)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    # Like Llama-3: one BOS in front of every encoded text, nothing at the end.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", special_tokens=[(BOS, tok.token_to_id(BOS))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS)


def build_tiny_model(path: str | Path) -> Path:
    """Write a tiny random Llama (hidden 64, 2 layers, GQA 4/2 heads) and tokenizer to ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    if (path / "config.json").exists():
        return path
    tokenizer = _train_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    # Larger-than-default weights so the output distribution is far from uniform and
    # differences between options (and bugs) show up in the log-probs.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.2)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_adapter(path: str | Path, base: str | Path) -> Path:
    """Write a rank-8 rsLoRA adapter on every attention and MLP projection of ``base``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if (path / "adapter_config.json").exists():
        return path
    model = AutoModelForCausalLM.from_pretrained(str(base), local_files_only=True)
    config = LoraConfig(
        r=8, lora_alpha=8, use_rslora=True, lora_dropout=0.0, task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                        "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(model, config)
    torch.manual_seed(1)
    # LoRA's B starts at zero (a no-op adapter); make it non-zero so the adapter matters.
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.5)
    peft_model.save_pretrained(path)
    AutoTokenizer.from_pretrained(str(base), local_files_only=True).save_pretrained(path)
    return path


# The tiny Llama's weights under llama.cpp's tensor names (convert_hf_to_gguf.py, LlamaModel).
GGUF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight"}
GGUF_LAYER_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def _permute(weights, heads: int):  # -> numpy.ndarray
    """llama.cpp's row order for q and k (rotary halves interleaved); transformers undoes it."""
    rows = weights.shape[0]
    return (weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def build_tiny_gguf(path: str | Path, model_dir: str | Path) -> Path:
    """Write the tiny Llama in ``model_dir`` as a float32 GGUF file at ``path``, as llama.cpp's
    converter would: its hyper-parameters, byte-level BPE vocabulary and merges, and weights."""
    import json

    import gguf
    from safetensors.numpy import load_file

    path, model_dir = Path(path), Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    vocab = json.loads((model_dir / "tokenizer.json").read_text())["model"]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_freq_base(config.get("rope_theta") or
                              config.get("rope_parameters", {}).get("rope_theta", 10000.0))
    writer.add_vocab_size(config["vocab_size"])
    tokens = sorted(vocab["vocab"], key=vocab["vocab"].__getitem__)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in (BOS, EOS) else 1 for t in tokens])  # 3: control
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in vocab["merges"]])
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_add_bos_token(True)
    for name, weights in sorted(load_file(str(model_dir / "model.safetensors")).items()):
        if name.endswith(("q_proj.weight", "k_proj.weight")):
            weights = _permute(weights, config["num_attention_heads" if "q_proj" in name
                                               else "num_key_value_heads"])
        writer.add_tensor(_gguf_name(name), weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _gguf_name(name: str) -> str:
    """llama.cpp's name for a transformers Llama weight."""
    if name in GGUF_NAMES:
        return GGUF_NAMES[name]
    _, _, layer, rest = name.split(".", 3)  # model.layers.N.<module>.weight
    return f"blk.{layer}.{GGUF_LAYER_NAMES[rest.removesuffix('.weight')]}.weight"
