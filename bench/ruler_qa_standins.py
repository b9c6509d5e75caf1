#!/usr/bin/env python3
"""Stand-in inputs for RULER's qa_1 / qa_2 on a machine without SQuAD or HotpotQA (the GPU machine has no network).

RULER's qa_1 reads SQuAD v2 dev and qa_2 HotpotQA dev distractor; neither is on the GPU machine. For a *timing* job
the content of the documents does not matter, only their number and length, so this script writes files in the two
published layouts whose documents are ~80-word passages of the essay haystack (PaulGrahamEssays/*.txt), and whose
questions ask for a short span of their gold passage:
  squad.json     {"data": [{"title", "paragraphs": [{"context", "qas": [{"question", "answers": [{"text"}],
                 "is_impossible": false}]}]}]}   one article per essay, one question per passage;
  hotpotqa.json  [{"question", "answer", "context": [[title, [sentence, ...]], ...]}]   ten passages per question.
The RULER generator then builds qa prompts of RULER's shape ("Document {i}:" blocks, the question, 32 new tokens).
Scores on these prompts mean nothing; bench/gpu_engine_bench.sh uses them only to time qa_1 / qa_2 rows.

Usage: ruler_qa_standins.py ESSAY_DIR OUT_DIR
"""
import json
import pathlib
import random
import re
import sys


def passages(essay_dir, words_per_passage=80):
    out = []  # (essay name, passage text)
    for path in sorted(pathlib.Path(essay_dir).glob("*.txt")):
        words = re.sub(r"\s+", " ", path.read_text(errors="replace")).strip().split(" ")
        for i in range(0, len(words) - words_per_passage // 2, words_per_passage):
            out.append((path.stem, " ".join(words[i:i + words_per_passage])))
    return out


def question_for(text, rng):
    words = text.split(" ")
    start = rng.randrange(0, max(1, len(words) - 4))
    answer = " ".join(words[start:start + 3])
    return f"Which three words follow \"{' '.join(words[max(0, start - 3):start])}\" in the passage?", answer


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    essay_dir, out_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    items = passages(essay_dir)
    if len(items) < 20:
        sys.exit(f"{essay_dir}: too few essay passages ({len(items)}) for stand-in QA documents")

    articles = {}
    for title, text in items:
        question, answer = question_for(text, rng)
        articles.setdefault(title, []).append(
            {"context": text, "qas": [{"question": question, "answers": [{"text": answer}], "is_impossible": False}]})
    squad = {"version": "v2.0-standin", "data": [{"title": t, "paragraphs": p} for t, p in articles.items()]}
    (out_dir / "squad.json").write_text(json.dumps(squad))

    hotpot = []
    for q in range(len(items) // 10):
        group = items[q * 10:(q + 1) * 10]
        question, answer = question_for(group[0][1], rng)
        context = [[f"{title} {q}.{k}", [s + "." for s in text.split(". ") if s]] for k, (title, text) in enumerate(group)]
        hotpot.append({"question": question, "answer": answer, "context": context})
    (out_dir / "hotpotqa.json").write_text(json.dumps(hotpot))
    print(f"{out_dir}: squad.json ({len(items)} passages), hotpotqa.json ({len(hotpot)} questions)")


if __name__ == "__main__":
    main()
