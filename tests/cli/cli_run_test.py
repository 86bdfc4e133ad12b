#!/usr/bin/env python3
"""End-to-end tests of `pocketlm run` and `pocketlm chat`: the real binary on the real model
(ctest label: e2e).

Each case is one ctest (tests/cli/tests.cmake passes --case NAME); without --case every case
runs. The model is SmolLM2-135M-Instruct Q4_1; when it is missing the script exits 77, which
ctest reports as skipped. Runs are kept to a handful of tokens so the suite stays quick, also
under ASan.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

SKIP = 77
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STATS_RE = re.compile(
    r"^pocketlm: prompt \d+ tok( \(\+\d+ reused\))?, [\d.]+ tok/s \| generated \d+ tok, "
    r"[\d.]+ tok/s \| ttft \d+ ms \| load \d+ ms \| peak RSS \d+ MiB \| KV [\d.]+ MiB$")
PARIS_PROMPT = "The capital of France is"


class Failed(Exception):
    pass


class Ctx:
    def __init__(self, pocketlm: str, model: str, golden: str, workdir: str) -> None:
        self.pocketlm = os.path.abspath(pocketlm)
        self.golden = golden
        self.model = os.path.abspath(model)
        self.workdir = workdir

    def run(self, args: list[str], stdin: str | None = None, env: dict | None = None,
            cwd: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        p = subprocess.run([self.pocketlm] + args, input=stdin, capture_output=True, text=True,
                           env=env, cwd=cwd, timeout=timeout)
        print(f"$ pocketlm {' '.join(args)}\n  -> exit {p.returncode}, "
              f"stdout {p.stdout!r:.300}, stderr {p.stderr!r:.300}")
        return p

    def gen(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        """`pocketlm run -m MODEL ARGS` that must succeed."""
        p = self.run(["run", "-m", self.model] + args, **kw)
        check(p.returncode == 0, f"run exited {p.returncode}: {p.stderr}")
        return p


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


def check_stats_line(stderr: str) -> None:
    lines = stderr.splitlines()
    check(len(lines) >= 1 and STATS_RE.match(lines[-1]) is not None,
          f"the last stderr line is not the statistics line: {stderr!r}")


def jsonl(stdout: str) -> tuple[list[dict], dict]:
    """The token objects and the final object of `--format jsonl` output."""
    objs = [json.loads(line) for line in stdout.splitlines()]
    check(len(objs) >= 1, "no jsonl output")
    tokens, end = objs[:-1], objs[-1]
    for t in tokens:
        check(set(t) == {"id", "text", "logprob"}, f"unexpected token object {t}")
        check(isinstance(t["id"], int) and isinstance(t["text"], str), f"bad types in {t}")
        check(t["logprob"] is None or t["logprob"] <= 0, f"log-probability above 0 in {t}")
    check(set(end) == {"stop", "stats"}, f"unexpected final object {end}")
    return tokens, end


# ------------------------------------------------------------------------------------ cases

def case_greedy(c: Ctx) -> None:
    p = c.gen(["-p", PARIS_PROMPT, "-n", "8", "--temp", "0"])
    check(p.stdout.startswith(" Paris"), f"greedy continuation does not start with ' Paris'")
    check(p.stdout.endswith("\n"), "text output does not end with a newline")
    check(len(p.stderr.splitlines()) == 1, f"expected only the statistics on stderr: {p.stderr!r}")
    check_stats_line(p.stderr)
    # --temp 0 is greedy whatever the seed.
    q = c.gen(["-p", PARIS_PROMPT, "-n", "8", "--temp", "0", "--seed", "1234"])
    check(q.stdout == p.stdout, "greedy output depends on the seed")


def case_jsonl(c: Ctx) -> None:
    args = ["-p", PARIS_PROMPT, "-n", "8", "--temp", "0", "--format", "jsonl"]
    p = c.gen(args)
    tokens, end = jsonl(p.stdout)
    check(len(tokens) == 8, f"expected 8 tokens, got {len(tokens)}")
    check(end["stop"] == "max_tokens", f"stop reason {end['stop']}, expected max_tokens")
    st = end["stats"]
    check(st["generated_tokens"] == 8, f"stats say {st['generated_tokens']} tokens generated")
    check(st["prompt_tokens"] >= 5, f"stats say {st['prompt_tokens']} prompt tokens")
    check(st["peak_rss_bytes"] > 0, "no peak RSS in the stats")
    # SmolLM2 at the default 4096-token context, F16: 2 x 30 layers x 4096 x 192 x 2 bytes.
    check(st["kv_cache_bytes"] == 2 * 30 * 4096 * 192 * 2,
          f"stats say {st['kv_cache_bytes']} KV cache bytes")
    text = "".join(t["text"] for t in tokens)
    check(text.startswith(" Paris"), f"jsonl text {text!r} does not start with ' Paris'")
    # The same greedy run gives the same ids, and the text matches text mode.
    tokens2, _ = jsonl(c.gen(args).stdout)
    ids = [t["id"] for t in tokens]
    check(ids == [t["id"] for t in tokens2], "greedy ids differ between runs")
    check(ids == golden_ids(c, "raw_capital", 8), f"greedy ids {ids} differ from llama.cpp's")
    plain = c.gen(["-p", PARIS_PROMPT, "-n", "8", "--temp", "0"]).stdout
    check(plain == text + "\n", f"text mode {plain!r} differs from jsonl text {text!r}")
    check_stats_line(p.stderr)


def case_seed(c: Ctx) -> None:
    def sample(seed: int) -> str:
        return c.gen(["-p", "Once upon a time", "-n", "16", "--temp", "0.8", "--seed",
                      str(seed), "--ignore-eos"]).stdout

    a = sample(42)
    check(a.strip() != "", "sampling produced no text")
    check(sample(42) == a, "the same seed gave different text")
    others = {sample(s) for s in (1, 2, 3)}
    check(len(others | {a}) > 1, "four different seeds all gave the same text")


def case_max_tokens(c: Ctx) -> None:
    for n in (1, 5):
        p = c.gen(["-p", "Hello", "-n", str(n), "--ignore-eos", "--format", "jsonl"])
        tokens, end = jsonl(p.stdout)
        check(len(tokens) == n, f"-n {n} gave {len(tokens)} tokens")
        check(end["stop"] == "max_tokens", f"-n {n}: stop reason {end['stop']}")


def case_stop_string(c: Ctx) -> None:
    full = c.gen(["-p", PARIS_PROMPT, "-n", "8", "--temp", "0"]).stdout
    check(full.startswith(" Paris"), f"unexpected greedy text {full!r}")
    p = c.gen(["-p", PARIS_PROMPT, "-n", "8", "--temp", "0", "--stop", "aris", "--format",
               "jsonl"])
    tokens, end = jsonl(p.stdout)
    check(end["stop"] == "stop_string", f"stop reason {end['stop']}, expected stop_string")
    text = "".join(t["text"] for t in tokens)
    check(text == " P", f"text before the stop string is {text!r}, expected ' P'")


def golden_ids(c: Ctx, name: str, n: int) -> list[int]:
    """The first n greedy token ids llama.cpp produced for golden case `name`."""
    with open(c.golden, encoding="utf-8") as f:
        cases = {case["name"]: case for case in json.load(f)["cases"]}
    return cases[name]["continuation"][:n]


def case_chat_flag(c: Ctx) -> None:
    # --chat renders ChatML with SmolLM2's default system message (what the model's template
    # does without one) or --system; the greedy replies match llama.cpp's on the same chats.
    p = c.gen(["--chat", "-p", "Hello! Who are you?", "-n", "12", "--temp", "0", "--format",
               "jsonl"])
    tokens, end = jsonl(p.stdout)
    check([t["id"] for t in tokens] == golden_ids(c, "chat_greeting", 12),
          f"chat reply ids {[t['id'] for t in tokens]} differ from llama.cpp's")
    check(end["stats"]["prompt_tokens"] == 36, f"{end['stats']['prompt_tokens']} prompt tokens, "
          "expected the 36 of the rendered chat")
    text = "".join(t["text"] for t in tokens)
    check("<|im_start|>" not in text and "<|im_end|>" not in text, "template tokens in the reply")
    s = c.gen(["--chat", "--system", "You are a concise assistant. Answer in one sentence.",
               "-p", "Why is the sky blue?", "-n", "12", "--temp", "0", "--format", "jsonl"])
    tokens, _ = jsonl(s.stdout)
    check([t["id"] for t in tokens] == golden_ids(c, "chat_system", 12),
          f"--system reply ids {[t['id'] for t in tokens]} differ from llama.cpp's")
    # The generic ChatML family renders an explicit system message as SmolLM2's template does.
    e = c.gen(["--chat", "--chat-template", "chatml", "--system",
               "You are a concise assistant. Answer in one sentence.", "-p",
               "Why is the sky blue?", "-n", "12", "--temp", "0", "--format", "jsonl"])
    check(e.stdout.splitlines()[:12] == s.stdout.splitlines()[:12],
          "--chat-template chatml differs from the model's own template")


def case_prompt_file(c: Ctx) -> None:
    path = os.path.join(c.workdir, "prompt.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(PARIS_PROMPT)
    p = c.gen(["-f", path, "-n", "8", "--temp", "0"])
    check(p.stdout.startswith(" Paris"), f"-f prompt gave {p.stdout!r}")
    q = c.gen(["-f", "-", "-n", "8", "--temp", "0"], stdin=PARIS_PROMPT)
    check(q.stdout == p.stdout, "-f - (stdin) differs from -f FILE")


def case_default_model(c: Ctx) -> None:
    env = dict(os.environ)
    env.pop("POCKETLM_MODEL", None)
    # From a directory without models/: the source tree's default model is found.
    p = c.run(["run", "-p", PARIS_PROMPT, "-n", "4", "--temp", "0"], env=env, cwd=c.workdir)
    check(p.returncode == 0, f"run without -m exited {p.returncode}: {p.stderr}")
    check(p.stdout.startswith(" Paris"), f"default model gave {p.stdout!r}")
    env["POCKETLM_MODEL"] = c.model
    p = c.run(["run", "-p", PARIS_PROMPT, "-n", "4", "--temp", "0"], env=env, cwd=c.workdir)
    check(p.returncode == 0 and p.stdout.startswith(" Paris"), "POCKETLM_MODEL was not used")
    env["POCKETLM_MODEL"] = "/nonexistent/model.gguf"
    p = c.run(["run", "-p", PARIS_PROMPT, "-n", "4"], env=env, cwd=c.workdir)
    expect_usage_error(p, "POCKETLM_MODEL")


def expect_usage_error(p: subprocess.CompletedProcess, must_contain: str, verb: str = "run"
                       ) -> None:
    check(p.returncode == 2, f"exit status {p.returncode}, expected 2")
    lines = p.stderr.splitlines()
    check(len(lines) == 1, f"expected one line on stderr, got {p.stderr!r}")
    check(lines[0].startswith(f"pocketlm {verb}: "), f"error line {lines[0]!r}")
    check(must_contain in lines[0], f"error line {lines[0]!r} does not mention {must_contain!r}")
    check(p.stdout == "", f"stdout is not empty: {p.stdout!r}")


def case_errors(c: Ctx) -> None:
    m = ["-m", c.model]
    long_prompt = " ".join(["word"] * 200)
    cases = [
        (["run", "-m", "/nonexistent/model.gguf", "-p", "x"], "/nonexistent/model.gguf"),
        (["run"] + m + ["-p", "x", "-n", "abc"], "-n/--max-tokens"),
        (["run"] + m + ["-p", "x", "--top-p", "5"], "--top-p"),
        (["run"] + m + ["-p", "x", "--temp", "-1"], "--temp"),
        (["run"] + m + ["-p", "x", "--kv-type", "q5"], "--kv-type"),
        (["run"] + m + ["-p", "x", "--format", "xml"], "--format"),
        (["run"] + m + ["-p", "x", "--bogus"], "--bogus"),
        (["run"] + m, "-p"),
        (["run"] + m + ["-p", "x", "-f", "y"], "-p"),
        (["run"] + m + ["-p", "x", "--system", "s"], "--chat"),
        (["run"] + m + ["-f", "/nonexistent/prompt.txt"], "/nonexistent/prompt.txt"),
        (["run"] + m + ["-p", long_prompt, "-c", "32"], "context"),
        (["chat", "-m", "/nonexistent/model.gguf"], "/nonexistent/model.gguf"),
        (["chat"] + m + ["--min-p", "2"], "--min-p"),
    ]
    for args, word in cases:
        expect_usage_error(c.run(args, stdin=""), word, verb=args[0])


def case_chat_pipe(c: Ctx) -> None:
    q1, q2 = "What is the capital of France?", "And of Italy?"
    base = ["chat", "-m", c.model, "-n", "12", "--temp", "0"]
    p = c.run(base, stdin=f"{q1}\n{q2}\n/stats\n/clear\n{q1}\n")
    check(p.returncode == 0, f"chat exited {p.returncode}: {p.stderr}")
    # A single greedy turn is what `run --chat` gives for the same message.
    r1 = c.gen(["--chat", "-p", q1, "-n", "12", "--temp", "0"]).stdout
    check(r1.strip() != "", "run --chat gave an empty reply")
    check(p.stdout.startswith(r1), f"first chat reply differs from run --chat {r1!r}")
    # After /clear the same question gets the same first-turn reply.
    check(p.stdout.endswith(r1) and len(p.stdout) > 2 * len(r1),
          f"the reply after /clear differs from the first one: {p.stdout!r}")
    r2 = p.stdout[len(r1):len(p.stdout) - len(r1)]
    check(r2.strip() != "" and r2.endswith("\n"), f"second reply {r2!r}")
    # No prompt or banner when stdin is a pipe; /stats printed one statistics line, and the
    # second turn reused the first from the KV cache.
    err = p.stderr.splitlines()
    check(len(err) == 1 and STATS_RE.match(err[0]) is not None, f"stderr {p.stderr!r}")
    check("reused" in err[0], f"the second turn reused nothing: {err[0]!r}")
    # /exit stops reading; what follows it is never answered.
    e = c.run(base, stdin=f"{q1}\n/exit\n{q2}\n")
    check(e.returncode == 0 and e.stdout == r1, f"/exit: exit {e.returncode}, {e.stdout!r}")
    # Empty input: nothing to say, a clean exit.
    z = c.run(base, stdin="")
    check(z.returncode == 0 and z.stdout == "" and z.stderr == "", "chat on empty input")


def case_chat_context_full(c: Ctx) -> None:
    p = c.run(["chat", "-m", c.model, "-c", "64", "-n", "16", "--temp", "0", "--ignore-eos"],
              stdin="Tell me a story.\nAnd another one.\nOne more.\n/clear\nHi\n")
    check(p.returncode == 0, f"chat exited {p.returncode}: {p.stderr}")
    check("context is full (64 tokens); /clear to start over" in p.stderr,
          f"no context-full message: {p.stderr!r}")
    check(p.stdout.strip() != "", "no reply at all")


def read_until(proc: subprocess.Popen, want: int, timeout: float) -> bytes:
    """Reads proc.stdout until `want` bytes arrived or the time is up."""
    got = b""
    fd = proc.stdout.fileno()
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got += chunk
    return got


def case_interrupt(c: Ctx) -> None:
    # A generation that would run to the end of a 2048-token context: Ctrl-C must end it early,
    # with the statistics and a final jsonl object, and exit 130.
    proc = subprocess.Popen(
        [c.pocketlm, "run", "-m", c.model, "-p", "Once upon a time", "-n", "-1", "--ignore-eos",
         "-c", "2048", "--format", "jsonl"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = read_until(proc, 1, 120)
    check(first != b"", "no token before the interrupt")
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    out = (first + rest).decode()
    print(f"interrupted run: exit {proc.returncode}, stderr {err!r}")
    check(proc.returncode == 130, f"exit status {proc.returncode} after Ctrl-C, expected 130")
    tokens, end = jsonl(out)
    check(end["stop"] == "cancelled", f"stop reason {end['stop']} after Ctrl-C")
    check(0 < len(tokens) < 2000, f"{len(tokens)} tokens: the interrupt did not stop generation")
    check_stats_line(err.decode())

    # In chat, Ctrl-C stops the reply and the conversation goes on: the next turn gets its full
    # reply and reuses the interrupted one from the KV cache.
    proc = subprocess.Popen(
        [c.pocketlm, "chat", "-m", c.model, "-n", "64", "--ignore-eos", "-c", "2048"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"Tell me a long story.\n")
    proc.stdin.flush()
    check(read_until(proc, 1, 120) != b"", "no reply before the interrupt")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(b"Go on.\n/stats\n", timeout=120)
    print(f"interrupted chat: exit {proc.returncode}, stderr {err!r}")
    check(proc.returncode == 0, f"chat exited {proc.returncode} after Ctrl-C during a reply")
    lines = err.decode().splitlines()
    check(len(lines) == 1 and STATS_RE.match(lines[0]) is not None, f"stderr {err!r}")
    check("generated 64 tok" in lines[0] and "reused" in lines[0],
          f"the turn after Ctrl-C did not run normally: {lines[0]!r}")


CASES = {
    "greedy": case_greedy,
    "jsonl": case_jsonl,
    "seed": case_seed,
    "max_tokens": case_max_tokens,
    "stop_string": case_stop_string,
    "chat_flag": case_chat_flag,
    "prompt_file": case_prompt_file,
    "default_model": case_default_model,
    "errors": case_errors,
    "chat_pipe": case_chat_pipe,
    "chat_context_full": case_chat_context_full,
    "interrupt": case_interrupt,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pocketlm", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--golden", required=True, help="tests/data/golden/smollm2.json")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--case", choices=sorted(CASES), action="append")
    args = ap.parse_args()

    model = os.path.join(args.models, MODEL_NAME)
    if not os.path.isfile(model):
        print(f"SKIP: {model} is missing (scripts/setup.sh fetches it)", file=sys.stderr)
        return SKIP
    os.makedirs(args.workdir, exist_ok=True)
    c = Ctx(args.pocketlm, model, args.golden, args.workdir)
    failed = []
    for name in args.case or sorted(CASES):
        try:
            CASES[name](c)
            print(f"PASS {name}")
        except (Failed, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            print(f"FAIL {name}: {e}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
