"""Reference numbers for dev.align.core.train tests, from torch.optim.AdamW, torch.nn.utils.clip_grad_norm_
and transformers' get_scheduler. Run once with the reference Python (PyTorch 2.13, transformers 5.18):

    /tmp/ref/bin/python make_goldens.py

It writes adamw.json, clip.json and schedules.json next to itself. Tests read only the JSON files.
"""
import json
import math
import os

import torch
from transformers import TrainingArguments
from transformers.optimization import get_scheduler

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float32)


def vals(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def adamw_case(name, lrs, betas, eps, wd, steps=5):
    g = torch.Generator().manual_seed(1234)
    a = torch.randn(2, 3, generator=g)
    b = torch.randn(4, generator=g)
    grads = [(torch.randn(2, 3, generator=g) * 0.5, torch.randn(4, generator=g) * 2.0) for _ in range(steps)]
    pa = torch.nn.Parameter(a.clone())
    pb = torch.nn.Parameter(b.clone())
    opt = torch.optim.AdamW(
        [{"params": [pa], "weight_decay": wd}, {"params": [pb], "weight_decay": 0.0}],
        lr=lrs[0], betas=betas, eps=eps)
    out = {"name": name, "betas": list(betas), "eps": eps, "weight_decay": wd, "lrs": lrs,
           "a0": vals(a), "b0": vals(b), "shape_a": [2, 3], "shape_b": [4],
           "grads_a": [vals(x) for x, _ in grads], "grads_b": [vals(y) for _, y in grads],
           "a": [], "b": []}
    for k in range(steps):
        for group in opt.param_groups:
            group["lr"] = lrs[k]
        pa.grad = grads[k][0].clone()
        pb.grad = grads[k][1].clone()
        opt.step()
        out["a"].append(vals(pa))
        out["b"].append(vals(pb))
    out["exp_avg_a"] = vals(opt.state[pa]["exp_avg"])
    out["exp_avg_sq_a"] = vals(opt.state[pa]["exp_avg_sq"])
    out["exp_avg_b"] = vals(opt.state[pb]["exp_avg"])
    out["exp_avg_sq_b"] = vals(opt.state[pb]["exp_avg_sq"])
    return out


def clip_case(name, scale, max_norm):
    g = torch.Generator().manual_seed(99)
    shapes = [[3, 2], [5], [1, 4]]
    grads = [torch.randn(*s, generator=g) * scale for s in shapes]
    ps = [torch.nn.Parameter(torch.zeros(*s)) for s in shapes]
    for p, x in zip(ps, grads):
        p.grad = x.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    return {"name": name, "max_norm": max_norm, "shapes": shapes, "grads": [vals(x) for x in grads],
            "total_norm": float(total), "clipped": [vals(p.grad) for p in ps]}


def schedule_case(name, warmup, total, kwargs=None, lr=2e-4, upto=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sch = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=total,
                        scheduler_specific_kwargs=kwargs)
    lrs = []
    for _ in range((upto or total) + 1):
        lrs.append(opt.param_groups[0]["lr"])  # the lr the next optimizer step uses
        opt.step()
        sch.step()
    return {"name": name, "warmup": warmup, "total": total, "kwargs": kwargs or {}, "lr": lr, "lrs": lrs}


def main():
    adamw = [
        adamw_case("defaults_decay", [1e-2, 5e-3, 2e-2, 1e-2, 1e-3], (0.9, 0.999), 1e-8, 0.1),
        adamw_case("no_decay", [1e-3] * 5, (0.9, 0.999), 1e-8, 0.0),
        adamw_case("betas_eps", [3e-2, 3e-2, 1e-2, 1e-2, 5e-3], (0.8, 0.95), 1e-6, 0.05),
    ]
    clip = [clip_case("clipped", 1.0, 1.0), clip_case("unclipped", 0.01, 1.0), clip_case("tight", 3.0, 0.25)]
    sch = [
        schedule_case("constant", 0, 10, upto=12),
        schedule_case("constant_with_warmup", 3, 10, upto=12),
        schedule_case("linear", 3, 10, upto=12),
        schedule_case("linear", 0, 7),
        schedule_case("cosine", 3, 10, upto=12),
        schedule_case("cosine", 0, 9),
        schedule_case("cosine", 2, 50),
        schedule_case("cosine_with_min_lr", 3, 10, {"min_lr_rate": 0.1}, upto=12),
        schedule_case("cosine_with_min_lr", 2, 20, {"min_lr": 1e-5}),
    ]
    warm = []
    for ws, total in [(0.1, 95), (0.03, 1000), (0.0, 50), (5, 50), (1, 10), (0.5, 3)]:
        args = TrainingArguments(output_dir="/tmp/unused", warmup_steps=ws, report_to=[])
        warm.append({"warmup_steps": ws, "total": total, "resolved": args.get_warmup_steps(total)})
    for fname, obj in [("adamw.json", adamw), ("clip.json", clip),
                       ("schedules.json", {"schedules": sch, "warmup": warm})]:
        with open(os.path.join(HERE, fname), "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
