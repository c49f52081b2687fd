import Foundation

/// One SAC or TD3 update, plain: double precision, dense matrices with 0/1 masks, one sample at a time, both critics
/// differentiated in full (no gathered min-critic backward, no BLAS, no sparse kernels, no fused activations). It
/// reads the input fixture of `PyTorchUpdateTests` (weights, batch, Sparrow's noise draws) and returns a result
/// shaped like PyTorch's output, so the test holds Sparrow, this twin and PyTorch against one another.
enum ReferenceUpdate {
    struct Layer {
        var w: [[Double]], b: [Double], mask: [[Double]]
        var mw: [[Double]], vw: [[Double]], mb: [Double], vb: [Double]
        var step = 0
    }
    typealias Net = [Layer]

    static func net(_ json: [[String: Any]]) -> Net {
        json.map { l in
            let w = l["weight"] as! [[Double]], b = l["bias"] as! [Double]
            return Layer(w: w, b: b, mask: l["mask"] as! [[Double]], mw: w.map { $0.map { _ in 0 } }, vw: w.map { $0.map { _ in 0 } },
                         mb: b.map { _ in 0 }, vb: b.map { _ in 0 })
        }
    }

    static func dump(_ n: Net) -> [[String: Any]] {
        n.map { ["weight": $0.w, "bias": $0.b, "mask": $0.mask, "weight_m": $0.mw, "weight_v": $0.vw, "bias_m": $0.mb, "bias_v": $0.vb] }
    }

    /// Forward pass keeping every layer's input; ReLU between layers, identity at the output.
    static func forward(_ n: Net, _ x: [Double]) -> (out: [Double], inputs: [[Double]]) {
        var a = x, inputs: [[Double]] = []
        for (i, l) in n.enumerated() {
            inputs.append(a)
            var z = l.b
            for o in z.indices { for k in a.indices { z[o] += l.w[o][k] * a[k] } }
            a = i < n.count - 1 ? z.map { max($0, 0) } : z
        }
        return (a, inputs)
    }

    /// Backward pass of one sample: adds ∂L/∂W, ∂L/∂b into `grads` (if given) and returns ∂L/∂x.
    static func backward(_ n: Net, inputs: [[Double]], dOut: [Double], grads: inout [([[Double]], [Double])]?) -> [Double] {
        var d = dOut
        for i in stride(from: n.count - 1, through: 0, by: -1) {
            let l = n[i], x = inputs[i]
            if grads != nil {
                for o in d.indices {
                    grads![i].1[o] += d[o]
                    for k in x.indices { grads![i].0[o][k] += d[o] * x[k] }
                }
            }
            var dx = [Double](repeating: 0, count: x.count)
            for o in d.indices { for k in x.indices { dx[k] += l.w[o][k] * d[o] } }
            // The input of layer i > 0 is a ReLU output: its derivative is 1 where it is positive.
            d = i > 0 ? zip(dx, x).map { $1 > 0 ? $0 : 0 } : dx
        }
        return d
    }

    static func zeroGrads(_ n: Net) -> [([[Double]], [Double])]? {
        n.map { l in (l.w.map { $0.map { _ in 0 } }, l.b.map { _ in 0 }) }
    }

    /// PyTorch's Adam; with `masked`, the gradient and both moments are multiplied by the mask first, the weights after.
    static func adam(_ n: inout Net, _ g: [([[Double]], [Double])], lr: Double, eps: Double, masked: Bool) {
        let b1 = 0.9, b2 = 0.999
        for i in n.indices {
            var l = n[i]
            l.step += 1
            let t = Double(l.step), bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t)
            func update(_ w: inout Double, _ m: inout Double, _ v: inout Double, _ grad: Double, _ k: Double) {
                let gk = grad * k
                m = b1 * m * k + (1 - b1) * gk
                v = b2 * v * k + (1 - b2) * gk * gk
                w -= lr / bc1 * m / (v.squareRoot() / bc2.squareRoot() + eps)
                w *= k
            }
            for o in l.w.indices {
                for k in l.w[o].indices {
                    update(&l.w[o][k], &l.mw[o][k], &l.vw[o][k], g[i].0[o][k], masked ? l.mask[o][k] : 1)
                }
                update(&l.b[o], &l.mb[o], &l.vb[o], g[i].1[o], 1)
            }
            n[i] = l
        }
    }

    static func softUpdate(_ target: inout Net, toward online: Net, tau: Double) {
        for i in target.indices {
            for o in target[i].w.indices {
                for k in target[i].w[o].indices { target[i].w[o][k] = (1 - tau) * target[i].w[o][k] + tau * online[i].w[o][k] }
                target[i].b[o] = (1 - tau) * target[i].b[o] + tau * online[i].b[o]
            }
        }
    }

    static func run(_ c: [String: Any]) -> [String: Any] {
        func d(_ k: String) -> Double { c[k] as! Double }
        let B = c["batch_size"] as! Int, low = c["action_low"] as! [Double], high = c["action_high"] as! [Double], A = low.count
        let scale = zip(low, high).map { ($1 - $0) / 2 }, offset = zip(low, high).map { ($1 + $0) / 2 }
        let obs = c["observations"] as! [[Double]], next = c["next_observations"] as! [[Double]]
        let actions = c["actions"] as! [[Double]], rewards = c["rewards"] as! [Double], notDone = c["not_terminated"] as! [Double]
        let noise = c["noise"] as! [Double], sparse = c["sparse"] as! Bool, sac = (c["algorithm"] as! String) == "sac"
        let nets = c["networks"] as! [String: [[String: Any]]]
        var actor = net(nets["actor"]!), critics = [net(nets["critic1"]!), net(nets["critic2"]!)]
        var targets = [net(nets["target_critic1"]!), net(nets["target_critic2"]!)]
        var targetActor = nets["target_actor"].map(net)
        func eps(_ block: Int, _ b: Int, _ j: Int) -> Double { noise[block * A * B + j * B + b] }
        let lsMin = d("log_std_min"), lsMax = d("log_std_max")

        /// SAC's squashed Gaussian for one sample: action, log π, and what the backward pass needs.
        func sample(_ h: [Double], _ block: Int, _ b: Int) -> (a: [Double], logp: Double, y: [Double], ls: [Double], inside: [Bool]) {
            var a = [Double](), y = [Double](), ls = [Double](), inside = [Bool](), logp = 0.0
            for j in 0..<A {
                let raw = h[A + j], l = min(max(raw, lsMin), lsMax), e = eps(block, b, j)
                let t = Foundation.tanh(h[j] + Foundation.exp(l) * e)
                a.append(t * scale[j] + offset[j]); y.append(t); ls.append(l); inside.append(raw >= lsMin && raw <= lsMax)
                logp += -0.5 * e * e - l - 0.5 * Foundation.log(2 * Double.pi) - Foundation.log(scale[j] * (1 - t * t) + 1e-6)
            }
            return (a, logp, y, ls, inside)
        }

        var logAlpha = Double(Float(Foundation.log(d("alpha")))), alphaM = 0.0, alphaV = 0.0
        let alpha = Foundation.exp(logAlpha)
        // 1. Targets.
        var y = [Double](repeating: 0, count: B)
        for b in 0..<B {
            var a: [Double], bonus = 0.0
            if sac {
                let s = sample(forward(actor, next[b]).out, 0, b)
                a = s.a; bonus = -alpha * s.logp
            } else {
                let z = forward(targetActor!, next[b]).out
                a = (0..<A).map { j in
                    let clip = d("noise_clip") * scale[j], n = min(max(eps(0, b, j) * d("policy_noise") * scale[j], -clip), clip)
                    return min(max(Foundation.tanh(z[j]) * scale[j] + offset[j] + n, low[j]), high[j])
                }
            }
            let q = targets.map { forward($0, next[b] + a).out[0] }.min()!
            y[b] = d("reward_scale") * rewards[b] + d("gamma") * notDone[b] * (q + bonus)
        }
        // 2. Critics.
        var criticLoss = 0.0
        for k in 0..<2 {
            var grads = zeroGrads(critics[k]), loss = 0.0
            for b in 0..<B {
                let f = forward(critics[k], obs[b] + actions[b]), diff = f.out[0] - y[b]
                loss += diff * diff / Double(B)
                _ = backward(critics[k], inputs: f.inputs, dOut: [2 * diff / Double(B)], grads: &grads)
            }
            adam(&critics[k], grads!, lr: d("critic_lr"), eps: d("adam_eps"), masked: sparse)
            criticLoss += loss
        }
        // 3. Actor, against the updated critics.
        var grads = zeroGrads(actor), actorLoss = 0.0, logps: [Double] = []
        var none: [([[Double]], [Double])]? = nil
        for b in 0..<B {
            let f = forward(actor, obs[b])
            var dOut = [Double](repeating: 0, count: f.out.count)
            if sac {
                let s = sample(f.out, 1, b)
                logps.append(s.logp)
                let qs = critics.map { forward($0, obs[b] + s.a) }
                let k = qs[0].out[0] <= qs[1].out[0] ? 0 : 1
                actorLoss += (alpha * s.logp - qs[k].out[0]) / Double(B)
                let dx = backward(critics[k], inputs: qs[k].inputs, dOut: [-1 / Double(B)], grads: &none)
                let gL = alpha / Double(B)
                for j in 0..<A {
                    let q = 1 - s.y[j] * s.y[j], sigma = Foundation.exp(s.ls[j])
                    let du = dx[obs[b].count + j] * scale[j] * q + gL * 2 * scale[j] * s.y[j] * q / (scale[j] * q + 1e-6)
                    dOut[j] = du
                    dOut[A + j] = s.inside[j] ? du * sigma * eps(1, b, j) - gL : 0
                }
            } else {
                let t = f.out.map { Foundation.tanh($0) }
                let a = (0..<A).map { t[$0] * scale[$0] + offset[$0] }
                let q = forward(critics[0], obs[b] + a)
                actorLoss -= q.out[0] / Double(B)
                let dx = backward(critics[0], inputs: q.inputs, dOut: [-1 / Double(B)], grads: &none)
                for j in 0..<A { dOut[j] = dx[obs[b].count + j] * scale[j] * (1 - t[j] * t[j]) }
            }
            _ = backward(actor, inputs: f.inputs, dOut: dOut, grads: &grads)
        }
        adam(&actor, grads!, lr: d("actor_lr"), eps: d("adam_eps"), masked: sparse)
        var out: [String: Any] = ["critic_loss": criticLoss, "actor_loss": actorLoss]
        // 4. Temperature (SB3's loss on the actor step's log-probabilities), 5. targets.
        if sac {
            if c["autotune_alpha"] as! Bool {
                let mean = logps.reduce(0) { $0 + $1 + d("target_entropy") } / Double(B)
                out["alpha_loss"] = -logAlpha * mean
                let g = -mean
                alphaM = 0.1 * g; alphaV = 0.001 * g * g
                logAlpha -= d("alpha_lr") / 0.1 * alphaM / ((alphaV / 0.001).squareRoot() + 1e-8)
            }
            out["alpha"] = Foundation.exp(logAlpha)
        }
        for k in 0..<2 { softUpdate(&targets[k], toward: critics[k], tau: d("tau")) }
        if targetActor != nil { softUpdate(&targetActor!, toward: actor, tau: d("tau")) }
        var dumped = ["actor": dump(actor), "critic1": dump(critics[0]), "critic2": dump(critics[1]),
                      "target_critic1": dump(targets[0]), "target_critic2": dump(targets[1])]
        if let targetActor { dumped["target_actor"] = dump(targetActor) }
        out["networks"] = dumped
        return out
    }
}
