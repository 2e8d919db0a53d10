#!/usr/bin/env python3
"""One MADDPG update round in PyTorch (CPU, one thread), timed.

The same computation as `dwcp_maddpg::Maddpg::update` with the shapes of
`dwcp_maddpg::experiments::speed::SpeedConfig::reference`: 4 agents, 27
observations and 3 categorical groups of 4 logits each, batch 1024, two
64-unit ReLU layers in actors and centralised critics, Adam lr 1e-2,
per-tensor gradient-norm clip 0.5, gamma 0.95, tau 0.01, Gumbel-softmax
(temperature 1, soft) for target and policy actions, actor regulariser
1e-3 * mean(logits^2). One sampled index set per round, shared by all agents;
target actions computed once per round; no critic weight gradients in the
policy step (critic parameters frozen there), as in the Rust update.

Prints one JSON line: {"median_ms", "mean_ms", "cpu_mean_ms", "rounds", "torch",
"threads"}; cpu_mean_ms is the main thread's on-CPU time per round
(CLOCK_THREAD_CPUTIME_ID), which waiting for a core on a shared machine does
not inflate.
Usage: torch_update.py [rounds]
"""
import json
import sys
import time

import torch
from torch import nn

AGENTS, OBS, GROUPS, SIZE, BATCH, HIDDEN = 4, 27, 3, 4, 1024, 64
ACT = GROUPS * SIZE
LR, CLIP, GAMMA, TAU, REG = 1e-2, 0.5, 0.95, 0.01, 1e-3


def mlp(inp, out):
    return nn.Sequential(
        nn.Linear(inp, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, out)
    )


def gumbel_softmax(logits):
    u = torch.rand_like(logits).clamp_(1e-7, 1.0 - 1e-7)
    y = logits - torch.log(-torch.log(u))
    return torch.softmax(y.view(-1, GROUPS, SIZE), dim=-1).view(-1, ACT)


def clip_per_tensor(params):
    for p in params:
        if p.grad is not None:
            torch.nn.utils.clip_grad_norm_([p], CLIP)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    torch.set_num_threads(1)
    torch.manual_seed(1)
    crit_in = AGENTS * (OBS + ACT)
    actors = [mlp(OBS, ACT) for _ in range(AGENTS)]
    critics = [mlp(crit_in, 1) for _ in range(AGENTS)]
    t_actors = [mlp(OBS, ACT) for _ in range(AGENTS)]
    t_critics = [mlp(crit_in, 1) for _ in range(AGENTS)]
    for t, s in zip(t_actors + t_critics, actors + critics):
        t.load_state_dict(s.state_dict())
    a_opt = [torch.optim.Adam(a.parameters(), lr=LR) for a in actors]
    c_opt = [torch.optim.Adam(c.parameters(), lr=LR) for c in critics]
    n = 2 * BATCH
    obs = [torch.rand(n, OBS) for _ in range(AGENTS)]
    nxt = [torch.rand(n, OBS) for _ in range(AGENTS)]
    act = [torch.rand(n, ACT) for _ in range(AGENTS)]
    rew = [torch.rand(n, 1) for _ in range(AGENTS)]
    done = torch.zeros(n, 1)

    def update():
        idx = torch.randint(0, n, (BATCH,))
        o = [x[idx] for x in obs]
        o2 = [x[idx] for x in nxt]
        a = [x[idx] for x in act]
        r = [x[idx] for x in rew]
        d = done[idx]
        with torch.no_grad():
            a2 = [gumbel_softmax(t_actors[j](o2[j])) for j in range(AGENTS)]
            x2 = torch.cat(o2 + a2, dim=1)
        x = torch.cat(o + a, dim=1)
        for i in range(AGENTS):
            with torch.no_grad():
                y = r[i] + GAMMA * (1.0 - d) * t_critics[i](x2)
            q = critics[i](x)
            loss = ((q - y) ** 2).mean()
            c_opt[i].zero_grad()
            loss.backward()
            clip_per_tensor(critics[i].parameters())
            c_opt[i].step()
            logits = actors[i](o[i])
            ai = gumbel_softmax(logits)
            xa = torch.cat(o + a[:i] + [ai] + a[i + 1:], dim=1)
            # The critic is fixed in the policy step: no weight gradients for it
            # (the Rust update does not compute them either).
            critics[i].requires_grad_(False)
            p_loss = -critics[i](xa).mean() + REG * (logits ** 2).mean()
            a_opt[i].zero_grad()
            p_loss.backward()
            critics[i].requires_grad_(True)
            clip_per_tensor(actors[i].parameters())
            a_opt[i].step()
        with torch.no_grad():
            for t, s in zip(t_actors + t_critics, actors + critics):
                for pt, ps in zip(t.parameters(), s.parameters()):
                    pt.mul_(1.0 - TAU).add_(ps, alpha=TAU)

    for _ in range(3):
        update()
    times = []
    cpu_start = time.thread_time_ns()
    for _ in range(rounds):
        start = time.perf_counter()
        update()
        times.append((time.perf_counter() - start) * 1e3)
    cpu_mean = (time.thread_time_ns() - cpu_start) / 1e6 / rounds
    mean = sum(times) / len(times)
    times.sort()
    print(json.dumps({
        "median_ms": times[len(times) // 2],
        "mean_ms": mean,
        "cpu_mean_ms": cpu_mean,
        "rounds": rounds,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
