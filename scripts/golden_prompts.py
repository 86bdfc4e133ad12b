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

LONG_REPORT = (
    "Report on the first year of the river valley tool library\n\n"
    "The tool library opened in a disused bakery on the corner of Mill Street in early spring. Its "
    "founders, a retired carpenter and two neighbours who were tired of buying drills they used "
    "twice a year, started with ninety donated tools and a paper ledger. Members paid a small "
    "yearly fee, could borrow up to three items at a time for one week, and were asked to return "
    "everything clean. By the end of the year the collection had grown to four hundred and "
    "twenty items and the ledger had been replaced by a simple spreadsheet kept on a laptop "
    "behind the counter.\n\n"
    "Membership grew faster than anyone expected. In the first month forty households signed up; "
    "by midsummer there were two hundred, and the waiting list for the single pressure washer "
    "stretched over three weekends. The most borrowed items were, in order, the extension "
    "ladder, the hedge trimmer, the carpet cleaner, the tile cutter and a set of clamps that "
    "nobody remembered donating. Seasonal patterns were strong: garden tools dominated from "
    "April to September, while sanders, paint sprayers and wallpaper steamers took over in the "
    "autumn, when people turned to indoor projects.\n\n"
    "Losses were lower than feared. Of the roughly three thousand loans recorded, only eleven "
    "items were never returned, and six of those were cheap hand tools. Damage was more common: "
    "thirty-four items came back broken or with missing parts. Most repairs were done on "
    "Thursday evenings by volunteers, who turned the back room of the bakery into a workshop. "
    "The repair evenings became popular in their own right. Members brought their own broken "
    "lamps, bicycles and toasters, and a small group began teaching basic soldering and "
    "sharpening to anyone who wanted to learn.\n\n"
    "The finances were simple. Membership fees covered the rent of the bakery for nine months of "
    "the year; the remaining three were paid by a grant from the town council and by the sale of "
    "duplicate donations at a spring fair. The largest single expense after rent was insurance, "
    "followed by replacement blades, batteries and sanding discs, which wear out quickly and "
    "which members rarely think to replace. The volunteers proposed a small consumables fee for "
    "power tools, and after a long meeting the members agreed to try it for six months.\n\n"
    "Several problems remain. The spreadsheet cannot warn when an item is overdue, so volunteers "
    "spend an hour each Saturday calling members. The bakery has no ramp, which makes it hard to "
    "move heavy machines and keeps out members who use wheelchairs. Storage is full, and the "
    "library has had to refuse donations of large items such as cement mixers. Finally, the "
    "opening hours, two evenings and Saturday mornings, suit people with office jobs but not "
    "shift workers, who have asked for at least one weekday morning.\n\n"
    "For the second year the committee recommends four changes: move the ledger to a small "
    "lending program that sends reminders, build a ramp with the help of the repair volunteers, "
    "rent a second room for storage if the council grant is renewed, and open on Tuesday "
    "mornings for a trial period. The committee also suggests keeping the repair evenings free "
    "of charge, because they bring in new members and keep the collection in working order."
)

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


# Gemma's template has no system role: a system prompt is prepended to the first user turn. The
# BOS token is not written here; the golden script adds it as the model's metadata asks.
def gemma(system, user):
    content = user if system is None else f"{system}\n\n{user}"
    return f"<start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n"


# Prompts only the Gemma set has: a conversation of several turns, and a document longer than the
# 512-token sliding window of Gemma 3's local attention layers (over 1,500 tokens), so positions
# far outside the window are attended by the global layers only.
GEMMA_EXTRA = [
    ("chat_multi_turn",
     "<start_of_turn>user\nWhat is a tool library?<end_of_turn>\n"
     "<start_of_turn>model\nA tool library lends tools to its members, the way a book library "
     "lends books.<end_of_turn>\n"
     "<start_of_turn>user\nName three tools that people borrow most often.<end_of_turn>\n"
     "<start_of_turn>model\n"),
    ("chat_long_documents",
     gemma(None, "Read the three documents below, then answer: which of them mentions a "
                 "logbook, and what did the student find in it?\n\n"
                 "Document 1:\n" + LONG_REPORT + "\n\nDocument 2:\n" + LONG_CODE +
                 "\n\nDocument 3:\n" + LONG_ESSAY)),
]


def prompts_for(chat_format):
    render = {"chatml": chatml, "gemma": gemma}[chat_format]
    out = list(RAW)
    out += [(name, render(system, user)) for name, system, user in CHAT]
    if chat_format == "gemma":
        out += GEMMA_EXTRA
    return out
