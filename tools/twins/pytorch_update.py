#!/usr/bin/env python3
"""One SAC or TD3 update in PyTorch, from the weights, batch and noise Sparrow wrote: the twin of Sparrow's update.

    python tools/twins/pytorch_update.py DIR      # every DIR/<case>.input.json -> DIR/<case>.output.json

CleanRL-style code written for this check (cleanrl/sac_continuous_action.py, td3_continuous_action.py), in the
order Sparrow's `SAC.update` / `TD3.update` document: target, both critics (MSE, one Adam step each), actor,
temperature (SAC, SB3's loss on the actor step's log-probabilities), soft target updates. Optimisers are
`torch.optim.Adam`. Sparse cases apply each layer's 0/1 mask the way TowS's masked Adam does: gradients and both
moments are multiplied by the mask before the step, the weights after it. float32 (and again in float64, see
main); the noise is
Sparrow's own draws (feature-major: action j of sample b at j*B + b), so both sides sample the same actions.
Needs torch (the `make bench-sb3` virtualenv has it).
"""
import json
import math
import pathlib
import sys

import torch

DT = torch.float32  # the precision of the run in progress (see main)


class MLP(torch.nn.Module):
    """ReLU MLP with the weights (out x in), biases and masks Sparrow wrote."""

    def __init__(self, layers):
        super().__init__()
        self.linears = torch.nn.ModuleList()
        self.masks = []
        for layer in layers:
            w = torch.tensor(layer["weight"], dtype=DT)
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(w)
                lin.bias.copy_(torch.tensor(layer["bias"], dtype=DT))
            self.linears.append(lin)
            self.masks.append(torch.tensor(layer["mask"], dtype=DT))

    def forward(self, x):
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if i < len(self.linears) - 1:
                x = torch.relu(x)
        return x

    def dump(self, optimizer=None):
        out = []
        for lin, mask in zip(self.linears, self.masks):
            layer = {"weight": lin.weight.detach().tolist(), "bias": lin.bias.detach().tolist(), "mask": mask.tolist()}
            if optimizer is not None:
                for name, p in (("weight", lin.weight), ("bias", lin.bias)):
                    state = optimizer.state.get(p, {})
                    zeros = torch.zeros_like(p)
                    layer[name + "_m"] = state.get("exp_avg", zeros).tolist()
                    layer[name + "_v"] = state.get("exp_avg_sq", zeros).tolist()
            out.append(layer)
        return out


def masked_step(optimizer, nets, sparse):
    """optimizer.step() with TowS's masked moments for masked layers (weights only; biases are dense)."""
    if sparse:
        with torch.no_grad():
            for net in nets:
                for lin, mask in zip(net.linears, net.masks):
                    lin.weight.grad.mul_(mask)
                    state = optimizer.state.get(lin.weight)
                    if state:
                        state["exp_avg"].mul_(mask)
                        state["exp_avg_sq"].mul_(mask)
    optimizer.step()
    if sparse:
        with torch.no_grad():
            for net in nets:
                for lin, mask in zip(net.linears, net.masks):
                    lin.weight.mul_(mask)


def soft_update(target, online, tau):
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters()):
            t.mul_(1 - tau).add_(tau * o)


def run(case, dtype=torch.float32):
    global DT
    DT = dtype
    torch.set_default_dtype(dtype)
    B, A = case["batch_size"], len(case["action_low"])
    low = torch.tensor(case["action_low"], dtype=DT)
    high = torch.tensor(case["action_high"], dtype=DT)
    scale, offset = (high - low) / 2, (high + low) / 2
    obs = torch.tensor(case["observations"], dtype=DT)
    next_obs = torch.tensor(case["next_observations"], dtype=DT)
    actions = torch.tensor(case["actions"], dtype=DT)
    rewards = torch.tensor(case["rewards"], dtype=DT)
    not_done = torch.tensor(case["not_terminated"], dtype=DT)
    noise = torch.tensor(case["noise"], dtype=DT)
    sparse, gamma, tau = case["sparse"], case["gamma"], case["tau"]
    nets = {name: MLP(layers) for name, layers in case["networks"].items()}
    actor, q1, q2, q1t, q2t = (nets[n] for n in ("actor", "critic1", "critic2", "target_critic1", "target_critic2"))
    eps = case["adam_eps"]
    actor_opt = torch.optim.Adam(actor.parameters(), lr=case["actor_lr"], eps=eps)
    q_opts = [torch.optim.Adam(q.parameters(), lr=case["critic_lr"], eps=eps) for q in (q1, q2)]
    out = {}

    def sample(observations, eps_noise):
        """Squashed Gaussian with fixed noise: action, log pi (CleanRL's log-prob with the action scale)."""
        h = actor(observations)
        mean, log_std = h[:, :A], torch.clamp(h[:, A:], case["log_std_min"], case["log_std_max"])
        std = log_std.exp()
        u = mean + std * eps_noise
        y = torch.tanh(u)
        log_prob = (-0.5 * eps_noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
                    - torch.log(scale * (1 - y.pow(2)) + 1e-6)).sum(1)
        return y * scale + offset, log_prob

    def noise_block(k):  # k-th block of A*B draws, as (B, A)
        return noise[k * A * B:(k + 1) * A * B].reshape(A, B).t()

    if case["algorithm"] == "sac":
        log_alpha = torch.tensor([math.log(case["alpha"])], dtype=torch.float32).to(DT).requires_grad_(True)
        alpha_opt = torch.optim.Adam([log_alpha], lr=case["alpha_lr"], eps=1e-8)
        alpha = log_alpha.exp().item()
        with torch.no_grad():
            next_a, next_logp = sample(next_obs, noise_block(0))
            x = torch.cat([next_obs, next_a], 1)
            min_q = torch.min(q1t(x), q2t(x)).squeeze(1) - alpha * next_logp
            y = case["reward_scale"] * rewards + gamma * not_done * min_q
    else:
        with torch.no_grad():
            smooth = torch.clamp(noise_block(0) * case["policy_noise"] * scale,
                                 -case["noise_clip"] * scale, case["noise_clip"] * scale)
            next_a = torch.clamp(torch.tanh(nets["target_actor"](next_obs)) * scale + offset + smooth, low, high)
            x = torch.cat([next_obs, next_a], 1)
            y = case["reward_scale"] * rewards + gamma * not_done * torch.min(q1t(x), q2t(x)).squeeze(1)

    # Critics: each its own MSE and Adam step.
    x = torch.cat([obs, actions], 1)
    critic_loss = 0.0
    for q, opt in zip((q1, q2), q_opts):
        loss = torch.nn.functional.mse_loss(q(x).squeeze(1), y)
        opt.zero_grad()
        loss.backward()
        masked_step(opt, [q], sparse)
        critic_loss += loss.item()
    out["critic_loss"] = critic_loss

    # Actor, against the updated critics.
    for p in list(q1.parameters()) + list(q2.parameters()):
        p.requires_grad_(False)
    if case["algorithm"] == "sac":
        a, logp = sample(obs, noise_block(1))
        xa = torch.cat([obs, a], 1)
        actor_loss = (alpha * logp - torch.min(q1(xa), q2(xa)).squeeze(1)).mean()
    else:
        a = torch.tanh(actor(obs)) * scale + offset
        actor_loss = -q1(torch.cat([obs, a], 1)).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    masked_step(actor_opt, [actor], sparse)
    out["actor_loss"] = actor_loss.item()

    if case["algorithm"] == "sac":
        if case["autotune_alpha"]:
            alpha_loss = -(log_alpha * (logp.detach() + case["target_entropy"])).mean()
            alpha_opt.zero_grad()
            alpha_loss.backward()
            alpha_opt.step()
            out["alpha_loss"] = alpha_loss.item()
        out["alpha"] = log_alpha.exp().item()
        soft_update(q1t, q1, tau)
        soft_update(q2t, q2, tau)
    else:
        soft_update(q1t, q1, tau)
        soft_update(q2t, q2, tau)
        soft_update(nets["target_actor"], actor, tau)

    optimizers = {"actor": actor_opt, "critic1": q_opts[0], "critic2": q_opts[1]}
    out["networks"] = {name: net.dump(optimizers.get(name)) for name, net in nets.items()}
    out["torch"] = torch.__version__
    return out


def main():
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/AgentsTests/Fixtures/pytorch-update")
    inputs = sorted(directory.glob("*.input.json"))
    if not inputs:
        sys.exit(f"no *.input.json in {directory}")
    for path in inputs:
        case = json.loads(path.read_text())
        result = run(case)
        # The same update in float64 from the same (float32) inputs: how far float32 itself is from the exact
        # result, entry by entry; the Swift test allows Sparrow twice that distance plus 1e-5 relative.
        exact = run(case, torch.float64)
        result["float64"] = {k: exact[k] for k in ("critic_loss", "actor_loss", "alpha", "alpha_loss", "networks") if k in exact}
        target = path.with_name(path.name.replace(".input.json", ".output.json"))
        target.write_text(json.dumps(result, sort_keys=True) + "\n")
        print(f"{target}: critic loss {result['critic_loss']:.6f}, actor loss {result['actor_loss']:.6f}")


if __name__ == "__main__":
    main()
