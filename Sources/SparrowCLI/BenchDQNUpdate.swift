import Agents
import Foundation
import NeuralNet
import SparrowCore
import Training

/// One whole DQN update of the Nature CNN or the Impala network (Q forward, target forward, backward, Adam, as `DQN.update` runs it) at
/// batch 32 on random frames, for the dense preset and the sparse ones, timed in one run: what `bench nn --network
/// nature-cnn` adds below the per-layer products. Interleaved rounds, medians; topology updates and target syncs are
/// pushed past the timed updates (they are amortised over 5000 and 2000 updates in a run).
enum DQNUpdateBenchmark {
    struct Row {
        let label: String
        let sparsity: Double
        let milliseconds: Double
        let gflops: Double
        let liveWeights: Int
    }

    /// dense, and `set-dqn-atari` at each sparsity with ERK (the preset's distribution) and uniform layers.
    static func measure(_ network: BenchNetwork, sparsities: [Double], batch: Int, minimum: Double) throws -> [Row] {
        var configs: [(String, AgentConfig)] = []
        let dense = try Presets.config(named: network.presets.dense, env: "ALE/Pong-v5").agent
        configs.append(("dense", dense))
        let base = try Presets.config(named: network.presets.sparse, env: "ALE/Pong-v5").agent
        for s in sparsities {
            for distribution in [AgentConfig.Distribution.erk, .uniform] {
                var c = base
                c.sparsity = s
                c.distribution = distribution
                configs.append(("sparse \(distribution.spelling)", c))
            }
        }
        let n = 4 * 84 * 84, choices = 6
        var agents: [(String, AgentConfig, DQN, ReplayBatch)] = []
        var g = Generator(seed: 7)
        for (label, var c) in configs {
            c.batchSize = batch
            c.targetUpdateInterval = 1_000_000
            c.updateInterval = 1_000_000
            let agent = try DQN(config: c, observationSize: n, choices: choices, totalUpdates: 2_500_000, seed: 1)
            let b = ReplayBatch(size: batch, observationSize: n, actionSize: 1)
            for i in 0..<(n * batch) {
                b.observations[i] = Float(g.nextInt(below: 256)); b.nextObservations[i] = Float(g.nextInt(below: 256))
            }
            for i in 0..<batch {
                b.actions[i] = Float(g.nextInt(below: choices)); b.rewards[i] = Float(g.nextInt(below: 3) - 1)
                b.notTerminated[i] = 1
            }
            _ = try agent.update(b)  // warm: workspaces and scratch
            agents.append((label, c, agent, b))
        }
        var times = [[Double]](repeating: [], count: agents.count)
        var flops = [Double](repeating: 0, count: agents.count)
        for _ in 0..<7 {
            for (k, a) in agents.enumerated() {
                var count = 0
                let before = a.2.trainingFLOPs
                let start = DispatchTime.now().uptimeNanoseconds
                var elapsed = 0.0
                repeat {
                    _ = try a.2.update(a.3)
                    count += 1
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                } while elapsed < minimum || count < 2
                times[k].append(elapsed / Double(count))
                flops[k] = (a.2.trainingFLOPs - before) / Double(count)
            }
        }
        return agents.enumerated().map { k, a in
            let t = times[k].sorted()[times[k].count / 2]
            return Row(label: a.0, sparsity: a.1.sparsity, milliseconds: 1e3 * t, gflops: flops[k] / t * 1e-9,
                       liveWeights: a.2.q.layers.reduce(0) { $0 + $1.liveConnections })
        }
    }
}

extension BenchNN {
    /// Prints the whole-update rows (table or JSON lines).
    func measureDQNUpdates(_ network: BenchNetwork, sparsities: [Double], batch: Int) throws {
        let rows = try DQNUpdateBenchmark.measure(network, sparsities: sparsities, batch: batch, minimum: max(minimumTime, 0.05))
        let dense = rows[0].milliseconds
        if json {
            for r in rows {
                print("{\"network\":\"\(network.rawValue)\",\"kernel\":\"dqn_update\",\"backend\":\"\(r.label)\",\"batch\":\(batch),"
                      + String(format: "\"sparsity\":%.6g,\"update_ms\":%.6g,\"speedup_vs_dense\":%.6g,\"gflops\":%.6g,", r.sparsity,
                               r.milliseconds, dense / r.milliseconds, r.gflops)
                      + "\"live_weights\":\(r.liveWeights),\"threads\":\(threads),\"kernel_body\":\"\(KernelBody.current.rawValue)\"}")
            }
            return
        }
        print("\nOne DQN update of the \(network == .impala ? "Impala network" : "Nature CNN") (Q and target forward, backward, Adam; DQN.update), batch \(batch), random frames:")
        print("network          sparsity  update ms  speedup  useful GFLOP/s  live weights")
        for r in rows {
            print(r.label.padding(toLength: 15, withPad: " ", startingAt: 0)
                  + String(format: "  %8.2f  %9.2f  %6.2fx  %14.1f  %12d", r.sparsity, r.milliseconds, dense / r.milliseconds,
                           r.gflops, r.liveWeights))
        }
    }
}
