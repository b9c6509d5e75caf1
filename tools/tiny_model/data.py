"""Packed training rows for the tiny model, generated on the fly in worker processes.

Contract: RowStream(cfg, seed).rows(phase) yields (ids, weights) int32/float32 arrays of length row_len + 1;
weights[t] is the loss weight for predicting ids[t] from ids[:t] (answers and EOS 1.0, everything else
cfg.context_weight). Samples are the task prompts of tasks.py tokenized exactly as an evaluator would
(BOS + prompt + answer_prefix in one piece, the answer separately), followed by optional follow-up questions
(training only), packed back to back; the last sample in a row is cut at the row end.
"""
import math
import random

import numpy as np
from tokenizers import Tokenizer

import tasks

# task -> sampling weight
MIX = {
    "niah_single_1": 0.10, "niah_single_2": 0.12, "niah_single_3": 0.07, "niah_multikey_1": 0.12,
    "niah_multikey_2": 0.14, "niah_multikey_3": 0.05, "niah_multivalue": 0.08, "niah_multiquery": 0.08,
    "vt": 0.10, "gkamradt": 0.14,
}

# curriculum: (start fraction of training time, min sample tokens, max sample tokens, row length)
PHASES = [(0.0, 48, 384, 1024), (0.12, 96, 1536, 2048), (0.35, 128, 4096, 4096), (0.55, 256, 8192, 8192)]


def phase_at(frac):
    cur = PHASES[0]
    for p in PHASES:
        if frac >= p[0]:
            cur = p
    return cur


class RowStream:
    def __init__(self, tokenizer_path, essays, seed, context_weight=0.05, max_follow_ups=8):
        self.tok = Tokenizer.from_file(tokenizer_path)
        self.bos = self.tok.token_to_id("<|begin_of_text|>")
        self.eos = self.tok.token_to_id("<|end_of_text|>")
        self.src = tasks.Sources(essays)
        self.rng = random.Random(seed)
        self.cw = context_weight
        self.max_follow_ups = max_follow_ups
        self.names = list(MIX)
        self.probs = [MIX[n] for n in self.names]

    def enc(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def sample_tokens(self, task, min_tok, max_tok, follow_ups):
        rng = self.rng
        target = int(math.exp(rng.uniform(math.log(min_tok), math.log(max_tok))))
        s = tasks.make_task(rng, self.src, task, tasks.units_for_tokens(task, target), follow_ups=follow_ups,
                            random_start=rng.random() < 0.8)
        ids = [self.bos] + self.enc(s.prompt + s.answer_prefix)
        w = [self.cw] * len(ids)
        ans = self.enc(s.answer) + [self.eos]
        ids += ans
        w += [1.0] * len(ans)
        for q, a in s.extra:
            qi = self.enc(q)
            ai = self.enc(a) + [self.eos]
            ids += qi + ai
            w += [self.cw] * len(qi) + [1.0] * len(ai)
        return ids, w

    def row(self, frac):
        _, lo, hi, row_len = phase_at(frac)
        ids, w = [], []
        while len(ids) < row_len + 1:
            task = self.rng.choices(self.names, self.probs)[0]
            fu = self.rng.randint(0, self.max_follow_ups) if self.rng.random() < 0.7 else 0
            i, ww = self.sample_tokens(task, lo, hi, fu)
            ids += i
            w += ww
        ids = np.asarray(ids[:row_len + 1], dtype=np.int32)
        w = np.asarray(w[:row_len + 1], dtype=np.float32)
        # position 0 is never predicted
        w[0] = 0.0
        return ids, w


def exact_prompt_ids(tok, sample):
    """Token ids an evaluator feeds (BOS + prompt + answer_prefix) and the reference answer ids (+EOS)."""
    bos = tok.token_to_id("<|begin_of_text|>")
    eos = tok.token_to_id("<|end_of_text|>")
    p = [bos] + tok.encode(sample.prompt + sample.answer_prefix, add_special_tokens=False).ids
    a = tok.encode(sample.answer, add_special_tokens=False).ids + [eos]
    return p, a
