#!/usr/bin/env python3
"""Writes a Hugging Face checkpoint shaped like Llama 3.2 1B, with random weights, for measuring
`pocketlm convert` at the size class phones run (issue: peak memory must stay near the largest
tensor, not the model).

  scripts/make_llama1b_checkpoint.py [OUT_DIR]     (default models/llama-3.2-1b-random-hf)

The configuration is Llama 3.2 1B's (16 layers of width 2048, 32 query and 8 KV heads, FFN 8192,
a 128,256-token vocabulary tied to the output, llama3 RoPE scaling), stored as F32 safetensors in
two shards with an index, 4.9 GB in all. The tokenizer is the tiny byte-level BPE of
tests/data/hf/llama3 (its ids fit the larger vocabulary; the rest of the ids are padding), so the
file converts and loads but says nothing meaningful. Needs numpy only; writes the safetensors
format directly, one tensor at a time, so this script's own memory stays near one tensor.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "mlp_bias": False,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 32.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
    "vocab_size": 128256,
    "bos_token_id": 526,
    "eos_token_id": 530,
}


def tensor_shapes(c):
    d, ff, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = c["head_dim"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    shapes = [("model.embed_tokens.weight", (v, d))]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes += [
            (p + "input_layernorm.weight", (d,)),
            (p + "self_attn.q_proj.weight", (q, d)),
            (p + "self_attn.k_proj.weight", (kv, d)),
            (p + "self_attn.v_proj.weight", (kv, d)),
            (p + "self_attn.o_proj.weight", (d, q)),
            (p + "post_attention_layernorm.weight", (d,)),
            (p + "mlp.gate_proj.weight", (ff, d)),
            (p + "mlp.up_proj.weight", (ff, d)),
            (p + "mlp.down_proj.weight", (d, ff)),
        ]
    shapes.append(("model.norm.weight", (d,)))
    return shapes


def write_shard(path, tensors, rng):
    header, offset = {}, 0
    for name, shape in tensors:
        n = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape in tensors:
            if name.endswith("norm.weight"):
                x = 1.0 + 0.05 * rng.standard_normal(shape, dtype=np.float32)
            else:
                x = 0.02 * rng.standard_normal(shape, dtype=np.float32)
            f.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
            print(f"\r{os.path.basename(path)}: {name:<48}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return offset


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models/llama-3.2-1b-random-hf")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    shapes = tensor_shapes(CONFIG)
    half = len(shapes) // 2
    shards = [shapes[:half], shapes[half:]]
    weight_map, total = {}, 0
    for i, part in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(os.path.join(out, name), part, rng)
        weight_map.update({t: name for t, _ in part})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    src = os.path.join(ROOT, "tests/data/hf/llama3")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, name), os.path.join(out, name))
    n_params = sum(int(np.prod(s)) for _, s in shapes)
    print(f"{out}: {n_params / 1e9:.3f} B parameters, {total / 2**30:.2f} GiB of F32 in "
          f"{len(shards)} shards")


if __name__ == "__main__":
    main()
