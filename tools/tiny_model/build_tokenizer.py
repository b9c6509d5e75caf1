"""Train the tiny model's byte-level BPE tokenizer (tokenizers library) and write tokenizer.json.

Contract: ByteLevel BPE, Llama-3-style Split pre-tokenizer regex (digits in groups of up to 3) followed by
ByteLevel(use_regex=False), ByteLevel decoder, a TemplateProcessing post-processor that prepends
<|begin_of_text|>; special tokens <|begin_of_text|> (id 0) and <|end_of_text|> (id 1, EOS). The corpus is the
Paul Graham essays plus generated task prompts, so every 1-3 digit group is a single token.

    python3 tools/tiny_model/build_tokenizer.py --essays data/niah/PaulGrahamEssays --out models/tiny-loom
"""
import argparse
import json
import os
import random
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tasks  # noqa: E402

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"


def corpus(src, seed):
    rng = random.Random(seed)
    yield src.essay_raw
    names = list(tasks.RULER_NIAH) + ["vt", "gkamradt"]
    for i in range(6000):
        t = names[i % len(names)]
        s = tasks.make_task(rng, src, t, 6 if t in ("niah_single_1", "vt", "niah_multikey_2", "niah_multikey_3")
                            else 60)
        yield s.prompt + s.answer_prefix + s.answer
    # every 3-digit group many times, so BPE learns all of them
    for _ in range(60):
        nums = [str(rng.randint(1000000, 9999999)) for _ in range(5000)]
        yield " ".join(nums)
    for _ in range(20):
        yield " ".join(src.word_key(rng) for _ in range(3000))


def build(essays, out, vocab_size, seed=0):
    src = tasks.Sources(essays)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(src, seed), trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, tok.token_to_id(BOS))])
    os.makedirs(out, exist_ok=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": EOS,
                   "pad_token": EOS, "model_max_length": 8192, "clean_up_tokenization_spaces": False}, f, indent=2)
        f.write("\n")
    missing = [f"{n:03d}" for n in range(1000) if tok.token_to_id(
        "".join(chr(c) for c in f"{n:03d}".encode())) is None]
    print(f"vocab {tok.get_vocab_size()}, 3-digit groups missing: {len(missing)}")
    return tok


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--essays", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=4096)
    a = ap.parse_args()
    build(a.essays, a.out, a.vocab)
