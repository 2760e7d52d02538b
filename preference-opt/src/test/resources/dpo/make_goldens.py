"""Goldens for DpoEvalGoldenTest: DPO-family eval metrics of dpo_policy vs dpo_ref.

Run from the repository root with the reference environment (PyTorch / transformers 5.18 / TRL 1.13):

    /tmp/ref/bin/python preference-opt/src/test/resources/dpo/make_goldens.py

Two independent computations, which must agree before anything is written:

1. transformers forward passes, one unpadded sequence at a time, and the objectives' formulas in float64
   (every loss type, cDPO and SimPO/ORPO included);
2. TRL's own DPOTrainer.evaluate() (one eval batch holding every pair, so its per-batch averages are
   whole-set values) for the loss types TRL 1.13 still has: sigmoid, ipo, hinge, robust. (TRL 1.13's
   sigmoid ignores label_smoothing; cDPO is checked through (1) only.)

On the full 32-pair file (1) must also reproduce testdata/reference/expected/dpo_*.json. The goldens are
for the 31 pairs of pref.jsonl without its chosen == rejected record (line 5), which Align's data
validation refuses and `skip_bad_records: true` drops.
"""

import json
import math
import os
import sys
import tempfile

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 5))
REF = os.path.join(ROOT, "testdata", "reference")
OUT = os.path.dirname(os.path.abspath(__file__))
BETA = 0.1

CONFIGS = [  # name, loss_type, beta, label_smoothing, simpo_gamma
    ("sigmoid", "sigmoid", BETA, 0.0, 0.0),
    ("cdpo", "sigmoid", BETA, 0.1, 0.0),
    ("ipo", "ipo", BETA, 0.0, 0.0),
    ("hinge", "hinge", BETA, 0.0, 0.0),
    ("robust", "robust", BETA, 0.1, 0.0),
    ("simpo", "simpo", 2.0, 0.0, 0.5),
    ("orpo", "orpo", BETA, 0.0, 0.0),
]


def read(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def seq_stats(model, tok, prompt, completion):
    """Sum of completion log-probs (eos appended), token count, sum over completion positions of the
    vocabulary-mean logit (TRL's logits/* numerator), and the completion's NLL sum."""
    p = tok(prompt)["input_ids"]
    full = tok(prompt + completion + tok.eos_token)["input_ids"]
    assert full[: len(p)] == p
    ids = torch.tensor([full])
    with torch.no_grad():
        logits = model(ids).logits[0].double()  # [T, V]
    lp = logits[:-1].log_softmax(-1).gather(1, ids[0, 1:, None]).squeeze(1)  # predicts tokens 1..T-1
    comp = slice(len(p) - 1, len(full) - 1)
    return lp[comp].sum().item(), len(full) - len(p), logits[:-1][comp].mean(-1).sum().item()


def stats(model, tok, data):
    out = []
    for d in data:
        c = seq_stats(model, tok, d["prompt"], d["chosen"])
        r = seq_stats(model, tok, d["prompt"], d["rejected"])
        out.append((c, r))
    return out


def log_sigmoid(x):
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


def metrics(pol, ref, loss_type, beta, eps, gamma):
    n = len(pol)
    pc = [p[0][0] for p in pol]
    pr = [p[1][0] for p in pol]
    nc = [p[0][1] for p in pol]
    nr = [p[1][1] for p in pol]
    losses, rc, rr = [], [], []
    for i in range(n):
        if loss_type in ("simpo", "orpo"):
            ac, ar = pc[i] / nc[i], pr[i] / nr[i]
            rc.append(beta * ac)
            rr.append(beta * ar)
            if loss_type == "simpo":
                z = beta * (ac - ar) - gamma
                losses.append(-(1 - eps) * log_sigmoid(z) - eps * log_sigmoid(-z))
            else:
                log_odds = (ac - ar) - (math.log1p(-math.exp(ac)) - math.log1p(-math.exp(ar)))
                losses.append(-beta * log_sigmoid(log_odds))
            continue
        dc = pc[i] - ref[i][0][0]
        dr = pr[i] - ref[i][1][0]
        bh = beta * (dc - dr)
        rc.append(beta * dc)
        rr.append(beta * dr)
        if loss_type == "sigmoid":
            losses.append(-(1 - eps) * log_sigmoid(bh) - eps * log_sigmoid(-bh))
        elif loss_type == "robust":
            losses.append((-(1 - eps) * log_sigmoid(bh) + eps * log_sigmoid(-bh)) / (1 - 2 * eps))
        elif loss_type == "hinge":
            losses.append(max(0.0, 1 - bh))
        elif loss_type == "ipo":
            losses.append((dc / nc[i] - dr / nr[i] - 1 / (2 * beta)) ** 2)
    loss = sum(losses) / n
    if loss_type == "orpo":
        loss += -sum(pc) / sum(nc)  # token-mean NLL over every chosen token
    return {
        "loss": loss,
        "rewards/chosen": sum(rc) / n,
        "rewards/rejected": sum(rr) / n,
        "rewards/accuracies": sum(1.0 for i in range(n) if rc[i] > rr[i]) / n,
        "rewards/margins": sum(rc[i] - rr[i] for i in range(n)) / n,
        "logps/chosen": sum(pc) / n,
        "logps/rejected": sum(pr) / n,
        "logits/chosen": sum(p[0][2] for p in pol) / sum(nc),
        "logits/rejected": sum(p[1][2] for p in pol) / sum(nr),
        "n_pairs": n,
    }


def trl_eval(policy_dir, ref_dir, data, loss_type, eps):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    tok = AutoTokenizer.from_pretrained(policy_dir)
    policy = AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float32)
    ref = AutoModelForCausalLM.from_pretrained(ref_dir, dtype=torch.float32)
    ds = Dataset.from_list(data)
    with tempfile.TemporaryDirectory() as tmp:
        args = DPOConfig(output_dir=tmp, per_device_eval_batch_size=len(data), per_device_train_batch_size=1,
                         bf16=False, fp16=False, gradient_checkpointing=False, loss_type=[loss_type], beta=BETA,
                         label_smoothing=eps, report_to=[], use_cpu=True, max_length=None)
        trainer = DPOTrainer(model=policy, ref_model=ref, args=args, processing_class=tok, train_dataset=ds,
                             eval_dataset=ds)
        return trainer.evaluate()


def main():
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(os.path.join(REF, "dpo_policy"))
    policy = AutoModelForCausalLM.from_pretrained(os.path.join(REF, "dpo_policy"), dtype=torch.float32).eval()
    ref = AutoModelForCausalLM.from_pretrained(os.path.join(REF, "dpo_ref"), dtype=torch.float32).eval()
    data32 = read(os.path.join(REF, "data", "pref.jsonl"))
    data31 = [d for d in data32 if d["chosen"] != d["rejected"]]
    assert len(data31) == 31

    # (1) against the shared fixture on all 32 pairs
    pol32, ref32 = stats(policy, tok, data32), stats(ref, tok, data32)
    for t, eps in [("sigmoid", 0.0), ("sigmoid", 0.1), ("ipo", 0.0), ("hinge", 0.0), ("robust", 0.1)]:
        exp = json.load(open(os.path.join(REF, "expected", f"dpo_{t}_ls{eps}.json")))
        got = metrics(pol32, ref32, t, BETA, eps, 0.0)
        for k in ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                  "logps/chosen", "logps/rejected"]:
            assert abs(got[k] - exp[k]) < 1e-5, (t, eps, k, got[k], exp[k])

    pol31, ref31 = stats(policy, tok, data31), stats(ref, tok, data31)
    goldens = {}
    for name, t, beta, eps, gamma in CONFIGS:
        goldens[name] = dict(metrics(pol31, ref31, t, beta, eps, gamma), loss_type=t, beta=beta,
                             label_smoothing=eps, simpo_gamma=gamma)

    # (2) TRL's trainer on the 31 pairs
    for name, t, beta, eps, gamma in CONFIGS:
        if name in ("cdpo", "simpo", "orpo"):
            continue
        m = trl_eval(os.path.join(REF, "dpo_policy"), os.path.join(REF, "dpo_ref"), data31, t, eps)
        for k, v in goldens[name].items():
            if "/" in k or k == "loss":
                assert abs(m["eval_" + k] - v) < 1e-5, (name, k, m["eval_" + k], v)
        print(name, "TRL agrees:", {k: round(v, 6) for k, v in m.items() if k.startswith("eval_")}, file=sys.stderr)

    with open(os.path.join(OUT, "eval_goldens.json"), "w") as f:
        json.dump(goldens, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
