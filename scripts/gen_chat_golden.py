#!/usr/bin/env python3
"""Golden chat renderings for tests/unit/chat_template_test.cpp.

The reference is the real Jinja template rendered by Python's jinja2 in the environment that
Hugging Face transformers' apply_chat_template builds:
  - jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[jinja2.ext.loopcontrols])
  - filter `tojson` (json.dumps with ensure_ascii=False), globals `raise_exception(message)`
    (raises TemplateError) and `strftime_now(format)` (datetime.now().strftime(format)).
Here strftime_now formats a FIXED day (TODAY below) so the goldens are reproducible; the C++
test pins the same day with ChatTemplate::set_today().

Inputs:
  - every template of a supported family in ../shared/chat-templates/ (read in place, never
    copied: the JSON names the file and the test reads it from POCKETLM_SHARED_DIR);
  - the SmolLM2 template, read from models/SmolLM2-135M-Instruct.Q4_1.gguf with the `gguf`
    package (small, the model's own metadata: embedded in its JSON);
  - the Gemma 3 instruction-tuned template (tokenizer_config.json of the google/gemma-3-*-it
    models), written below as a string and embedded in its JSON.
Templates of the folder that pocketlm does not support are listed with "family": null; the test
checks that the recognizer rejects them.

Output: tests/data/chat/<template>.json, one per template:
  {"template_file": name or null, "template_source": text or null, "architecture": str,
   "family": pocketlm format name or null, "bos": str, "eos": str, "today": "YYYY-MM-DD",
   "cases": [{"name", "messages": [{"role", "content"}], "add_generation_prompt",
              "expected": rendered text or null, "error": jinja's message or null}]}

Usage: python3 scripts/gen_chat_golden.py [--shared ../shared] [--out tests/data/chat]
Needs: jinja2, gguf.
"""

import argparse
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TODAY = datetime.date(2025, 3, 7)

# Gemma 3 instruction-tuned chat template, as published in the models' tokenizer_config.json.
GEMMA3_TEMPLATE = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

# Template file in ../shared/chat-templates -> (pocketlm family or None, GGUF architecture,
# bos text, eos text). bos/eos are the special-token texts of each model's tokenizer_config.
SHARED_TEMPLATES = {
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("llama3", "llama", "<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct.jinja": ("llama3", "llama", "<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.3-70B-Instruct.jinja": ("llama3", "llama", "<|begin_of_text|>", "<|eot_id|>"),
    "microsoft-Phi-3.5-mini-instruct.jinja": ("phi3", "phi3", "<s>", "<|endoftext|>"),
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": ("mistral", "llama", "<s>", "</s>"),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("chatml", "qwen2", "", "<|im_end|>"),
    "google-gemma-2-2b-it.jinja": ("gemma", "gemma2", "<bos>", "<eos>"),
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja":
        ("deepseek-r1", "llama", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja":
        ("deepseek-r1", "qwen2", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "llama-cpp-deepseek-r1.jinja":
        ("deepseek-r1", "llama", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    # Tool-use templates (a model's secondary template) and families pocketlm does not render:
    # the recognizer must reject them rather than guess.
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja": (None, "command-r", "<BOS_TOKEN>", ""),
    "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja": (None, "cohere2", "<BOS_TOKEN>", ""),
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja": (None, "llama", "<|begin_of_text|>", ""),
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": (None, "llama", "<|begin_of_text|>", ""),
    "fireworks-ai-llama-3-firefunction-v2.jinja": (None, "llama", "<|begin_of_text|>", ""),
    "meetkai-functionary-medium-v3.1.jinja": (None, "llama", "<|begin_of_text|>", ""),
    "meetkai-functionary-medium-v3.2.jinja": (None, "llama", "<|begin_of_text|>", ""),
}

SYS = "You are a terse assistant."
THINK_REPLY = "<think>\nThe user wants a sum.\n</think>\n\nThe answer is 4."

# Conversations; each is rendered with and without the generation prompt.
CONVERSATIONS = [
    ("user_only", [("user", "Hello!")]),
    ("system_user", [("system", SYS), ("user", "What is 2+2?")]),
    ("multi_turn_system", [("system", SYS), ("user", "What is 2+2?"), ("assistant", "4"),
                           ("user", "And 3+3?")]),
    ("multi_turn_no_system", [("user", "Hi there"), ("assistant", "Hello! How can I help?"),
                              ("user", "Tell me a joke.")]),
    ("ends_with_assistant", [("system", SYS), ("user", "Ping"), ("assistant", "Pong")]),
    ("whitespace", [("system", "  Be brief.\n\n"), ("user", "  line one\nline two  \n"),
                    ("assistant", "\n answer \t"), ("user", " \u00a0next\u3000\r\n")]),
    ("unicode", [("user", "Grüße 👋 — 日本語? \"quotes\" and 'apostrophes' {{ not jinja }}")]),
    ("think_reply", [("user", "What is 2+2?"), ("assistant", THINK_REPLY), ("user", "Thanks")]),
    ("empty_contents", [("system", ""), ("user", ""), ("assistant", ""), ("user", "x")]),
    ("system_only", [("system", SYS)]),
    ("two_systems", [("system", "First system."), ("system", "Second system."), ("user", "Hi")]),
    ("system_after_user", [("user", "Hi"), ("system", "Late system."), ("user", "Again")]),
    ("system_second_turn", [("user", "Hi"), ("system", "Mid system.")]),
    ("user_user", [("user", "One"), ("user", "Two")]),
    ("starts_with_assistant", [("assistant", "I start."), ("user", "OK")]),
]


def strftime_now(fmt):
    return TODAY.strftime(fmt)


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render_cases(source, bos, eos):
    template = make_environment().from_string(source)
    cases = []
    for name, turns in CONVERSATIONS:
        messages = [{"role": r, "content": c} for r, c in turns]
        for add_gen in (True, False):
            case = {"name": f"{name}/{'gen' if add_gen else 'nogen'}", "messages": messages,
                    "add_generation_prompt": add_gen, "expected": None, "error": None}
            try:
                case["expected"] = template.render(messages=messages, add_generation_prompt=add_gen,
                                                   bos_token=bos, eos_token=eos)
            except jinja2.exceptions.TemplateError as e:
                case["error"] = str(e) or type(e).__name__
            cases.append(case)
    return cases


def smollm2_template():
    import gguf
    path = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    reader = gguf.GGUFReader(path)
    return reader.fields["tokenizer.chat_template"].contents()


def write(out_dir, stem, doc):
    path = os.path.join(out_dir, stem + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "chat"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    folder = os.path.join(args.shared, "chat-templates")

    docs = []
    for file_name, (family, arch, bos, eos) in sorted(SHARED_TEMPLATES.items()):
        path = os.path.join(folder, file_name)
        if not os.path.exists(path):
            sys.exit(f"missing template {path}")
        with open(path, encoding="utf-8") as f:
            source = f.read()
        cases = render_cases(source, bos, eos) if family else []
        docs.append((file_name[:-len(".jinja")],
                     {"template_file": file_name, "template_source": None}, family, arch, bos,
                     eos, cases))

    smol = smollm2_template()
    docs.append(("SmolLM2-135M-Instruct", {"template_file": None, "template_source": smol},
                 "chatml", "llama", "<|im_start|>", "<|im_end|>",
                 render_cases(smol, "<|im_start|>", "<|im_end|>")))
    docs.append(("google-gemma-3-it", {"template_file": None, "template_source": GEMMA3_TEMPLATE},
                 "gemma", "gemma3", "<bos>", "<eos>",
                 render_cases(GEMMA3_TEMPLATE, "<bos>", "<eos>")))

    for stem, where, family, arch, bos, eos, cases in docs:
        doc = dict(where)
        doc.update({"architecture": arch, "family": family, "bos": bos, "eos": eos,
                    "today": TODAY.isoformat(), "cases": cases})
        path = write(args.out, stem, doc)
        errors = sum(1 for c in cases if c["error"])
        print(f"{os.path.relpath(path, ROOT)}: {family or 'unsupported'}, {len(cases)} cases "
              f"({errors} raise)")


if __name__ == "__main__":
    main()
