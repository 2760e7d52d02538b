"""Reference numbers for RmRecipe's eval_only on testdata/reference/data/pref.jsonl with rm_llama.

Run from the repository root with /tmp/ref/bin/python (torch 2.13, transformers 5.18):

    /tmp/ref/bin/python reward-model/src/test/resources/reference/make_rm_eval.py

Rewards come from transformers' LlamaForSequenceClassification, one sequence per forward (no padding), on
prompt + response + eos tokenized as one string (the shared convention). Writes rm_eval.json with the
metrics over all 32 pairs (which must agree with testdata/reference/expected/rm_loss.json) and over the 31
pairs that remain when the record whose chosen equals its rejected (line 5) is skipped as a bad record,
and the rewards of a few conversations rendered by the tokenizer's chat template (apply_chat_template,
tokenized without adding special tokens: the template writes <s> itself), for align score.
"""
import json
import math
import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

ROOT = "testdata/reference"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rm_eval.json")

tok = AutoTokenizer.from_pretrained(f"{ROOT}/rm_llama")
model = AutoModelForSequenceClassification.from_pretrained(f"{ROOT}/rm_llama", dtype=torch.float32).eval()
records = [json.loads(l) for l in open(f"{ROOT}/data/pref.jsonl")]


def reward(prompt, completion):
    ids = tok(prompt + completion + tok.eos_token, return_tensors="pt").input_ids
    with torch.no_grad():
        return model(input_ids=ids).logits[0, 0].item()


def metrics(pairs):
    rc = [c for c, _ in pairs]
    rr = [r for _, r in pairs]
    n = len(pairs)
    d = [c - r for c, r in pairs]
    everything = rc + rr
    return {
        "loss": sum(math.log1p(math.exp(-x)) for x in d) / n,
        "accuracy": sum(1 for x in d if x > 0) / n,
        "margin": sum(d) / n,
        "mean_reward": sum(everything) / len(everything),
        "min_reward": min(everything),
        "max_reward": max(everything),
        "rewards/chosen": sum(rc) / n,
        "rewards/rejected": sum(rr) / n,
        "pairs": n,
        # with center_rewards_coefficient = 0.01
        "loss_center_0.01": sum(math.log1p(math.exp(-x)) for x in d) / n
        + 0.01 * sum((c + r) ** 2 for c, r in pairs) / n,
    }


pairs = [(reward(r["prompt"], r["chosen"]), reward(r["prompt"], r["rejected"])) for r in records]
good = [p for p, r in zip(pairs, records) if r["chosen"] != r["rejected"]]
expected = json.load(open(f"{ROOT}/expected/rm_loss.json"))
out = {"all_32": metrics(pairs), "skip_bad_31": metrics(good), "skipped_lines": [
    i + 1 for i, r in enumerate(records) if r["chosen"] == r["rejected"]]}
for k in ("loss", "accuracy", "margin", "rewards/chosen", "rewards/rejected"):
    assert abs(out["all_32"][k] - expected[k]) < 1e-5, (k, out["all_32"][k], expected[k])
conversations = [
    [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["chosen"].strip()}]
    for r in records[:3]
] + [[{"role": "system", "content": "bive boro"}, {"role": "user", "content": "bina buko"},
      {"role": "assistant", "content": "bike"}, {"role": "user", "content": "besu"},
      {"role": "assistant", "content": "bise bimo buka"}]]
out["conversations"] = []
for c in conversations:
    text = tok.apply_chat_template(c, tokenize=False)
    ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        out["conversations"].append({"messages": c, "reward": model(input_ids=ids).logits[0, 0].item()})
json.dump(out, open(OUT, "w"), indent=2)
print(json.dumps(out, indent=2))
