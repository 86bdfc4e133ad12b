#!/usr/bin/env python3
"""Tiny random-weight Hugging Face checkpoints of each model family, with transformers' outputs.

For every family it writes tests/data/hf/<family>/:
  - config.json, *.safetensors (sharded with an index for mistral), tokenizer.json,
    tokenizer_config.json (and chat_template.jinja where transformers writes one): a checkpoint
    as save_pretrained() writes it, tiny (hidden 48-64, 2-3 blocks) and well under 1 MB;
  - golden.json: for each of >= 3 prompts, the Hugging Face tokenizer's ids, transformers' logits
    at the last (up to) 16 prompt positions (F32, base64 of little-endian float32, shape
    [n_pos, n_vocab], the first of them at position logits_first_pos) and a 32-token greedy
    continuation (argmax, with the gap between the top two logits at each step), plus
    tokenizer-only cases.

Weights are drawn with a fixed seed, standard deviation 0.3 and norm weights near 1, so that
greedy output depends on the context (with the usual 0.02 a tiny model repeats one token). They
are rounded to the storage type (bf16/f16/f32) before the reference runs, so the golden data is
exactly what the saved checkpoint computes.

The tokenizers are byte-level BPEs trained with `tokenizers` on tests/data/hf/corpus.txt, each
with its family's pre-tokenizer and special tokens: Llama 3's split regex (ignore_merges, BOS
added), Qwen2's split regex with NFC, and GPT-2's ByteLevel regex for the others.

Families: llama3 (llama3 RoPE scaling, tied embeddings), mistral (sliding window 16, sharded
checkpoint), qwen2 (q/k/v biases, vocabulary padded past the tokenizer), qwen3 (q/k norms,
head_dim != hidden/heads), phi3 (4K: fused qkv and gate_up), phi3-longrope (128K-style config:
LongRoPE short/long factors), mobilellm (MobileLLM layout with layer_sharing; its reference is a
plain Llama with every block duplicated).

Usage (torch, transformers, tokenizers and safetensors from PyPI, in a git-ignored venv):
  python3 -m venv .venv-hf && .venv-hf/bin/pip install -r scripts/requirements-hf.txt
  .venv-hf/bin/python scripts/gen_hf_tiny_models.py [--out tests/data/hf] [--only llama3,qwen2]

--random-1b DIR instead writes a checkpoint shaped like Llama 3.2 1B (F32 safetensors, about
5 GB, random weights, the tiny llama3 tokenizer padded to 128256 ids) with numpy alone, for
measuring the converter's memory on a real-sized model:
  python3 scripts/gen_hf_tiny_models.py --random-1b /tmp/llama-1b
  /usr/bin/time -v build/pocketlm convert /tmp/llama-1b -o /tmp/llama-1b.f16.gguf --type f16
"""
import argparse
import base64
import copy
import json
import os
import shutil
import sys

import numpy as np

try:
    import torch
except ImportError:  # --random-1b needs numpy only
    torch = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_PREDICT = 32
N_LOGIT_POSITIONS = 16  # the golden file keeps the logits of the last positions of each prompt
TRAIN_VOCAB = 640

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TEMPLATES = {
    "llama3": (
        "{{- bos_token }}{%- for m in messages %}"
        "{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}"
        "{%- endfor %}{%- if add_generation_prompt %}"
        "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"),
    "chatml": (
        "{%- for m in messages %}{{- '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
        "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"),
    "mistral": (
        "{{- bos_token }}{%- for m in messages %}{%- if m['role'] == 'user' %}"
        "{{- '[INST] ' + m['content'] + ' [/INST]' }}{%- else %}{{- ' ' + m['content'] + eos_token }}"
        "{%- endif %}{%- endfor %}"),
    "phi3": (
        "{%- for m in messages %}{{- '<|' + m['role'] + '|>\\n' + m['content'] + '<|end|>\\n' }}"
        "{%- endfor %}{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- else %}"
        "{{- eos_token }}{%- endif %}"),
}

PLAIN = "The lighthouse keeper wrote in her log every evening."
SHORT = "A small model runs on a phone and reads"
LONG = ("In the spring the orchard flowered early. Bees worked the rows of apple trees from dawn "
        "until the light went amber, and the farmer counted blossoms in her notebook: row four, "
        "tree nine, 120 flowers; row five, tree two, 87 flowers. The train left the station at "
        "08:45 and arrived at 11:20, two minutes late, and a child by the window counted the "
        "bridges: one, two, three, four.")
CHAT = [{"role": "user", "content": "What is the capital of France?"}]
TOKENIZE_CASES = [
    "Hello world! It's 2024, isn't it?",
    "numbers 1 12 123 1234 12345 3.14159",
    "  leading spaces,\ttabs\nand\n\nnew lines   ",
    "café élève garçon über ¿dónde? 🙂🚀",
    "def f(x):\n    return x * 2  # comment",
]


def tok_common(tok, bos, eos, pad=None, unk=None):
    return dict(bos=bos, eos=eos, pad=pad, unk=unk)


# Each family: the config class and its settings, how the tokenizer is built, what is stored.
FAMILIES = {
    "llama3": dict(
        model="llama", architecture="LlamaForCausalLM", storage="bfloat16", seed=1,
        tokenizer=dict(style="llama3", specials_front=[],
                       specials_back=["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                      "<|end_header_id|>", "<|eot_id|>"],
                       bos="<|begin_of_text|>", eos="<|eot_id|>", add_bos=True, template="llama3"),
        config=dict(hidden_size=64, intermediate_size=192, num_hidden_layers=3, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, max_position_embeddings=1024,
                    rms_norm_eps=1e-5, tie_word_embeddings=True,
                    rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                     "original_max_position_embeddings": 64}),
        gguf_arch="llama"),
    "mistral": dict(
        model="mistral", architecture="MistralForCausalLM", storage="float16", seed=2,
        shard="60KB",
        tokenizer=dict(style="gpt2", specials_front=["<unk>", "<s>", "</s>", "[INST]", "[/INST]"],
                       specials_back=[], bos="<s>", eos="</s>", unk="<unk>", add_bos=True,
                       template="mistral"),
        config=dict(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, max_position_embeddings=4096,
                    rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=16,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        gguf_arch="llama"),
    "qwen2": dict(
        model="qwen2", architecture="Qwen2ForCausalLM", storage="bfloat16", seed=3,
        pad_vocab_to=64,
        tokenizer=dict(style="qwen2", specials_front=[],
                       specials_back=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                       bos=None, eos="<|im_end|>", pad="<|endoftext|>", add_bos=False,
                       template="chatml"),
        config=dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, use_sliding_window=False,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        gguf_arch="qwen2"),
    "qwen3": dict(
        model="qwen3", architecture="Qwen3ForCausalLM", storage="bfloat16", seed=4,
        tokenizer=dict(style="qwen2", specials_front=[],
                       specials_back=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                       bos=None, eos="<|im_end|>", pad="<|endoftext|>", add_bos=False,
                       template="chatml"),
        config=dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=32, max_position_embeddings=40960,
                    rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        gguf_arch="qwen3"),
    "phi3": dict(
        model="phi3", architecture="Phi3ForCausalLM", storage="float16", seed=5,
        tokenizer=dict(style="gpt2",
                       specials_front=["<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>",
                                       "<|user|>", "<|assistant|>", "<|end|>"],
                       specials_back=[], bos="<s>", eos="<|end|>", unk="<unk>",
                       pad="<|endoftext|>", add_bos=True, template="phi3",
                       rstrip=["</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]),
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=4096,
                    original_max_position_embeddings=4096, rms_norm_eps=1e-5,
                    tie_word_embeddings=False, sliding_window=2047,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        gguf_arch="phi3"),
    "phi3-longrope": dict(
        model="phi3", architecture="Phi3ForCausalLM", storage="float16", seed=6,
        tokenizer=dict(style="gpt2",
                       specials_front=["<unk>", "<s>", "</s>", "<|endoftext|>", "<|system|>",
                                       "<|user|>", "<|assistant|>", "<|end|>"],
                       specials_back=[], bos="<s>", eos="<|end|>", unk="<unk>",
                       pad="<|endoftext|>", add_bos=True, template="phi3",
                       rstrip=["</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]),
        # 128K-style: max/original positions 4, LongRoPE factors per rotary frequency (8 here),
        # short ones near 1 and long ones growing with the wavelength, as in Phi-3-mini-128k.
        # The original context is 256 because llama.cpp rounds contexts up to 256 tokens, and
        # it picks the factors by context size: its comparison needs both sides reachable.
        config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=1024,
                    original_max_position_embeddings=256, rms_norm_eps=1e-5,
                    tie_word_embeddings=False, sliding_window=262144,
                    rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0,
                                     "short_factor": [1.0, 1.02, 1.05, 1.1, 1.2, 1.35, 1.5, 1.7],
                                     "long_factor": [1.0, 1.25, 1.8, 2.6, 3.9, 5.7, 8.3, 12.0]}),
        gguf_arch="phi3"),
    "mobilellm": dict(
        model="mobilellm", architecture="MobileLLMForCausalLM", storage="float32", seed=7,
        tokenizer=dict(style="gpt2", specials_front=["<unk>", "<s>", "</s>"], specials_back=[],
                       bos="<s>", eos="</s>", unk="<unk>", add_bos=True, template=None),
        # Stored blocks; the reference runs each twice in a row (layer_sharing).
        config=dict(hidden_size=48, intermediate_size=128, num_hidden_layers=3, num_attention_heads=3,
                    num_key_value_heads=1, head_dim=16, max_position_embeddings=2048,
                    rms_norm_eps=1e-5, tie_word_embeddings=True,
                    rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        gguf_arch="llama"),
}


def build_tokenizer(spec, corpus, vocab_size):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    style = spec["style"]
    tok = Tokenizer(models.BPE(ignore_merges=(style == "llama3")))
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        regex = LLAMA3_REGEX if style == "llama3" else QWEN2_REGEX
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    if style == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()
    # Phi-3's tokenizer strips the whitespace after its chat tokens (rstrip); GGUF has no field
    # for that, and runtimes derive it from the model's name, as llama.cpp does.
    rstrip = set(spec.get("rstrip", []))
    front = [AddedToken(t, special=True, normalized=False, rstrip=t in rstrip)
             for t in spec["specials_front"]]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=front,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  min_frequency=2, show_progress=False)
    tok.train_from_iterator(corpus.splitlines(), trainer)
    if spec["specials_back"]:
        tok.add_special_tokens(spec["specials_back"])
    steps = [processors.ByteLevel(trim_offsets=False)]
    if spec.get("add_bos"):
        bos = spec["bos"]
        steps.append(processors.TemplateProcessing(
            single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
            special_tokens=[(bos, tok.token_to_id(bos))]))
    tok.post_processor = processors.Sequence(steps)
    kwargs = {k: spec.get(k) for k in ("bos", "eos", "pad", "unk") if spec.get(k)}
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, **{f"{k}_token": v for k, v in kwargs.items()})
    if spec.get("template"):
        hf.chat_template = TEMPLATES[spec["template"]]
    return hf


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def storage_dtype(fam):
    return getattr(torch, fam["storage"])


def round_to(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def make_model(name, fam, vocab_size, tokenizer):
    import transformers

    cfg = dict(fam["config"])
    cfg["vocab_size"] = vocab_size
    for key in ("bos", "eos", "pad"):
        token = fam["tokenizer"].get(key)
        if token is not None:
            cfg[f"{key}_token_id"] = tokenizer.convert_tokens_to_ids(token)
    if fam["model"] == "mobilellm":
        # The reference: a plain Llama whose blocks 2i and 2i+1 are the same stored block i.
        stored = cfg["num_hidden_layers"]
        cfg["num_hidden_layers"] = 2 * stored
        config = transformers.LlamaConfig(**cfg)
    else:
        config = getattr(transformers, fam["architecture"].replace("ForCausalLM", "Config"))(**cfg)
    config._attn_implementation = "eager"
    cls = transformers.LlamaForCausalLM if fam["model"] == "mobilellm" else getattr(transformers, fam["architecture"])
    torch.manual_seed(fam["seed"])
    model = cls(config).to(torch.float32)
    init_weights(model, fam["seed"])
    if fam["model"] == "mobilellm":
        with torch.no_grad():
            for i in range(stored):
                src = model.model.layers[2 * i].state_dict()
                model.model.layers[2 * i + 1].load_state_dict(src)
    round_to(model, storage_dtype(fam))
    model.eval()
    return model


def save_mobilellm(model, fam, out_dir):
    from safetensors.torch import save_file

    cfg = model.config.to_dict()
    stored = cfg["num_hidden_layers"] // 2
    tensors = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight":
            continue  # share_embedding
        if k.startswith("model.layers."):
            parts = k.split(".")
            layer = int(parts[2])
            if layer % 2 == 1:
                continue
            parts[2] = str(layer // 2)
            k = ".".join(parts)
        tensors[k] = v.to(storage_dtype(fam)).contiguous()
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["MobileLLMForCausalLM"],
        "model_type": "mobilellm",
        "hidden_size": cfg["hidden_size"],
        "intermediate_size": cfg["intermediate_size"],
        "num_hidden_layers": stored,
        "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "head_dim": cfg["head_dim"],
        "hidden_act": "silu",
        "max_position_embeddings": cfg["max_position_embeddings"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_theta": cfg["rope_parameters"]["rope_theta"],
        "rope_scaling": None,
        "vocab_size": cfg["vocab_size"],
        "bos_token_id": cfg["bos_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "share_embedding": True,
        "layer_sharing": True,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def b64_f32(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def run_prompt(model, ids):
    """Logits at every prompt position, then a greedy continuation through the KV cache."""
    with torch.no_grad():
        out = model(torch.tensor([ids]), use_cache=True)
        logits = out.logits[0].to(torch.float32).numpy()
        past = out.past_key_values
        last = out.logits[0, -1].to(torch.float32)
        greedy, gaps = [], []
        for _ in range(N_PREDICT):
            top2 = torch.topk(last, 2)
            nxt = int(torch.argmax(last))
            greedy.append(nxt)
            gaps.append(float(top2.values[0] - top2.values[1]))
            out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            last = out.logits[0, -1].to(torch.float32)
    return logits, greedy, gaps


def prompts_for(name, fam, tok):
    spec = fam["tokenizer"]
    cases = [("plain", PLAIN, True)]
    if spec.get("template"):
        text = tok.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
        cases.append(("chat", text, False))
    else:
        cases.append(("short", SHORT, True))
    cases.append(("long", LONG, True))
    if fam["config"].get("rope_parameters", {}).get("rope_type") == "longrope":
        cases.append(("longest", LONG + " " + LONG, True))  # past the original context
    return cases


def generate(name, fam, out_root, corpus):
    import tokenizers
    import transformers

    out_dir = os.path.join(out_root, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    tok = build_tokenizer(fam["tokenizer"], corpus, vocab_size=TRAIN_VOCAB)
    n_tok = len(tok)
    vocab_size = n_tok
    if fam.get("pad_vocab_to"):
        m = fam["pad_vocab_to"]
        vocab_size = (n_tok + m - 1) // m * m + m  # past the tokenizer, as Qwen pads its vocab
    model = make_model(name, fam, vocab_size, tok)

    if fam["model"] == "mobilellm":
        save_mobilellm(model, fam, out_dir)
    else:
        model.config.architectures = [fam["architecture"]]
        kwargs = {"max_shard_size": fam["shard"]} if fam.get("shard") else {}
        # A copy is cast for saving: casting the model itself would round its RoPE buffers too.
        copy.deepcopy(model).to(storage_dtype(fam)).save_pretrained(out_dir, **kwargs)
        # The reference is the checkpoint as a user loads it, in F32.
        model = getattr(transformers, fam["architecture"]).from_pretrained(
            out_dir, dtype=torch.float32, attn_implementation="eager")
        model.eval()
    tok.save_pretrained(out_dir)

    # Reload the tokenizer as a user would, so the ids come from the saved files.
    tok = transformers.AutoTokenizer.from_pretrained(out_dir)
    golden = {
        "family": name,
        "hf_architecture": fam["architecture"],
        "gguf_arch": fam["gguf_arch"],
        "storage_dtype": fam["storage"],
        "n_vocab": vocab_size,
        "generator": {"transformers": transformers.__version__, "torch": torch.__version__,
                      "tokenizers": tokenizers.__version__},
        "prompts": [],
        "tokenize": [],
    }
    cfg = fam["config"]
    if cfg.get("sliding_window") and fam["model"] == "mistral":
        golden["sliding_window"] = cfg["sliding_window"]
    if fam["model"] == "mobilellm":
        golden["block_repeat_count"] = 2
    rope = cfg.get("rope_parameters", {})
    golden["rope_type"] = rope.get("rope_type", "default")
    for pname, text, add_special in prompts_for(name, fam, tok):
        ids = tok(text, add_special_tokens=add_special)["input_ids"]
        logits, greedy, gaps = run_prompt(model, ids)
        first = max(0, len(ids) - N_LOGIT_POSITIONS)
        kept = logits[first:]
        entry = {"name": pname, "text": text, "add_special_tokens": add_special, "ids": ids,
                 "logits_first_pos": first, "logits_shape": list(kept.shape),
                 "logits_f32_b64": b64_f32(kept),
                 "greedy": greedy, "greedy_gaps": [round(g, 6) for g in gaps],
                 "greedy_text": tok.decode(greedy)}
        total = len(ids) + N_PREDICT
        if golden["rope_type"] == "longrope":
            orig = cfg["original_max_position_embeddings"]
            # transformers picks the factors from the sequence length; every prompt here stays on
            # one side of the original context for its whole continuation.
            if len(ids) > orig:
                entry["rope_factors"] = "long"
                entry["n_ctx"] = 2 * orig
            elif total <= orig:
                entry["rope_factors"] = "short"
                entry["n_ctx"] = orig
            else:
                raise SystemExit(f"{name}/{pname}: {len(ids)} + {N_PREDICT} tokens cross the original context {orig}")
        else:
            entry["n_ctx"] = 256
        golden["prompts"].append(entry)
    for text in TOKENIZE_CASES:
        golden["tokenize"].append({"text": text, "ids": tok(text, add_special_tokens=False)["input_ids"]})
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(out_dir, p)) for p in os.listdir(out_dir))
    print(f"{name}: vocab {vocab_size} ({n_tok} tokens), {size / 1024:.0f} KiB in {out_dir}")
    for p in golden["prompts"]:
        print(f"  {p['name']}: {len(p['ids'])} ids -> {p['greedy_text']!r} (min gap {min(p['greedy_gaps']):.4f})")


LLAMA_1B = dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                num_attention_heads=32, num_key_value_heads=8, head_dim=64, vocab_size=128256)


def write_random_1b(out_dir):
    """A Llama 3.2 1B-shaped F32 checkpoint, written tensor by tensor (never all in memory)."""
    c = LLAMA_1B
    os.makedirs(out_dir, exist_ok=True)
    E, F, V, D = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * D, c["num_key_value_heads"] * D
    shapes = {"model.embed_tokens.weight": [V, E], "model.norm.weight": [E]}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": [E], p + "post_attention_layernorm.weight": [E],
            p + "self_attn.q_proj.weight": [q, E], p + "self_attn.k_proj.weight": [kv, E],
            p + "self_attn.v_proj.weight": [kv, E], p + "self_attn.o_proj.weight": [E, q],
            p + "mlp.gate_proj.weight": [F, E], p + "mlp.up_proj.weight": [F, E],
            p + "mlp.down_proj.weight": [E, F]})
    header, offset = {}, 0
    for name in sorted(shapes):
        n = int(np.prod(shapes[name])) * 4
        header[name] = {"dtype": "F32", "shape": shapes[name], "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header).encode()
    rng = np.random.default_rng(0)
    with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        for name in sorted(shapes):
            left = int(np.prod(shapes[name]))
            while left > 0:
                k = min(left, 1 << 24)
                f.write((rng.standard_normal(k, dtype=np.float32) * 0.02).astype("<f4").tobytes())
                left -= k
    tiny = os.path.join(ROOT, "tests", "data", "hf", "llama3")
    added = {a["content"]: a["id"] for a in json.load(open(os.path.join(tiny, "tokenizer.json")))["added_tokens"]}
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **c,
              "hidden_act": "silu", "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
              "tie_word_embeddings": True, "bos_token_id": added["<|begin_of_text|>"],
              "eos_token_id": added["<|eot_id|>"],
              "rope_theta": 500000.0,
              "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(os.path.join(tiny, name), out_dir)
    print(f"{out_dir}: {offset / 2**30:.2f} GiB of F32 weights")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "hf"))
    ap.add_argument("--only", default="", help="comma-separated families")
    ap.add_argument("--random-1b", default="", metavar="DIR",
                    help="write a Llama 3.2 1B-shaped random F32 checkpoint to DIR instead")
    args = ap.parse_args()
    if args.random_1b:
        return write_random_1b(args.random_1b)
    torch.set_num_threads(2)
    with open(os.path.join(ROOT, "tests", "data", "hf", "corpus.txt"), encoding="utf-8") as f:
        corpus = f.read()
    names = [n for n in FAMILIES if not args.only or n in args.only.split(",")]
    for name in names:
        generate(name, FAMILIES[name], args.out, corpus)


if __name__ == "__main__":
    sys.exit(main())
