"""A LoRA reward model in PEFT's format, and its rewards, for RmLoraTest.

Run from the repository root with /tmp/ref/bin/python (torch 2.13, transformers 5.18, peft 0.21):

    /tmp/ref/bin/python reward-model/src/test/resources/reference/make_peft_rm.py

Base: testdata/reference/llama_gqa as AutoModelForSequenceClassification (num_labels 1, a fresh score head);
LoRA r=4, alpha=8 on q_proj and v_proj with task_type SEQ_CLS (PEFT then saves the score head through
modules_to_save). lora_B and the score head get seeded random values so both matter. Writes
peft_rm/adapter_config.json, peft_rm/adapter_model.safetensors and peft_rm_rewards.json (the reward of
prompt + chosen + eos and prompt + rejected + eos of the first 6 records of data/pref.jsonl).
"""
import json
import os

import torch
from peft import LoraConfig, TaskType, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer

ROOT = "testdata/reference"
HERE = os.path.dirname(os.path.abspath(__file__))

torch.manual_seed(7)
base = AutoModelForSequenceClassification.from_pretrained(f"{ROOT}/llama_gqa", num_labels=1, dtype=torch.float32)
model = get_peft_model(base, LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, lora_dropout=0.0,
                                        target_modules=["q_proj", "v_proj"]))
with torch.no_grad():
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.normal_(0, 0.1)
        if "score" in name and p.requires_grad:
            p.normal_(0, 0.3)
model.eval()
model.save_pretrained(f"{HERE}/peft_rm")
cfg_path = f"{HERE}/peft_rm/adapter_config.json"
cfg = json.load(open(cfg_path))
cfg["base_model_name_or_path"] = "llama_gqa"  # the test points it at the fixture
json.dump(cfg, open(cfg_path, "w"), indent=2)
os.remove(f"{HERE}/peft_rm/README.md")

tok = AutoTokenizer.from_pretrained(f"{ROOT}/llama_gqa")
records = [json.loads(l) for l in open(f"{ROOT}/data/pref.jsonl")][:6]
out = []
for r in records:
    for side in ("chosen", "rejected"):
        ids = tok(r["prompt"] + r[side] + tok.eos_token, return_tensors="pt").input_ids
        with torch.no_grad():
            reward = model(input_ids=ids).logits[0, 0].item()
        out.append({"prompt": r["prompt"], "completion": r[side], "reward": reward})
json.dump(out, open(f"{HERE}/peft_rm_rewards.json", "w"), indent=2)
print(json.dumps(out[:3], indent=2))
