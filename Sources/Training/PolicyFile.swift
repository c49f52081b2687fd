import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

/// A trained agent's evaluation policy on its own, small enough to ship (a checkpoint also holds critics, optimizer
/// state and the replay buffer: tens of MB, GB for Atari). It is the agent's `DeterministicPolicy` on disk, so every
/// algorithm writes one: SAC's squashed mean, TD3's tanh head, PPO's mean behind its frozen observation normaliser,
/// DQN's greedy action over its Q network (Atari's convolutions included, frames scaled by 1/255).
///
/// Version 3 (2026-12-05), in the container every Sparrow file uses (`ChecksummedFrame`):
///
///     magic "SPRWPLCY" | version u32 | payload length u64 | CRC-32 of payload u32 | payload
///     payload: header (JSON string: `PolicyFile.Header`) | the network (bytes: a `NetworkArchive` without
///              optimizer state, masked layers stored truly sparse)
///
/// Version 3 adds the header's optional fields (`choices`, `inputScale`, `observationNormalization`, `actionScale`,
/// `actionOffset`). A file that needs none of them (a SAC or TD3 actor, or a PPO actor without normalisation) is
/// still written as version 2, byte for byte as before, so older Sparrows read it; one that needs them is version 3,
/// which older Sparrows refuse rather than act without the normaliser or on the wrong kind of actions.
/// Version 1 (before 2026-12-02) stored the layers in an encoding of its own (per layer: backend u8, positions,
/// weights, biases after the actor's spec JSON) and is still read.
public enum PolicyFile {
    public static let magic: [UInt8] = Array("SPRWPLCY".utf8)
    /// The newest version; `encode` writes the oldest that holds the policy (see above).
    public static let version: UInt32 = 3
    public static let readableVersions: ClosedRange<UInt32> = 1...version
    public static let fileExtension = "policy"

    /// What the file says about the policy and how it was trained.
    public struct Header: Codable, Equatable, Sendable {
        /// A `PolicyHeadKind` raw value: "gaussian-tanh" (SAC: 2A outputs), "deterministic-tanh" (TD3, PPO: A
        /// outputs) or "argmax" (DQN: one Q value per action).
        public var head: String
        public var observationSize: Int
        /// The box of continuous actions; empty for an "argmax" head.
        public var actionLow: [Double]
        public var actionHigh: [Double]
        /// Fraction of the network's weights that are zero (absent), measured.
        public var actorSparsity: Double
        /// Gradient updates the agent had made.
        public var updates: Int
        /// The training run's resolved settings (env, preset, algorithm, method, sparsity, steps, seed …).
        public var config: TrainConfig
        // Version 3; absent (nil) where the policy does not need them, and in every version 1 and 2 file.
        /// The number of discrete actions of an "argmax" head.
        public var choices: Int?
        /// What each observation value is multiplied by before the network, where it is not 1 (DQN on frames: 1/255).
        public var inputScale: Float?
        /// PPO's observation normaliser, frozen at export.
        public var observationNormalization: DeterministicPolicy.InputNormalization?
        /// tanh's scale and offset where they are not the ones `ActionBounds` derives from the bounds in Float
        /// (PPO computes them in Double), so the file acts bit for bit as the agent.
        public var actionScale: [Float]?
        public var actionOffset: [Float]?

        /// Whether a version 2 reader would miss something of this policy.
        var needsVersion3: Bool {
            choices != nil || inputScale != nil || observationNormalization != nil || actionScale != nil || actionOffset != nil
        }
    }

    /// Serialises an agent's evaluation policy (no optimizer state) for an environment with `actions`.
    public static func encode(agent: any Agent, config: TrainConfig, actions: ActionSpace) throws -> [UInt8] {
        let policy = agent.deterministicPolicy, network = policy.network, head = agent.policyHead
        var header = Header(head: head.rawValue, observationSize: network.inputWidth, actionLow: [], actionHigh: [],
                            actorSparsity: weightSparsity([network]), updates: agent.updates, config: config)
        switch (policy.output, actions) {
        case (.argmax(let n), .discrete(let choices)):
            guard n == choices else {
                throw CheckpointError("the Q network has \(n) outputs; the environment has \(choices) actions")
            }
            header.choices = n
        case (.squashed(let scale, let offset), .box(let box)):
            let A = box.dimension
            guard network.outputWidth == head.outputs(actions: A), scale.count == A else {
                throw CheckpointError("the policy network has \(network.outputWidth) outputs; its \(head.rawValue) head needs \(head.outputs(actions: A)) for \(A) actions")
            }
            header.actionLow = box.low; header.actionHigh = box.high
            let derived = ActionBounds(low: box.low.map { Float($0) }, high: box.high.map { Float($0) })
            if derived.scale != scale || derived.offset != offset { header.actionScale = scale; header.actionOffset = offset }
        default:
            throw CheckpointError("a \(head.rawValue) policy does not act in \(actions) actions")
        }
        if policy.inputScale != 1 { header.inputScale = policy.inputScale }
        header.observationNormalization = policy.normalization
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        var w = ByteWriter()
        w.write(String(decoding: try json.encode(header), as: UTF8.self))
        w.write(bytes: try NetworkArchive.encode(network.trulySparse(), optimizerState: false))
        return ChecksummedFrame.frame(magic: magic, version: header.needsVersion3 ? 3 : 2, payload: w.bytes)
    }

    /// A continuous-action actor for a box of `actionLow`…`actionHigh` (what version 2 wrote).
    public static func encode(agent: any Agent, config: TrainConfig, actionLow: [Double], actionHigh: [Double]) throws -> [UInt8] {
        try encode(agent: agent, config: config, actions: .box(BoxSpace(low: actionLow, high: actionHigh)))
    }

    public static func write(agent: any Agent, config: TrainConfig, actions: ActionSpace, to path: String) throws {
        try AtomicFile.write(try encode(agent: agent, config: config, actions: actions), to: path)
    }

    public static func write(agent: any Agent, config: TrainConfig, actionLow: [Double], actionHigh: [Double],
                             to path: String) throws {
        try write(agent: agent, config: config, actions: .box(BoxSpace(low: actionLow, high: actionHigh)), to: path)
    }

    /// Whether the file at `path` starts with the policy magic.
    public static func isPolicyFile(_ path: String) -> Bool { AtomicFile.starts(path, with: magic) }

    public static func read(_ path: String) throws -> ExportedPolicy {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw CheckpointError("cannot read policy file \(path)") }
        do { return try decode(bytes) } catch let e as FormatError {
            throw CheckpointError("policy file \(path): \(e)")
        } catch let e as CheckpointError {
            throw CheckpointError("policy file \(path): \(e)")
        } catch {
            throw CheckpointError("policy file \(path): unreadable (\(error))")
        }
    }

    public static func decode(_ bytes: [UInt8]) throws -> ExportedPolicy {
        let (payload, version) = try ChecksummedFrame.unframe(bytes, magic: magic, versions: readableVersions, kind: "Sparrow policy")
        var p = ByteReader(payload)
        let header = try JSONDecoder().decode(Header.self, from: Data(try p.read(String.self).utf8))
        let actor: MLP
        if version == 1 {
            actor = try decodeVersion1Actor(&p)
        } else {
            do { actor = try NetworkArchive.decode(try p.readBytes()).network } catch let e as NetworkArchiveError {
                throw FormatError.corrupt("actor: \(e)")
            }
        }
        guard p.isAtEnd else { throw FormatError.corrupt("\(p.remaining) unread bytes") }
        guard version == 3 || !header.needsVersion3 else { throw FormatError.corrupt("version \(version) with version 3 fields") }
        if let problem = mismatch(header, actor) { throw FormatError.corrupt("header does not match the network: \(problem)") }
        return ExportedPolicy(header: header, actor: actor)
    }

    /// What in `header` does not fit `actor` or does not describe a policy, or nil: everything `ExportedPolicy`
    /// and `DeterministicPolicy` take for granted, so a crafted file is an error rather than a trap.
    static func mismatch(_ header: Header, _ actor: MLP) -> String? {
        let A = header.actionLow.count, inputs = actor.inputWidth, outputs = actor.outputWidth
        guard let head = PolicyHeadKind(rawValue: header.head) else { return "unknown head \(header.head)" }
        guard inputs == header.observationSize else { return "\(inputs) inputs for \(header.observationSize) observations" }
        if head == .argmax {
            guard let n = header.choices, n >= 2, outputs == n, A == 0, header.actionHigh.isEmpty,
                  header.actionScale == nil, header.actionOffset == nil else {
                return "an argmax head needs 2 or more choices, as many outputs and no action box (\(outputs) outputs, choices \(header.choices.map(String.init) ?? "none"), \(A) bounds)"
            }
        } else {
            guard header.choices == nil, A > 0, header.actionHigh.count == A,
                  zip(header.actionLow, header.actionHigh).allSatisfy({ $0 < $1 }), outputs == head.outputs(actions: A) else {
                return "\(outputs) outputs, \(A) actions, head \(header.head)"
            }
            guard (header.actionScale == nil) == (header.actionOffset == nil),
                  header.actionScale.map({ $0.count == A && $0.allSatisfy(\.isFinite) }) ?? true,
                  header.actionOffset.map({ $0.count == A && $0.allSatisfy(\.isFinite) }) ?? true else {
                return "action scale and offset need both to be given, \(A) finite numbers each"
            }
        }
        if let s = header.inputScale, !(s.isFinite && s > 0) { return "input scale \(s)" }
        if let n = header.observationNormalization {
            guard header.inputScale == nil, n.mean.count == inputs, n.std.count == inputs, n.mean.allSatisfy(\.isFinite),
                  n.std.allSatisfy({ $0.isFinite && $0 > 0 }), n.clip.isFinite, n.clip > 0 else {
                return "the observation normaliser needs \(inputs) finite means, positive stds and a positive clip, and no input scale"
            }
        }
        return nil
    }

    /// Version 1's actor: its spec (JSON string), then per layer backend u8 (0 dense, 1 sparse), live positions,
    /// weights and biases.
    static func decodeVersion1Actor(_ p: inout ByteReader) throws -> MLP {
        let spec = try JSONDecoder().decode(MLPSpec.self, from: Data(try p.read(String.self).utf8))
        guard spec.widths.count >= 2, spec.layers.count == spec.widths.count - 1, spec.widths.allSatisfy({ $0 > 0 }) else {
            throw FormatError.corrupt("actor widths \(spec.widths)")
        }
        var layers: [any Layer] = []
        for (l, shape) in spec.shapes.enumerated() {
            let sparse = try p.read(UInt8.self)
            let positions = try p.read([Int32].self)
            let weights = try p.read([Float].self)
            let biases = try p.read([Float].self)
            guard biases.count == shape.fanOut else { throw FormatError.corrupt("layer \(l) has \(biases.count) biases") }
            if sparse == 1 {
                guard sparsityPositionsAreValid(positions, in: shape) else { throw FormatError.corrupt("layer \(l) positions") }
                guard weights.count == positions.count else { throw FormatError.corrupt("layer \(l) weight count") }
                layers.append(SparseLayer(shape: shape, positions: positions, values: weights, biases: biases))
            } else {
                guard sparse == 0, weights.count == shape.count else { throw FormatError.corrupt("layer \(l) dense weights") }
                layers.append(DenseLayer(shape: shape, weights: weights, biases: biases))
            }
        }
        return MLP(spec: spec.withBackends(of: layers), layers: layers)
    }
}

/// A policy read from a `PolicyFile`: the network and its `DeterministicPolicy`.
public final class ExportedPolicy {
    public let header: PolicyFile.Header
    let actor: MLP
    /// The network with its input step and head, as the agent that wrote the file acts in evaluation.
    public let deterministicPolicy: DeterministicPolicy

    init(header: PolicyFile.Header, actor: MLP) {
        self.header = header
        self.actor = actor
        let output: DeterministicPolicy.Output
        if let n = header.choices {
            output = .argmax(choices: n)
        } else {
            let bounds = ActionBounds(low: header.actionLow.map { Float($0) }, high: header.actionHigh.map { Float($0) })
            output = .squashed(scale: header.actionScale ?? bounds.scale, offset: header.actionOffset ?? bounds.offset)
        }
        deterministicPolicy = DeterministicPolicy(normalization: header.observationNormalization,
                                                  inputScale: header.inputScale ?? 1, network: actor, output: output)
    }

    public var config: TrainConfig { header.config }
    /// Components of one action: the box's dimension, or 1 (the index) for a Q network's greedy action.
    public var actionSize: Int { deterministicPolicy.output.actionComponents }

    /// Why this policy cannot act in `env`, or nil if it can: it needs `header.observationSize` observations and a
    /// box of as many actions, or as many discrete actions as its Q network has outputs. Phrased to follow the
    /// policy's name ("x.policy expects …").
    public func mismatch(with env: any Environment) -> String? {
        let obs = env.observationSpace.dimension
        if let n = header.choices {
            guard let choices = env.actions.choices else {
                return "holds a Q network for \(n) discrete actions; \(env.name) has \(env.actions) actions"
            }
            guard header.observationSize == obs, n == choices else {
                return "expects \(header.observationSize) observations and \(n) actions; \(env.name) has \(obs) and \(choices)"
            }
            return nil
        }
        guard let box = env.actions.box else {
            return "holds a continuous-action actor; \(env.name) has \(env.actions) actions"
        }
        guard header.observationSize == obs, actionSize == box.dimension else {
            return "expects \(header.observationSize) observations and \(actionSize) actions; \(env.name) has \(obs) and \(box.dimension)"
        }
        return nil
    }

    /// The deterministic action for one observation (`DeterministicPolicy.act`).
    public func act(_ observation: UnsafeBufferPointer<Double>, into action: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == header.observationSize && action.count == actionSize)
        deterministicPolicy.act(observation, into: action)
    }

    /// ε of the run's evaluation policy: a Q network's `eval-epsilon` (Dopamine's 0.001 on Atari, which keeps a
    /// greedy agent from waiting forever, e.g. for Breakout's serve); 0 for every other policy.
    public var evaluationEpsilon: Double { header.choices == nil ? 0 : header.config.agent.evalEpsilon }

    /// The action the run's evaluation would take: `act`, except that with probability `evaluationEpsilon` (or
    /// `epsilon`, for a Q network only: a continuous policy has no discrete choice to draw) it is a
    /// uniformly random choice, drawn as DQN draws it (so a greedy file, ε 0, never touches the generator). The
    /// draws come from the caller's generator, not the run's, so the returns match the checkpoint's in
    /// distribution; with ε 0 they match exactly.
    public func evaluationAct(_ observation: UnsafeBufferPointer<Double>, into action: UnsafeMutableBufferPointer<Float>,
                              epsilon: Double? = nil, generator: inout Generator) {
        let epsilon = epsilon ?? evaluationEpsilon
        if epsilon > 0, generator.nextDouble() < epsilon, let n = header.choices {
            action[0] = Float(generator.nextInt(below: n))
            return
        }
        act(observation, into: action)
    }
}

/// Names and numbers that describe a trained agent (for the viewer's overlay).
public struct PolicyDescription: Equatable, Sendable {
    public var env: String
    public var preset: String
    public var algorithm: String
    public var method: String
    public var actorSparsity: Double

    public init(config: TrainConfig, actorSparsity: Double) {
        env = config.env; preset = config.preset
        algorithm = config.agent.algorithm.rawValue; method = config.agent.method.rawValue
        self.actorSparsity = actorSparsity
    }

    public init(config: TrainConfig, agent: any Agent) {
        self.init(config: config, actorSparsity: weightSparsity([agent.policyNetwork]))
    }
}

