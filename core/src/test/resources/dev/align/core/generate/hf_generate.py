"""Writes hf_generate.json: transformers' own greedy generate() (KV cache, left padding) on the reference
checkpoints, the golden GeneratorGoldenTest compares against. Run from the repository root:
  /tmp/ref/bin/python core/src/test/resources/dev/align/core/generate/hf_generate.py
"""
import json, os, sys
import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

ROOT = "testdata/reference"
PROMPTS = ["bidu bulu bena bilo boko", "bega", "bimu bemo biza beli bobo bida boba boza bome"]
PROBE = [0, 1, 3, 7, 42, 100, 311, 511]  # vocabulary ids whose raw logits are recorded
NEW = 12
out = {"prompts": PROMPTS, "probe_ids": PROBE, "max_new_tokens": NEW, "cases": []}
for ckpt in ["llama_gqa", "qwen2_tied_bf16", "gpt2"]:
    for penalty in [1.0, 1.5]:
        d = os.path.join(ROOT, ckpt)
        tok = PreTrainedTokenizerFast.from_pretrained(d)  # AutoTokenizer picks a slow Qwen2Tokenizer
        tok.padding_side = "left"
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        enc = tok(PROMPTS, return_tensors="pt", padding=True)
        with torch.no_grad():
            g = model.generate(**enc, do_sample=False, max_new_tokens=NEW, repetition_penalty=penalty,
                               output_logits=True, return_dict_in_generate=True, eos_token_id=None,
                               pad_token_id=tok.pad_token_id)
        width = enc["input_ids"].shape[1]
        rows = []
        for r in range(len(PROMPTS)):
            new = g.sequences[r, width:].tolist()
            raw_lp, probes = [], []
            for s, t in enumerate(new):
                logits = g.logits[s][r].double()
                raw_lp.append(torch.log_softmax(logits, -1)[t].item())
                probes.append([logits[i].item() for i in PROBE])
            rows.append({"prompt_ids": enc["input_ids"][r][enc["attention_mask"][r].bool()].tolist(),
                         "tokens": new, "raw_logprobs": raw_lp, "probe_logits": probes})
        out["cases"].append({"checkpoint": ckpt, "repetition_penalty": penalty, "rows": rows})
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "hf_generate.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
print("ok", [(c["checkpoint"], c["repetition_penalty"], [r["tokens"][:4] for r in c["rows"]]) for c in out["cases"]])
