#!/usr/bin/env python3
"""One DQN update or one PPO minibatch step in PyTorch, from the weights and data Sparrow wrote: the twins of
`DQN.update` and `PPO.beginLearning` + `PPO.learnMinibatch` (the companion of pytorch_update.py, which does SAC/TD3).

    python tools/twins/pytorch_dqn_ppo_update.py DIR   # every DIR/<case>.input.json -> DIR/<case>.output.json

DQN (CleanRL's dqn.py, with Sparrow's choices): y = scale*r + gamma*not_terminated*max_a Qtarget(s', a); loss = mean
Huber (delta 1, `F.huber_loss`) or mean squared error of Q(s, a) - y; one `torch.optim.Adam` step (coupled weight
decay as its `weight_decay`); then, when the update count is a multiple of the interval, the soft target update.

PPO (CleanRL's ppo_continuous_action.py in TF-Agents' parameterisation, as PPO.swift documents): the observation
normaliser from the rollout (a fresh RunningMeanStd's first batch: mean and population variance, (x - mean) /
sqrt(var + 1e-3) clipped to +-5), rewards scaled then divided by sqrt(var + 1e-3) and clipped to +-10, values and
bootstrap values, GAE; then the minibatch at Sparrow's permutation: advantages normalised within it ((x - mean) /
sqrt(var + 1e-8), population variance), mean = mid + half*tanh(o), sigma = softplus(rho), the clipped surrogate,
- c_e * entropy, c_v * mean (V - R)^2, the gradient of their sum clipped to a global norm over both networks and rho
as `tf.clip_by_global_norm` does (g * clip / max(norm, clip); no 1e-6 as in torch's clip_grad_norm_), then Adam on
the actor with rho and on the value network, coupled weight decay on kernels only (not biases, not rho).

Sparse cases apply each layer's 0/1 mask as TowS's masked Adam does: gradients (before the norm) and both moments
are multiplied by the mask before the step, the weights after it. float32, and again in float64 from the same inputs
(see main). Needs torch (the `make bench-sb3` virtualenv has it).
"""
import json
import math
import pathlib
import sys

import torch

DT = torch.float32  # the precision of the run in progress (see main)
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def tensor(x, dtype=None):
    return torch.tensor(x, dtype=dtype or DT)


class MLP(torch.nn.Module):
    """An MLP with the weights (out x in), biases and masks Sparrow wrote; `activation` between layers."""

    def __init__(self, layers, activation="relu"):
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.linears = torch.nn.ModuleList()
        self.masks = []
        for layer in layers:
            w = tensor(layer["weight"])
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(w)
                lin.bias.copy_(tensor(layer["bias"]))
            self.linears.append(lin)
            self.masks.append(tensor(layer["mask"]))

    def forward(self, x):
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if i < len(self.linears) - 1:
                x = self.activation(x)
        return x

    def weights(self):
        return [lin.weight for lin in self.linears]

    def biases(self):
        return [lin.bias for lin in self.linears]

    def mask_gradients(self):
        with torch.no_grad():
            for lin, mask in zip(self.linears, self.masks):
                lin.weight.grad.mul_(mask)

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


def adam(nets, extra, lr, eps, weight_decay, decay_biases):
    """torch.optim.Adam over the networks' weights (decayed) and biases plus `extra` (decayed if decay_biases)."""
    weights = [w for n in nets for w in n.weights()]
    rest = [b for n in nets for b in n.biases()] + extra
    return torch.optim.Adam([{"params": weights, "weight_decay": weight_decay},
                             {"params": rest, "weight_decay": weight_decay if decay_biases else 0.0}], lr=lr, eps=eps)


def masked_step(optimizer, nets, sparse):
    """optimizer.step() with TowS's masked moments for masked layers (weights only; biases are dense)."""
    if sparse:
        with torch.no_grad():
            for net in nets:
                net.mask_gradients()
                for lin, mask in zip(net.linears, net.masks):
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


def run_dqn(case):
    obs, next_obs = tensor(case["observations"]), tensor(case["next_observations"])
    actions = torch.tensor(case["actions"], dtype=torch.long)
    rewards, not_done = tensor(case["rewards"]), tensor(case["not_terminated"])
    q, q_target = MLP(case["networks"]["q"]), MLP(case["networks"]["target_q"])
    opt = adam([q], [], case["critic_lr"], case["adam_eps"], case["weight_decay"], case["decay_biases"])
    with torch.no_grad():
        y = case["reward_scale"] * rewards + case["gamma"] * not_done * q_target(next_obs).max(1).values
    q_taken = q(obs).gather(1, actions[:, None]).squeeze(1)
    if case["td_loss"] == "huber":
        loss = torch.nn.functional.huber_loss(q_taken, y, delta=1.0)
    else:
        loss = torch.nn.functional.mse_loss(q_taken, y)
    opt.zero_grad()
    loss.backward()
    masked_step(opt, [q], case["sparse"])
    updates = 1
    if updates % case["target_update_interval"] == 0:
        soft_update(q_target, q, case["tau"])
    huber_regime = ((q_taken - y).abs() > 1).float().mean().item()  # the fraction on Huber's linear part
    return {"td_loss": loss.item(), "mean_q": q_taken.mean().item(), "linear_fraction": huber_regime,
            "networks": {"q": q.dump(opt), "target_q": q_target.dump()}}


def run_ppo(case):
    low, high = tensor(case["action_low"]), tensor(case["action_high"])
    mid, half = (low + high) / 2, (high - low) / 2
    actor = MLP(case["networks"]["actor"], case["activation"])
    value = MLP(case["networks"]["value"], case["value_activation"])
    rho = tensor(case["rho"]["value"]).requires_grad_(True)
    raw = torch.tensor(case["observations"], dtype=torch.float64)
    n, B = raw.shape[0], case["batch_size"]

    # beginLearning: normalisers (statistics in float64, as Sparrow's RunningMeanStd), values, bootstraps, GAE.
    mean, var = raw.mean(0), raw.var(0, unbiased=False)

    def normalize(x):
        x = torch.tensor(x, dtype=torch.float64)
        if case["normalize_observations"]:
            x = torch.clamp((x - mean) / torch.sqrt(var + 1e-3), -5, 5)
        return x.to(torch.float32).to(DT) if DT == torch.float32 else x

    inputs, boot_inputs = normalize(case["observations"]), normalize(case["bootstrap_observations"])
    rewards = torch.tensor(case["rewards"], dtype=torch.float64)
    learned = rewards * case["reward_scale"]
    if case["normalize_rewards"]:
        learned = torch.clamp(learned / torch.sqrt(rewards.var(unbiased=False) + 1e-3), -10, 10)
    learned = learned.to(torch.float32).to(DT)
    with torch.no_grad():
        values, boot_values = value(inputs).squeeze(1), value(boot_inputs).squeeze(1)
    ends, has_boot = case["episode_ends"], case["has_bootstrap"]
    bootstrap = [boot_values[t] if has_boot[t] else (torch.zeros((), dtype=DT) if ends[t] or t == n - 1 else values[t + 1])
                 for t in range(n)]
    gamma, lam = case["gamma"], case["gae_lambda"]
    advantages, nxt = [None] * n, torch.zeros((), dtype=DT)
    for t in reversed(range(n)):
        delta = learned[t] + gamma * bootstrap[t] - values[t]
        nxt = delta + gamma * lam * (0 * nxt if ends[t] else nxt)
        advantages[t] = nxt
    advantages = torch.stack(advantages)
    returns = advantages + values

    # The minibatch at Sparrow's permutation.
    k = case["minibatch"]
    idx = torch.tensor(case["permutation"][k * B:(k + 1) * B], dtype=torch.long)
    x, act = inputs[idx], tensor(case["actions"])[idx]
    old = tensor(case["log_probs"])[idx]
    adv, ret = advantages[idx], returns[idx]
    adv = (adv - adv.mean()) / torch.sqrt(((adv - adv.mean()) ** 2).mean() + 1e-8)

    mu = mid + half * torch.tanh(actor(x))
    sigma = torch.nn.functional.softplus(rho)
    logp = (-0.5 * ((act - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(1)
    ratio = torch.exp(logp - old)
    eps_clip = case["clip_ratio"]
    bounded = torch.clamp(ratio, 1 - eps_clip, 1 + eps_clip)
    surrogate = -torch.min(ratio * adv, bounded * adv).mean()
    entropy = (torch.log(sigma) + 0.5 * math.log(2 * math.pi * math.e)).sum()
    policy_loss = surrogate - case["entropy_coef"] * entropy
    value_loss = case["value_coef"] * ((value(x).squeeze(1) - ret) ** 2).mean()

    actor_opt = adam([actor], [rho], case["actor_lr"], case["adam_eps"], case["weight_decay"], False)
    value_opt = adam([value], [], case["critic_lr"], case["adam_eps"], case["weight_decay"], False)
    actor_opt.zero_grad()
    value_opt.zero_grad()
    (policy_loss + value_loss).backward()
    if case["sparse"]:
        actor.mask_gradients()
        value.mask_gradients()
    params = list(actor.parameters()) + list(value.parameters()) + [rho]
    norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params))
    clip = case["max_grad_norm"]
    if clip > 0 and norm > clip:
        with torch.no_grad():
            for p in params:
                p.grad.mul_(clip / norm)
    masked_step(actor_opt, [actor], case["sparse"])
    masked_step(value_opt, [value], case["sparse"])
    rho_state = actor_opt.state[rho]
    return {"policy_loss": policy_loss.item(), "value_loss": value_loss.item(), "grad_norm": norm,
            "clip_fraction": (bounded != ratio).float().mean().item(),
            "rollout": {"advantages": advantages.tolist(), "returns": returns.tolist()},
            "rho": {"value": rho.detach().tolist(), "m": rho_state["exp_avg"].tolist(), "v": rho_state["exp_avg_sq"].tolist()},
            "networks": {"actor": actor.dump(actor_opt), "value": value.dump(value_opt)}}


def run(case, dtype=torch.float32):
    global DT
    DT = dtype
    torch.set_default_dtype(dtype)
    out = run_dqn(case) if case["algorithm"] == "dqn" else run_ppo(case)
    out["torch"] = torch.__version__
    return out


def main():
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/AgentsTests/Fixtures/pytorch-update-dqn-ppo")
    inputs = sorted(directory.glob("*.input.json"))
    if not inputs:
        sys.exit(f"no *.input.json in {directory}")
    for path in inputs:
        case = json.loads(path.read_text())
        result = run(case)
        # The same step in float64 from the same (float32) inputs: how far float32 itself is from the exact result,
        # entry by entry; the Swift test allows Sparrow twice that distance plus 1e-5 relative.
        exact = run(case, torch.float64)
        result["float64"] = {k: v for k, v in exact.items() if k != "torch"}
        target = path.with_name(path.name.replace(".input.json", ".output.json"))
        target.write_text(json.dumps(result, sort_keys=True) + "\n")
        if case["algorithm"] == "dqn":
            print(f"{target}: TD loss {result['td_loss']:.6f}, mean Q {result['mean_q']:.6f}, "
                  f"linear part {result['linear_fraction']:.2f}")
        else:
            print(f"{target}: policy loss {result['policy_loss']:.6f}, value loss {result['value_loss']:.6f}, "
                  f"grad norm {result['grad_norm']:.4f}, clip fraction {result['clip_fraction']:.3f}")


if __name__ == "__main__":
    main()
