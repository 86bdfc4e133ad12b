#!/usr/bin/env python3
"""Writes data/text/calibration.txt: varied English text for computing importance matrices.

The text is generated, deterministically, from the word lists and sentence patterns below (all
written for pocketlm; public domain, CC0). It mixes registers on purpose -- narrative, dialogue,
instructions, reference entries, weather logs with numbers, questions and answers, lists -- so the
activations it produces cover more of what a small chat model sees than one style would. It shares
no passages with evaluation.txt, which is hand-written prose: a quantization calibrated on one text
is judged on another.

    python3 data/text/make_calibration.py            # rewrite calibration.txt
    python3 data/text/make_calibration.py --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "calibration.txt")
SEED = 20240607
N_SECTIONS = 120

NAMES = ["Amira", "Bram", "Celia", "Dev", "Elin", "Farid", "Greta", "Hugo", "Ines", "Jonah",
         "Kaito", "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tilde",
         "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zofia"]
TOWNS = ["Alderby", "Brackwater", "Coldharbour", "Dunmere", "Eastwick", "Fernhollow", "Greyling",
         "Hartsmoor", "Ivybridge", "Kettleby", "Lowmarsh", "Millbeck", "Northope", "Oakridge",
         "Pellworth", "Ravenscar", "Saltcote", "Thornbury", "Wexcombe", "Yarrowdale"]
RIVERS = ["Aske", "Brenn", "Corra", "Dove", "Elwy", "Fenn", "Glass", "Hale", "Isla", "Lune"]
PLACES = ["the harbour", "the market square", "the old mill", "the railway bridge",
          "the allotments", "the library steps", "the bus station", "the edge of the wood",
          "the top of the hill", "the school gates", "the churchyard", "the car park",
          "the canal towpath", "the bakery", "the post office", "the football ground"]
OBJECTS = ["a blue umbrella", "a bag of apples", "an old radio", "a map of the coast",
           "a pair of boots", "a wooden box", "a bicycle pump", "a jar of honey", "a paper kite",
           "a set of keys", "a letter with no stamp", "a torch", "a basket of eggs",
           "a broken clock", "a ball of string", "a tin of paint"]
ACTIONS = ["carried", "found", "dropped", "repaired", "painted", "sold", "borrowed", "wrapped",
           "hid", "lost", "weighed", "returned"]
FEELINGS = ["tired", "cheerful", "puzzled", "nervous", "patient", "curious", "annoyed",
            "relieved", "hungry", "thoughtful"]
TIMES = ["early in the morning", "just after lunch", "in the middle of the afternoon",
         "as the light was fading", "late at night", "before anyone else was awake",
         "on the first warm day of spring", "during the long wet autumn"]
WEATHER = ["clear", "overcast", "light rain", "heavy showers", "fog until noon", "sleet",
           "bright and windy", "thunder in the evening", "drizzle", "frost overnight"]
DIRECTIONS = ["north", "north-east", "east", "south-east", "south", "south-west", "west",
              "north-west"]
ANIMALS = [("heron", "fish and frogs", "slow-moving rivers"),
           ("badger", "worms and roots", "woodland edges"),
           ("otter", "fish and crayfish", "clean rivers"),
           ("swift", "flying insects", "the open sky over towns"),
           ("hedgehog", "beetles and slugs", "gardens and hedgerows"),
           ("kestrel", "voles and mice", "open grassland"),
           ("newt", "small insects", "ponds"),
           ("fox", "almost anything", "towns as well as fields")]
TOOLS = [("the chain on a bicycle", ["shift into the smallest rear gear",
                                     "lift the chain off the front ring",
                                     "press out one pin with a chain tool",
                                     "thread the new chain round the gears",
                                     "join the ends and check that every link moves freely"]),
         ("a washer in a garden tap", ["turn off the water supply",
                                       "open the tap to let the pressure out",
                                       "unscrew the head of the tap with a spanner",
                                       "lift out the old washer and fit the new one",
                                       "reassemble the tap and turn the water back on slowly"]),
         ("a cracked pane of glass", ["put on thick gloves",
                                      "chip out the old putty with a chisel",
                                      "remove the glazing pins and the broken glass",
                                      "bed the new pane on a thin layer of putty",
                                      "fix it with pins and smooth a bevel of putty round it"]),
         ("a flat tyre", ["take the wheel off the frame",
                          "lever one side of the tyre off the rim",
                          "pull out the inner tube and find the hole",
                          "patch the hole or fit a new tube",
                          "refit the tyre and pump it up to the pressure on its side"])]
INGREDIENTS = ["flour", "butter", "sugar", "eggs", "milk", "oats", "raisins", "salt",
               "baking powder", "grated cheese", "chopped onion", "lentils", "rice", "carrots"]
QUESTIONS = [
    ("Why do leaves change colour in autumn?",
     "As the days shorten, trees stop making the green pigment chlorophyll, and the yellow and "
     "orange pigments that were there all along become visible."),
    ("How far away is the horizon at sea?",
     "For a person standing on a beach, with their eyes about a metre and a half above the "
     "water, the horizon is roughly four and a half kilometres away."),
    ("Why does bread go stale?",
     "The starch in bread slowly recrystallises after baking and pushes water out, which is why "
     "stale bread feels dry even when it has not lost much weight."),
    ("What makes a rainbow?",
     "Sunlight is bent as it enters raindrops, reflected inside them and bent again as it "
     "leaves, and each colour is bent by a slightly different amount."),
    ("Why is the sea salty?",
     "Rivers carry small amounts of dissolved minerals into the sea, and when sea water "
     "evaporates the salt stays behind, so over millions of years it has built up."),
    ("How do birds find their way when they migrate?",
     "They use several cues at once: the position of the sun and stars, the Earth's magnetic "
     "field, landmarks such as coastlines, and in some species smell."),
    ("Why do onions make people cry?",
     "Cutting an onion breaks its cells and releases a compound that turns into a gas which "
     "irritates the eyes, and the eyes respond by making tears to wash it away."),
    ("What is the difference between weather and climate?",
     "Weather is what happens on a particular day; climate is the pattern of weather in a place "
     "over many years."),
]


def sentence_story(r: random.Random) -> str:
    a, b = r.sample(NAMES, 2)
    return (f"{r.choice(TIMES).capitalize()}, {a} {r.choice(ACTIONS)} {r.choice(OBJECTS)} near "
            f"{r.choice(PLACES)}. {b} watched from across the road and felt "
            f"{r.choice(FEELINGS)}. Later, at {r.choice(PLACES)}, {a} explained that it had "
            f"belonged to someone in {r.choice(TOWNS)} and that it was going back there on "
            f"{r.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'])}.")


def section_story(r: random.Random) -> str:
    return " ".join(sentence_story(r) for _ in range(r.randint(2, 4)))


def section_town(r: random.Random) -> str:
    town, river = r.choice(TOWNS), r.choice(RIVERS)
    pop = r.randrange(800, 42000, 10)
    year = r.randint(1150, 1890)
    trade = r.choice(["wool", "salt", "timber", "leather", "pottery", "paper", "rope", "cheese"])
    return (f"{town} is a market town on the River {river}, with a population of about {pop:,} "
            f"at the last count. It grew up around a crossing point on the river and received its "
            f"charter in {year}. For most of its history the town lived on {trade}, and several of "
            f"the old warehouses near the water have been turned into flats. The parish church "
            f"has a {r.choice(['square', 'round', 'tall', 'leaning'])} tower that can be seen from "
            f"{r.randint(3, 19)} kilometres away. A weekly market is still held on "
            f"{r.choice(['Tuesdays', 'Thursdays', 'Saturdays'])}.")


def section_weather(r: random.Random) -> str:
    town = r.choice(TOWNS)
    lines = [f"Weather log, {town}, week {r.randint(1, 52)}."]
    t = r.randint(-3, 14)
    for day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]:
        t += r.randint(-3, 3)
        lines.append(f"{day}: {r.choice(WEATHER)}, high of {t} degrees, wind from the "
                     f"{r.choice(DIRECTIONS)} at {r.randint(3, 45)} km/h, "
                     f"{r.randint(0, 18)} mm of rain.")
    lines.append(f"Total for the week: {r.randint(0, 60)} mm. "
                 f"The river at {r.choice(PLACES)} rose by {r.randint(1, 90)} centimetres.")
    return "\n".join(lines)


def section_howto(r: random.Random) -> str:
    thing, steps = r.choice(TOOLS)
    ordinals = ["First", "Next", "Then", "After that", "Finally"]
    body = " ".join(f"{o}, {s}." for o, s in zip(ordinals, steps))
    return (f"How to replace {thing}. You will need about {r.randint(10, 45)} minutes and a "
            f"clear space to work in. {body} If anything feels stiff, stop and look again rather "
            f"than forcing it.")


def section_dialogue(r: random.Random) -> str:
    a, b = r.sample(NAMES, 2)
    obj, place = r.choice(OBJECTS), r.choice(PLACES)
    lines = [
        f'"Have you seen {obj}?" asked {a}.',
        f'"I think I saw it at {place}," said {b}. "Why, is it yours?"',
        f'"Not exactly. I promised to look after it until {r.choice(NAMES)} gets back from '
        f'{r.choice(TOWNS)}."',
        f'"When is that?"',
        f'"{r.choice(["Tomorrow", "Next week", "On Friday", "Nobody knows"])}," said {a}, '
        f'looking {r.choice(FEELINGS)}.',
        f'{b} laughed. "Then we had better find it before then."',
    ]
    return "\n".join(lines)


def section_animal(r: random.Random) -> str:
    name, food, home = r.choice(ANIMALS)
    return (f"The {name} lives mainly in {home} and feeds on {food}. An adult weighs between "
            f"{r.randint(1, 9)} and {r.randint(10, 30)} times as much as it did at birth, and most "
            f"live for {r.randint(2, 6)} to {r.randint(7, 15)} years in the wild. It is most "
            f"active {r.choice(['at dawn and dusk', 'at night', 'in the middle of the day'])}. "
            f"Numbers fell sharply in the last century but have recovered in many areas since "
            f"{r.randint(1960, 2010)}, helped by cleaner water and more careful farming.")


def section_recipe(r: random.Random) -> str:
    items = r.sample(INGREDIENTS, r.randint(4, 6))
    qty = [f"{r.choice([50, 75, 100, 150, 200, 250, 300])} g {i}" for i in items]
    return (f"A simple {r.choice(['loaf', 'pie', 'soup', 'bake', 'batch of biscuits'])} for "
            f"{r.randint(2, 8)} people. Ingredients: " + ", ".join(qty) + ". "
            f"Mix the dry ingredients first, then add the rest a little at a time. Cook at "
            f"{r.choice([160, 180, 190, 200, 220])} degrees for {r.randint(15, 60)} minutes, "
            f"or until it is golden on top. Leave it to stand for {r.randint(5, 15)} minutes "
            f"before serving.")


def section_qa(r: random.Random) -> str:
    q, a = r.choice(QUESTIONS)
    return f"Question: {q}\nAnswer: {a}"


def section_numbers(r: random.Random) -> str:
    a, b = r.randint(12, 980), r.randint(3, 99)
    shop = r.choice(NAMES)
    return (f"{shop}'s shop sold {a} items on the first day and {b} fewer on the second, "
            f"{a - b} in all on that day. Over the two days that makes {2 * a - b}. At "
            f"{r.randint(2, 9)}.{r.randint(10, 99)} each, the takings were enough to pay the rent "
            f"for {r.randint(2, 12)} weeks, which, {shop} said, was better than last year.")


SECTIONS = [section_story, section_town, section_weather, section_howto, section_dialogue,
            section_animal, section_recipe, section_qa, section_numbers]


def generate() -> str:
    r = random.Random(SEED)
    parts = [r.choice(SECTIONS)(r) for _ in range(N_SECTIONS)]
    return "\n\n".join(parts) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    args = ap.parse_args()
    text = generate()
    if args.check:
        with open(OUT, encoding="utf-8") as f:
            same = f.read() == text
        print("calibration.txt is " + ("up to date" if same else "stale"))
        return 0 if same else 1
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}: {len(text)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
