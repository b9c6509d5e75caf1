"""Text generators for the tiny long-context model: RULER niah / variable-tracking prompts and a
gkamradt-style needle-in-a-haystack prompt, written from the official templates (NVIDIA/RULER
scripts/data/synthetic/constants.py, niah.py, variable_tracking.py; gkamradt/LLMTest_NeedleInAHaystack).

Contract: every generator takes a `random.Random`, a haystack size in units (noise lines, essay words,
needle lines) and returns a Sample(prompt, answer_prefix, answer, outputs, extra) where
  prompt + answer_prefix  is exactly what the evaluated model is fed (raw text, no chat template),
  answer                  is the training target continuation (without EOS),
  outputs                 are RULER's reference strings (string_match_all / string_match_part scoring),
  extra                   holds follow-up (question+prefix, answer) pairs usable for dense training only.
"""
import dataclasses
import os
import random
import re
import string
import uuid

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")

NIAH_TEMPLATE = ("Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
                 "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
                 "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?")
NIAH_ANSWER_PREFIX = " The special magic {type_needle_v} for {query} mentioned in the provided text are"
NIAH_NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."

VT_TEMPLATE = ("Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
               "Question: Find all variables that are assigned the value {query} in the text above.")
VT_ANSWER_PREFIX = (" Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables "
                    "are assigned the value {query}, they are: ")

# gkamradt NIAH: the original needle and question, plus varying needles of the same shape.
GK_NEEDLE = "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day."
GK_QUESTION = "What is the best thing to do in San Francisco?"
GK_TEMPLATE = ("<context>\n{context}\n</context>\n\n{question} Don't give information outside the document or repeat "
               "your findings")
GK_ANSWER_PREFIX = "\n\nHere is the most relevant sentence in the context:"
CITIES = ("San Francisco,New York,Chicago,Boston,Seattle,Denver,Austin,Miami,Portland,Atlanta,Dallas,Houston,Phoenix,"
          "Detroit,London,Paris,Berlin,Madrid,Rome,Vienna,Prague,Warsaw,Dublin,Lisbon,Oslo,Stockholm,Helsinki,Athens,"
          "Cairo,Lagos,Nairobi,Tokyo,Osaka,Seoul,Beijing,Shanghai,Mumbai,Delhi,Bangkok,Jakarta,Manila,Sydney,Melbourne,"
          "Auckland,Toronto,Vancouver,Montreal,Lima,Bogota,Santiago,Havana,Istanbul,Dubai,Tehran,Moscow,Kyiv,Zurich,"
          "Geneva,Munich,Hamburg,Amsterdam,Brussels,Copenhagen,Budapest,Bucharest,Sofia,Belgrade,Riga,Tallinn").split(",")
ACTIVITIES = ["eat a sandwich and sit in Dolores Park on a sunny day", "walk along the river at sunset",
              "visit the old market early in the morning", "ride a bicycle through the central park",
              "drink coffee in a small cafe near the station", "climb the hill behind the cathedral",
              "take a boat trip around the harbor", "read a book in the public library",
              "eat noodles at a street stall after midnight", "watch a football match with the locals",
              "swim in the lake before breakfast", "listen to jazz in a basement bar",
              "buy fresh bread from the corner bakery", "explore the museum of modern art",
              "fly a kite on the beach in the afternoon", "play chess with strangers in the square"]

DEPTHS = [round(100 * i / 39) for i in range(40)]
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [w.strip() for w in f if w.strip()]


@dataclasses.dataclass
class Sample:
    prompt: str
    answer_prefix: str
    answer: str
    outputs: list
    extra: list = dataclasses.field(default_factory=list)


class Sources:
    """Word lists and the essay haystack, loaded once per process."""

    def __init__(self, essay_dir):
        adjs = _read_lines(os.path.join(ASSETS, "adjectives.txt"))
        nouns = _read_lines(os.path.join(ASSETS, "nouns.txt"))
        self.adjs = sorted(set(adjs))
        self.nouns = sorted(set(nouns))
        texts = []
        for name in sorted(os.listdir(essay_dir)):
            if name.endswith(".txt"):
                with open(os.path.join(essay_dir, name), encoding="utf-8") as f:
                    texts.append(f.read())
        self.essay_words = re.sub(r"\s+", " ", " ".join(texts)).strip().split(" ")
        self.essay_raw = "".join(texts)

    def word_key(self, rng):
        return f"{rng.choice(self.adjs)}-{rng.choice(self.nouns)}"


def random_value(rng, kind, src):
    if kind == "numbers":
        return str(rng.randint(1000000, 9999999))
    if kind == "words":
        return src.word_key(rng)
    if kind == "uuids":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    raise ValueError(kind)


def _essay_text(rng, src, num_words, random_start):
    words = src.essay_words
    start = rng.randrange(0, len(words)) if random_start else 0
    out = []
    while len(out) < num_words:
        take = words[start:start + num_words - len(out)]
        out.extend(take)
        start = 0
    return " ".join(out)


def _join_list(items):
    return ", ".join(items[:-1]) + ", and " + items[-1] if len(items) > 1 else items[0]


def niah(rng, src, haystack, key_kind, value_kind, num_k, num_v, num_q, size, random_start=True, follow_ups=0):
    """One RULER niah prompt. size = noise lines / essay words / needle lines."""
    num_k = max(num_k, num_q)
    keys, values, needles = [], [], []
    while len(keys) < num_k:
        k = random_value(rng, key_kind, src)
        if k in keys:
            continue
        keys.append(k)
        vals = [random_value(rng, value_kind, src) for _ in range(num_v)]
        values.append(vals)
        for v in vals:
            needles.append((k, v, NIAH_NEEDLE.format(type_needle_v=value_kind, key=k, value=v)))
    rng.shuffle(needles)
    distractors = []
    if haystack == "essay":
        sents = _SENT_SPLIT.split(_essay_text(rng, src, size, random_start).strip())
        depths = sorted(int(len(sents) * (d / 100)) for d in rng.sample(DEPTHS, len(needles)))
        pos = [0] + depths + [len(sents)]
        parts = []
        for i in range(1, len(pos)):
            parts.append(" ".join(sents[pos[i - 1]:pos[i]]))
            if i - 1 < len(needles):
                parts.append(needles[i - 1][2])
        context = " ".join(parts)
    else:
        if haystack == "noise":
            lines = [NOISE] * size
        else:
            lines = []
            for _ in range(size):
                k, v = random_value(rng, key_kind, src), random_value(rng, value_kind, src)
                distractors.append((k, v))
                lines.append(NIAH_NEEDLE.format(type_needle_v=value_kind, key=k, value=v))
        idx = sorted(rng.sample(range(max(size, len(needles))), len(needles)), reverse=True)
        for i, n in zip(idx, needles):
            lines.insert(i, n[2])
        context = "\n".join(lines)
    order = [n[0] for n in needles]
    q_idx = rng.sample(range(num_k), num_q)
    queries = [keys[i] for i in q_idx]
    # answers in the order the values occur in the context (the scorer is order-free)
    answers = []
    for qk in queries:
        answers.extend(v for k, v, _ in needles if k == qk)
    template, prefix, tv = NIAH_TEMPLATE, NIAH_ANSWER_PREFIX, value_kind
    if num_q * num_v == 1:
        template, prefix, tv = (_singularize(template), _singularize(prefix), value_kind[:-1])
    query = _join_list(queries)
    prompt = template.format(type_needle_v=tv, context=context, query=query)
    sample = Sample(prompt, prefix.format(type_needle_v=tv, query=query), " " + _join_list(answers) + ".",
                    [a for i in q_idx for a in values[i]])
    if follow_ups:
        pool = [(k, [v for kk, v, _ in needles if kk == k]) for k in dict.fromkeys(order)]
        pool += [(k, [v]) for k, v in distractors]
        for k, vals in rng.sample(pool, min(follow_ups, len(pool))):
            multi = len(vals) > 1
            t = value_kind if multi else value_kind[:-1]
            q = "\n" + _question(multi).format(type_needle_v=t, query=k)
            p = (NIAH_ANSWER_PREFIX if multi else _singularize(NIAH_ANSWER_PREFIX)).format(type_needle_v=t, query=k)
            sample.extra.append((q + p, " " + _join_list(vals) + "."))
    return sample


def _singularize(t):
    return t.replace("Some", "A").replace("are all", "is").replace("are", "is").replace("answers", "answer")


def _question(multi):
    q = "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?"
    return q if multi else _singularize(q)


def variable_tracking(rng, src, size, num_chains=1, num_hops=4):
    """RULER vt with the noise haystack (one line per noise sentence)."""
    names = set()
    while len(names) < (num_hops + 1) * num_chains:
        names.add("".join(rng.choices(string.ascii_uppercase, k=5)))
    names = list(names)
    rng.shuffle(names)
    chains, chain_vars = [], []
    for c in range(num_chains):
        vs = names[c * (num_hops + 1):(c + 1) * (num_hops + 1)]
        chain = [f"VAR {vs[0]} = {rng.randint(10000, 99998)}"]
        chain += [f"VAR {vs[j + 1]} = VAR {vs[j]} " for j in range(num_hops)]
        chains.append(chain)
        chain_vars.append(vs)
    lines = [NOISE] * max(size, num_hops + 1)
    for chain in chains:
        positions = sorted(rng.sample(range(len(lines)), len(chain)))
        for j, p in enumerate(positions):
            lines.insert(p + j, chain[j])
    context = "\n".join(lines).replace(". \n", ".\n")
    value = chains[0][0].split("=")[-1].strip()
    prompt = VT_TEMPLATE.format(context=context, query=value)
    prefix = VT_ANSWER_PREFIX.format(num_v=num_hops + 1, query=value)
    return Sample(prompt, prefix, " ".join(chain_vars[0]), list(chain_vars[0]))


def gkamradt(rng, src, num_words, depth=None, original=None):
    """gkamradt-style NIAH over the Paul Graham essays with a varying needle (the original one with p=0.3)."""
    if original is None:
        original = rng.random() < 0.3
    if original:
        needle, question = GK_NEEDLE, GK_QUESTION
    elif rng.random() < 0.5:
        city = rng.choice(CITIES)
        needle = f"The best thing to do in {city} is {rng.choice(ACTIVITIES)}."
        question = f"What is the best thing to do in {city}?"
    else:
        city = rng.choice(CITIES)
        needle = f"The special magic {city} number is: {rng.randint(1000000, 9999999)}."
        question = f"What is the special magic {city} number?"
    text = _essay_text(rng, src, num_words, random_start=rng.random() < 0.7)
    if depth is None:
        depth = rng.choice(DEPTHS)
    cut = int(len(text) * depth / 100)
    if depth >= 100:
        context = text + "\n" + needle + "\n"
    else:
        dot = text.rfind(".", 0, cut)
        cut = dot + 1 if dot >= 0 else 0
        context = text[:cut] + "\n" + needle + "\n" + text[cut:].lstrip(" ")
    prompt = GK_TEMPLATE.format(context=context, question=question)
    return Sample(prompt, GK_ANSWER_PREFIX, " " + needle, [needle])


# RULER task name -> (haystack, key kind, value kind, num_k, num_v, num_q)
RULER_NIAH = {
    "niah_single_1": ("noise", "words", "numbers", 1, 1, 1),
    "niah_single_2": ("essay", "words", "numbers", 1, 1, 1),
    "niah_single_3": ("essay", "words", "uuids", 1, 1, 1),
    "niah_multikey_1": ("essay", "words", "numbers", 4, 1, 1),
    "niah_multikey_2": ("needle", "words", "numbers", 1, 1, 1),
    "niah_multikey_3": ("needle", "uuids", "uuids", 1, 1, 1),
    "niah_multivalue": ("essay", "words", "numbers", 1, 4, 1),
    "niah_multiquery": ("essay", "words", "numbers", 1, 1, 4),
}

# approximate tokens per haystack unit (refined by measurement in eval.py); used to size training samples
UNIT_TOKENS = {"noise": 24.2, "essay": 1.55, "needle": 19.3, "needle_uuid": 57.5, "vt": 24.3}


def make_task(rng, src, task, size, follow_ups=0, random_start=True):
    if task in RULER_NIAH:
        h, kk, vk, nk, nv, nq = RULER_NIAH[task]
        return niah(rng, src, h, kk, vk, nk, nv, nq, size, random_start=random_start, follow_ups=follow_ups)
    if task == "vt":
        return variable_tracking(rng, src, size)
    if task == "gkamradt":
        return gkamradt(rng, src, size)
    raise ValueError(task)


def units_for_tokens(task, tokens):
    if task in RULER_NIAH:
        h, kk = RULER_NIAH[task][0], RULER_NIAH[task][1]
        per = UNIT_TOKENS["needle_uuid" if (h == "needle" and kk == "uuids") else h]
    elif task == "vt":
        per = UNIT_TOKENS["vt"]
    else:
        per = UNIT_TOKENS["essay"]
    return max(1, int(tokens / per))


if __name__ == "__main__":
    import sys
    s = Sources(sys.argv[1])
    r = random.Random(0)
    for t in list(RULER_NIAH) + ["vt", "gkamradt"]:
        smp = make_task(r, s, t, 12 if t in ("niah_single_1", "vt", "niah_multikey_2", "niah_multikey_3") else 150,
                        follow_ups=2)
        print("=====", t, "\n" + smp.prompt + "|" + smp.answer_prefix + "|" + smp.answer, smp.outputs, smp.extra)
