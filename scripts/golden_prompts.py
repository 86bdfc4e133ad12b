"""Prompts shared by the golden-data scripts: raw and chat-formatted, short and long.

The long passages are written for this project (no third-party text), so they can be committed.
"""

LONG_ESSAY = (
    "The lighthouse keeper on the northern island kept a logbook for forty years. Every morning "
    "she wrote down the direction of the wind, the height of the waves, the colour of the sky at "
    "dawn and the names of the ships that passed. Most entries were short: a line about fog, a "
    "note that the lamp had needed new oil, a remark that the gulls had returned early. But in the "
    "winter of the great storm the entries grew longer. She wrote about the night the power failed "
    "and she climbed the stairs two hundred and twelve times to wind the clockwork by hand. She "
    "wrote about the fishing boat that lost its rudder and drifted for a day before the lifeboat "
    "reached it. She wrote about the silence after the wind dropped, so complete that she could "
    "hear the kettle ticking as it cooled.\n\n"
    "When the lighthouse was automated, the logbooks were sent to the county archive, where they "
    "sat in boxes for a decade. A student looking for weather records found them by accident. She "
    "was studying how coastal storms had changed over the century, and the keeper's careful notes "
    "were exactly what the official records lacked: observations made at the same place, at the "
    "same hour, by the same person, for four decades. The student typed every entry into a "
    "spreadsheet. It took her most of a year. When she plotted the wave heights against the years, "
    "a pattern appeared that nobody had expected: the storms had not become more frequent, but the "
    "largest waves had grown steadily taller, winter after winter.\n\n"
    "Her paper was short and careful. It explained how the keeper had measured the waves, using "
    "marks painted on the rocks below the tower, and why those marks could be trusted. It compared "
    "the logbook with the few instrument readings that existed and found that they agreed closely. "
    "It ended with a table of the ten largest storms and a photograph of the painted marks, faded "
    "but still visible. The paper was cited often, and the archive received many requests to see "
    "the logbooks. The archivist, who had almost thrown the boxes away, now keeps them in a "
    "climate-controlled room and shows them to visitors on the first Friday of every month.\n\n"
    "Asked what she thought the keeper would have made of it all, the student said that she "
    "probably would have been unsurprised. Anyone who watches the same stretch of sea every day for "
    "forty years, she said, learns to notice slow changes that the rest of us miss."
)

LONG_CODE = '''def merge_intervals(intervals):
    """Merge overlapping closed intervals and return them sorted by start."""
    if not intervals:
        return []
    ordered = sorted(intervals, key=lambda pair: pair[0])
    merged = [list(ordered[0])]
    for start, end in ordered[1:]:
        last = merged[-1]
        if start <= last[1]:
            last[1] = max(last[1], end)
        else:
            merged.append([start, end])
    return [tuple(pair) for pair in merged]


def total_covered(intervals):
    """Length of the union of the intervals."""
    return sum(end - start for start, end in merge_intervals(intervals))


class Calendar:
    def __init__(self):
        self.busy = []

    def book(self, start, end):
        if end <= start:
            raise ValueError("an event must end after it starts")
        for s, e in self.busy:
            if start < e and s < end:
                return False
        self.busy.append((start, end))
        return True

    def free_slots(self, day_start, day_end, minimum):
        slots = []
        cursor = day_start
        for s, e in merge_intervals(self.busy):
            if s - cursor >= minimum:
                slots.append((cursor, s))
            cursor = max(cursor, e)
        if day_end - cursor >= minimum:
            slots.append((cursor, day_end))
        return slots


if __name__ == "__main__":
    cal = Calendar()
    cal.book(9, 10)
    cal.book(11, 12)
    cal.book(14, 16)
    print(cal.free_slots(8, 18, 1))
'''

RAW = [
    ("raw_capital", "The capital of France is"),
    ("raw_list", "Here is a list of three fruits:\n1."),
    ("raw_code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
    ("raw_story", "Once upon a time, in a small village by the sea, there lived"),
    ("raw_multilingual", "Bonjour! Je m'appelle Marie et j'habite à Lyon. Hier, je suis allée"),
    ("raw_numbers", "Question: What is 12 times 7?\nAnswer:"),
    ("raw_long_essay", LONG_ESSAY + "\n\nIn one sentence, the lesson of this story is that"),
    ("raw_long_code", LONG_CODE + "\n# Expected output:\n#"),
]

CHAT = [
    ("chat_greeting", None, "Hello! Who are you?"),
    ("chat_system", "You are a concise assistant. Answer in one sentence.",
     "Why is the sky blue?"),
    ("chat_recipe", None, "Give me a simple recipe for pancakes."),
    ("chat_summarize", None, "Summarize the following text in two sentences.\n\n" + LONG_ESSAY),
    ("chat_translate", None, "Translate to French: The weather is nice today, let's go for a walk."),
]

SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def chatml(system, user):
    sys_text = system if system is not None else SMOLLM_DEFAULT_SYSTEM
    return (f"<|im_start|>system\n{sys_text}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n")


def gemma(system, user):
    content = user if system is None else f"{system}\n\n{user}"
    return f"<bos><start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n"


def prompts_for(chat_format):
    render = {"chatml": chatml, "gemma": gemma}[chat_format]
    out = list(RAW)
    out += [(name, render(system, user)) for name, system, user in CHAT]
    return out
