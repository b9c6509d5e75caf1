"""Random needles for loom_mpi's NIAH prompt format (fine-tuning data of tiny-loom, round 2).

Contract: `loom_niah(rng, src, num_tokens_hint)` returns a tasks.Sample whose prompt is exactly what loom_mpi's NIAH
benchmark feeds a model without a chat template (configs/benchmarks/niah.yaml rendered "raw"):

    <system prompt>\n\n<context with the needle on its own line>\n\n<question> Don't give information outside the
    document or repeat your findings

and whose answer is ANSWER_PREFIX + the needle sentence (or NOT_FOUND when the asked-for needle is not in the context):
the sentence tiny-loom's first training round taught it to answer gkamradt-style NIAH with, so it only has to learn to
copy the needle from the context instead of recalling the default one. `gkamradt_mixed` is that first round's
format (`<context>` tags, the answer prefix in the prompt) with needles of every family, replayed alongside.
Needles are drawn from four families with random contents: "The best thing to do in {place} is {activity}." (random
activity phrases), "The special magic {place} number is: {7 digits}.", "The secret key for the {word-word} account is
{uuid}." and "The password for the {adjective noun} is {word-word}.", each a sentence whose question shares its key
words, so the model learns to find and copy the sentence a question asks about rather than one it has seen before;
half of the places are made up (place()), so they must be copied too. The context may hold distractor needles; haystacks are Paul Graham essays (from a random point or from the start,
as loom_mpi cuts them), shuffled essay sentences, or RULER's noise line; the needle goes at a random depth (0 and 100
often). The original San Francisco needle appears rarely and, like every needle, only as a sentence to copy.
"""
import random
import re
import uuid

import tasks

SYSTEM = "You are a helpful AI bot that answers questions for a user. Keep your response short and direct"
TEMPLATE = "{context}\n\n{question} Don't give information outside the document or repeat your findings"
ANSWER_PREFIX = "\n\nHere is the most relevant sentence in the context: "
NOT_FOUND = "none."

VERBS = ["eat", "drink", "buy", "watch", "visit", "read", "climb", "explore", "photograph", "sketch", "cook", "rent",
         "find", "try", "share", "collect", "feed", "paint", "hear", "ride"]
OBJECTS = ["a sandwich", "fresh bread", "hot noodles", "a cold lemonade", "the old lighthouse", "a street concert",
           "a vintage bicycle", "the tallest tower", "a small sailboat", "the city map", "a bowl of soup", "the pigeons",
           "a jazz record", "a paper kite", "the night market", "a chess puzzle", "the river ferry", "a wooden canoe",
           "spicy dumplings", "a mango ice cream", "the cathedral bells", "an orange tram", "a stack of postcards",
           "the botanical garden", "a silver harmonica", "the museum of clocks", "a plate of oysters", "the harbor seals"]
PLACES = ["in Dolores Park", "by the harbor", "on the main square", "near the central station", "under the old bridge",
          "on a rooftop terrace", "in the botanical garden", "behind the cathedral", "along the river",
          "at the fish market", "in a quiet courtyard", "on the north beach", "next to the opera house",
          "in the university quarter", "at the top of the hill"]
TIMES = ["on a sunny day", "at sunset", "early in the morning", "after midnight", "on a rainy afternoon",
         "during the spring festival", "before breakfast", "on a windy evening", "in the first week of May",
         "on a cold winter night"]
EXTRA_CITIES = ("Kyoto,Hanoi,Lyon,Porto,Seville,Naples,Krakow,Bergen,Valencia,Marseille,Leipzig,Antwerp,Salzburg,"
                "Florence,Granada,Tbilisi,Yerevan,Baku,Almaty,Tashkent,Karachi,Lahore,Dhaka,Colombo,Kathmandu,Hobart,"
                "Perth,Adelaide,Wellington,Quebec,Calgary,Ottawa,Boise,Tucson,Omaha,Memphis,Nashville,Raleigh,"
                "Richmond,Savannah,Orlando,Tampa,Anchorage,Honolulu,Reno,Fresno,Oakland,Sacramento,Pittsburgh,"
                "Cleveland,Buffalo,Baltimore,Milwaukee,Minneapolis,Cusco,Quito,Caracas,Montevideo,Asuncion").split(",")
CITIES = tasks.CITIES + EXTRA_CITIES
SF_NEEDLE = tasks.GK_NEEDLE
SF_QUESTION = tasks.GK_QUESTION


def place(rng, src):
    """A city from CITIES, or (half the time) a made-up town ("Lanternburg"): keys the model must copy, not recall."""
    if rng.random() < 0.5:
        return rng.choice(CITIES)
    noun = rng.choice(src.nouns).replace(" ", "")
    return noun[0].upper() + noun[1:].lower() + rng.choice(["", "ton", "ville", "burg", "port", "field", " City"])


def family_needle(rng, src, family, key=None):
    """(key, needle sentence, question) of one family; `key` fixes the key (distractors use other keys)."""
    if family == "activity":
        city = key or place(rng, src)
        act = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PLACES)} {rng.choice(TIMES)}"
        return city, f"The best thing to do in {city} is {act}.", f"What is the best thing to do in {city}?"
    if family == "number":
        city = key or place(rng, src)
        return (city, f"The special magic {city} number is: {rng.randint(1000000, 9999999)}.",
                f"What is the special magic {city} number?")
    if family == "key":
        k = key or src.word_key(rng)
        return (k, f"The secret key for the {k} account is {uuid.UUID(int=rng.getrandbits(128), version=4)}.",
                f"What is the secret key for the {k} account?")
    if family == "password":
        k = key or f"{rng.choice(src.adjs)} {rng.choice(src.nouns)}"
        return k, f"The password for the {k} is {src.word_key(rng)}.", f"What is the password for the {k}?"
    raise ValueError(family)


FAMILIES = ["activity", "number", "key", "password"]
FAMILY_WEIGHTS = [0.3, 0.3, 0.2, 0.2]


def _haystack(rng, src, num_words):
    kind = rng.random()
    if kind < 0.65:
        return tasks._essay_text(rng, src, num_words, random_start=True)
    if kind < 0.85:
        return tasks._essay_text(rng, src, num_words, random_start=False)
    if kind < 0.95:
        sents = tasks._SENT_SPLIT.split(tasks._essay_text(rng, src, num_words, random_start=True))
        rng.shuffle(sents)
        return " ".join(sents)
    return " ".join([tasks.NOISE] * max(1, num_words // 19))


def _insert(text, needle, depth):
    """loom_mpi's placement: the needle on its own line after the sentence end before depth% (100: appended)."""
    if depth >= 100:
        return text + "\n" + needle + "\n"
    cut = int(len(text) * depth / 100)
    dot = text.rfind(".", 0, cut)
    cut = dot + 1 if dot >= 0 else 0
    return text[:cut] + "\n" + needle + "\n" + text[cut:]


def _depth(rng):
    r = rng.random()
    if r < 0.15:
        return 0
    if r < 0.25:
        return 100
    return rng.uniform(0, 100)


def loom_niah(rng, src, num_words, absent_p=0.05, follow_ups=0):
    r = rng.random()
    if r < 0.03:  # NIAH's default needle, as a sentence to copy like any other
        needle, question, family, key = SF_NEEDLE, SF_QUESTION, "activity", "San Francisco"
    elif r < 0.08:  # San Francisco with another activity: the default answer must come from the context
        family = "activity"
        key, needle, question = family_needle(rng, src, family, key="San Francisco")
    else:
        family = rng.choices(FAMILIES, FAMILY_WEIGHTS)[0]
        key, needle, question = family_needle(rng, src, family)
    others = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4, 5])):
        k2, n2, q2 = family_needle(rng, src, family if rng.random() < 0.7 else rng.choice(FAMILIES))
        if k2 != key:
            others.append((n2, q2))
    absent = rng.random() < (0.15 if key == "San Francisco" else absent_p)  # unlearn the memorised default
    text = _haystack(rng, src, num_words)
    placed = [] if absent else [(needle, question)]
    for n, q in placed + others:
        text = _insert(text, n, _depth(rng))
    prompt = SYSTEM + "\n\n" + TEMPLATE.format(context=text, question=question)
    answer = ANSWER_PREFIX + (NOT_FOUND if absent else needle)
    sample = tasks.Sample(prompt, "", answer, [needle])
    for n, q in rng.sample(others, min(follow_ups, len(others))):
        sample.extra.append(("\n\n" + q + " Don't give information outside the document or repeat your findings",
                             ANSWER_PREFIX + n))
    return sample


def gkamradt_mixed(rng, src, num_words):
    """The first round's gkamradt-style prompt (tasks.gkamradt) with a needle of any family at a random depth."""
    family = rng.choices(FAMILIES, FAMILY_WEIGHTS)[0]
    _, needle, question = family_needle(rng, src, family)
    text = _insert(tasks._essay_text(rng, src, num_words, random_start=rng.random() < 0.7), needle, _depth(rng))
    prompt = tasks.GK_TEMPLATE.format(context=text, question=question)
    return tasks.Sample(prompt, tasks.GK_ANSWER_PREFIX, " " + needle, [needle])


def custom_probe(rng, src, num_words, needle, question, depth):
    """An evaluation prompt with a fixed needle and depth (loom_mpi's placement), for finetune.py's probes."""
    text = _insert(tasks._essay_text(rng, src, num_words, random_start=False), needle, depth)
    return tasks.Sample(SYSTEM + "\n\n" + TEMPLATE.format(context=text, question=question), "", ANSWER_PREFIX + needle,
                        [needle])


if __name__ == "__main__":
    import sys
    s = tasks.Sources(sys.argv[1])
    r = random.Random(0)
    for _ in range(6):
        smp = loom_niah(r, s, 60, follow_ups=2)
        print("=====\n" + smp.prompt + "|" + repr(smp.answer), smp.extra)
