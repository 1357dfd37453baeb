"""The working-memory network and its training step in PyTorch, dense, the
way the paper's code does it: a weight tensor W[j, i, d] of N x N x D
floats, every step's input a dense (N*D)-vector context times W, autograd
through all T steps (so every step's context is kept for the backward
pass). Written from ../shared/specs/working-memory.md, not from the
paper's (GPL) code; the reference for bench/wm_train_vs_torch.py.

One training step, as spikeline's `spikeline train` with
    clamp = "pattern" (teacher forcing), loss = "soft_f1", gradient =
    "truncated" (no path through the recurrent spikes), reset_gradient =
    "detached", surrogate fast_sigmoid alpha 15, AdamW, batch = all patterns,
    no background (task.background = 0), no dropout
is: a forward pass of every pattern (in one batch), 1 - soft F1 pooled over
the scored steps D .. T-1, backward, one optimizer step.

    /usr/bin/python3 bench/wm_torch.py INIT.h5 [--steps K] [--threads 2] [--lr 0.003]

INIT.h5 is a `spikeline train` output (steps = 0): its /patterns and its
/edges/rec are the task and the initial weights, so both sides start from
the same point. Prints one JSON line: per-step seconds, losses, gradient
norms, peak RSS.
"""

import argparse
import json
import resource
import sys
import time

import h5py
import numpy as np
import torch


class SpikeFn(torch.autograd.Function):
    """Heaviside forward, fast sigmoid 1 / (alpha |x| + 1)^2 backward."""

    alpha = 15.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (SpikeFn.alpha * x.abs() + 1.0) ** 2


def load(path):
    with h5py.File(path, "r") as f:
        pats = torch.from_numpy(f["patterns"][()].astype(np.float32))  # [M, T, N]
        e = f["edges/rec"]
        src = e["source_node_id"][()].astype(np.int64)
        tgt = e["target_node_id"][()].astype(np.int64)
        w = e["0/syn_weight"][()]
        d = np.rint(e["0/delay"][()]).astype(np.int64)
    M, T, N = pats.shape
    D = int(d.max())
    # Wf[(d-1) * N + i, j]: context entry (i, d) -> neuron j.
    Wf = torch.zeros(D * N, N)
    Wf[torch.from_numpy((d - 1) * N + src), torch.from_numpy(tgt)] = torch.from_numpy(w).to(Wf.dtype)
    return pats, Wf, D


def step_loss(pats, Wf, D, beta=0.7, theta=1.0):
    """Forward with teacher forcing, soft-F1 loss on steps D .. T-1."""
    M, T, N = pats.shape
    u = torch.zeros(M, N)
    s_prev = torch.zeros(M, N)
    ctx = torch.zeros(M, D * N)  # [M, D*N]: lag 1 first
    out = []
    for t in range(T):
        I = ctx @ Wf
        u = beta * u + I - theta * s_prev.detach()
        s = SpikeFn.apply(u - theta)
        out.append(s)
        s_prev = s
        # The context is the union of the network's spikes and the clamped
        # pattern, detached: "truncated" (no gradient through the recurrence).
        ctx = torch.cat([torch.maximum(s.detach(), pats[:, t]), ctx[:, : (D - 1) * N]], dim=1)
    p = torch.stack(out[D:], dim=1)  # [M, T-D, N]
    y = pats[:, D:]
    tp = (p * y).sum()
    f1 = 2 * tp / (p.sum() + y.sum())
    return 1 - f1, f1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("init")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--double", action="store_true", help="float64 throughout (a precision check)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.double:
        torch.set_default_dtype(torch.float64)
    pats, Wf, D = load(a.init)
    pats, Wf = pats.to(torch.get_default_dtype()), Wf.to(torch.get_default_dtype())
    Wf.requires_grad_(True)
    opt = torch.optim.AdamW([Wf], lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    # Cosine schedule over the steps, as spikeline's (no warm-up, lr_min 0).
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.5 * (1 + np.cos(np.pi * k / a.steps)))
    times, losses, norms, f1s = [], [], [], []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss, f1 = step_loss(pats, Wf, D)
        loss.backward()
        norms.append(float(Wf.grad.norm()))
        opt.step()
        sched.step()
        times.append(time.perf_counter() - t0)
        losses.append(float(loss))
        f1s.append(float(f1))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"step_s": times, "loss": losses, "train_f1": f1s, "grad_norm": norms,
                      "peak_rss_mib": rss, "neurons": int(pats.shape[2]), "taps": D,
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    sys.exit(main())
