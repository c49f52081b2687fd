import Foundation
import NeuralNet

/// An agent's evaluation policy as a pure function of one observation: exactly what `act(…, deterministic: true)`
/// computes, in the form exporters (ONNX, C) write out. Every agent describes itself this way
/// (`Agent.deterministicPolicy`), so an exporter needs no knowledge of SAC, TD3, PPO or DQN:
///
///     x  = observation                                      (Double)
///     x' = clip((x − mean)/std, ±clip)  if normalised (PPO)  (in Double, then Float; otherwise Float(x)·inputScale,
///                                                           the Nature CNN's 1/255 on frame bytes)
///     z  = network(x')                                      (Float; truly sparse layers stay sparse)
///     action_j = tanh(z_j)·scale_j + offset_j, j < A        (.squashed: SAC's mean, TD3, PPO's mean)
///     action   = argmax_j z_j (the first on ties)           (.argmax: DQN)
public struct DeterministicPolicy {
    /// PPO's observation normaliser, frozen at export: std = √(σ² + ε) (`RunningMeanStd.normalize`).
    public struct InputNormalization: Codable, Equatable, Sendable {
        public var mean: [Double]
        public var std: [Double]
        public var clip: Double
        public init(mean: [Double], std: [Double], clip: Double) {
            precondition(mean.count == std.count && std.allSatisfy { $0 > 0 } && clip > 0)
            self.mean = mean; self.std = std; self.clip = clip
        }
    }

    public enum Output: Equatable, Sendable {
        /// action_j = tanh(z_j)·scale_j + offset_j for the first `scale.count` outputs (the rest, SAC's log-stds,
        /// are not used).
        case squashed(scale: [Float], offset: [Float])
        /// The index of the largest output (DQN's greedy action), as one action component.
        case argmax(choices: Int)

        /// Components of the action the environment receives.
        public var actionComponents: Int {
            switch self {
            case .squashed(let scale, _): return scale.count
            case .argmax: return 1
            }
        }
    }

    public let normalization: InputNormalization?
    /// What each observation value is multiplied by before the network (1, or DQN's 1/255 for Atari frames).
    public let inputScale: Float
    public let network: MLP
    public let output: Output

    public init(normalization: InputNormalization? = nil, inputScale: Float = 1, network: MLP, output: Output) {
        switch output {
        case .squashed(let scale, let offset):
            precondition(scale.count == offset.count && scale.count <= network.outputWidth)
        case .argmax(let n):
            precondition(n == network.outputWidth)
        }
        precondition(normalization.map { $0.mean.count == network.inputWidth } ?? true)
        precondition(normalization == nil || inputScale == 1, "a normalised input is not scaled as well")
        self.normalization = normalization; self.inputScale = inputScale; self.network = network; self.output = output
    }

    public var observationSize: Int { network.inputWidth }

    /// The network input for one observation (the normalisation step above).
    public func input(_ observation: UnsafeBufferPointer<Double>, into x: UnsafeMutablePointer<Float>) {
        precondition(observation.count == observationSize)
        guard let n = normalization else {
            for i in 0..<observation.count { x[i] = Float(observation[i]) * inputScale }
            return
        }
        for i in 0..<observation.count {
            let z = (observation[i] - n.mean[i]) / n.std[i]
            x[i] = Float(min(max(z, -n.clip), n.clip))
        }
    }

    /// The action from the network output `z` (one sample).
    public func action(fromOutput z: UnsafePointer<Float>, into action: UnsafeMutableBufferPointer<Float>) {
        switch output {
        case .squashed(let scale, let offset):
            for j in 0..<scale.count { action[j] = Foundation.tanh(z[j]) * scale[j] + offset[j] }
        case .argmax(let n):
            action[0] = Float(argmax(z, count: n))
        }
    }

    /// The whole policy on one observation; agents' deterministic `act` is held to this in the tests.
    public func act(_ observation: UnsafeBufferPointer<Double>, into action: UnsafeMutableBufferPointer<Float>) {
        Subnormals.flushed {
            let ws = network.workspace(batch: 1)
            input(observation, into: ws.input.pointer)
            network.forward(ws)
            self.action(fromOutput: ws.output.pointer, into: action)
        }
    }
}
