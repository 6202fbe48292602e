#!/usr/bin/env python3
"""bench/torch_vae.py: the PyTorch peer of `npm run bench` (bench/run.mjs spawns it).

Trains the same VAEs as onnxvae (Bernoulli likelihood, analytic KL, loss = mean over the batch of KL - log p(x|z),
Adam) on random binary batches and prints ONE JSON object on stdout: per model its median ms per optimizer step
over the repetitions, each repetition's ms/step and the last loss.

    OPENBLAS_NUM_THREADS=1 python3 bench/torch_vae.py '{"threads": 2, "steps": 20, "warmup": 5, "reps": 5,
        "models": [{"name": "reference", "arch": "mlp", "hidden": [400], "latent": 20, "batch": 128}]}'

A model is {name, arch: "mlp"|"conv", hidden, latent, batch, activation ("relu"|"tanh"), eps (Adam's, 1e-8),
channels (conv: channels after each kernel-4 stride-2 padding-1 convolution)}; the input is 784 values (conv: 1×28×28).
Run it with OPENBLAS_NUM_THREADS=1: Debian's torch links OpenBLAS, whose own threads otherwise fight torch's OpenMP
threads for the cores (bench/README.md).
"""

import json
import statistics
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

D = 784


def act(name):
    return {"relu": nn.ReLU, "tanh": nn.Tanh}[name]()


def mlp(sizes, activation):
    layers = []
    for i in range(1, len(sizes)):
        layers.append(nn.Linear(sizes[i - 1], sizes[i]))
        if i < len(sizes) - 1:
            layers.append(act(activation))
    return nn.Sequential(*layers)


class Vae(nn.Module):
    """onnxvae's models/vae.ts: encoder trunk, μ and log σ² heads, decoder to Bernoulli logits."""

    def __init__(self, m):
        super().__init__()
        a = m.get("activation", "relu")
        hidden, latent = m["hidden"], m["latent"]
        if m["arch"] == "mlp":
            self.trunk = nn.Sequential(mlp([D, *hidden], a), act(a))
            width = hidden[-1]
            self.dec = mlp([latent, *reversed(hidden), D], a)
        else:
            ch = m.get("channels", [32, 64])
            convs, cin = [], 1
            for c in ch:
                convs += [nn.Conv2d(cin, c, 4, 2, 1), act(a)]
                cin = c
            f = 2 ** len(ch)
            flat = cin * (28 // f) * (28 // f)
            self.trunk = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), *convs, nn.Flatten(1), mlp([flat, *hidden], a), act(a))
            width = hidden[-1]
            rev = list(reversed(ch))
            deconvs = []
            for i, c in enumerate(rev):
                cout = rev[i + 1] if i + 1 < len(rev) else 1
                deconvs.append(nn.ConvTranspose2d(c, cout, 4, 2, 1))
                if i + 1 < len(rev):
                    deconvs.append(act(a))
            self.dec = nn.Sequential(
                mlp([latent, *reversed(hidden), flat], a), act(a), nn.Unflatten(1, (rev[0], 28 // f, 28 // f)), *deconvs, nn.Flatten(1)
            )
        self.mu = nn.Linear(width, latent)
        self.logvar = nn.Linear(width, latent)

    def loss(self, x, eps):
        h = self.trunk(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = self.dec(z)
        rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (mu * mu + logvar.exp() - logvar - 1).sum(1)
        return (kl - rec).mean()


def bench(m, steps, warmup, reps):
    torch.manual_seed(0)
    model = Vae(m)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=m.get("eps", 1e-8))
    b = m["batch"]
    xs = [(torch.rand(b, D) < 0.5).float() for _ in range(4)]

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(xs[i % len(xs)], torch.randn(b, m["latent"]))
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(warmup):
        step(i)
    per_rep, loss = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        for i in range(steps):
            loss = step(i)
        per_rep.append((time.perf_counter() - t0) * 1000 / steps)
    return {"ms_per_step": statistics.median(per_rep), "reps_ms": per_rep, "loss": loss}


def main():
    opts = json.loads(sys.argv[1])
    torch.set_num_threads(opts["threads"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "models": {}}
    for m in opts["models"]:
        steps = max(1, round(opts["steps"] * m.get("step_scale", 1)))
        out["models"][m["name"]] = bench(m, steps, opts["warmup"], opts["reps"])
        print(f"torch {m['name']}: {out['models'][m['name']]['ms_per_step']:.2f} ms/step", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
