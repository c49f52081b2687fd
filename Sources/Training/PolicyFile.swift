import Agents
import Environments
import Foundation
import NeuralNet
import SparrowCore

/// A trained actor on its own, small enough to ship (a checkpoint also holds critics, optimizer state and the replay
/// buffer: tens of MB). It acts deterministically (the evaluation policy), which is all replay and evaluation need.
///
/// Version 2, in the container every Sparrow file uses (`ChecksummedFrame`):
///
///     magic "SPRWPLCY" | version u32 (2) | payload length u64 | CRC-32 of payload u32 | payload
///     payload: header (JSON string: `PolicyFile.Header`) | the actor (bytes: a `NetworkArchive` without optimizer
///              state, masked layers stored truly sparse)
///
/// Version 1 (before 2026-12-02) stored the layers in an encoding of its own (per layer: backend u8, positions,
/// weights, biases after the actor's spec JSON) and is still read.
///
/// The deterministic action is the head's (`PolicyHeadKind`): tanh(output[j])·scale + offset for the first A
/// outputs — SAC's squashed Gaussian mean (2A outputs, means first) and TD3's deterministic head alike.
public enum PolicyFile {
    public static let magic: [UInt8] = Array("SPRWPLCY".utf8)
    /// The version written.
    public static let version: UInt32 = 2
    public static let readableVersions: ClosedRange<UInt32> = 1...version
    public static let fileExtension = "policy"

    /// What the file says about the policy and how it was trained.
    public struct Header: Codable, Equatable, Sendable {
        /// A `PolicyHeadKind` raw value: "gaussian-tanh" (SAC: 2A outputs) or "deterministic-tanh" (TD3: A outputs).
        public var head: String
        public var observationSize: Int
        public var actionLow: [Double]
        public var actionHigh: [Double]
        /// Fraction of the actor's weights that are zero (absent), measured.
        public var actorSparsity: Double
        /// Gradient updates the agent had made.
        public var updates: Int
        /// The training run's resolved settings (env, preset, algorithm, method, sparsity, steps, seed …).
        public var config: TrainConfig
    }

    /// Serialises an agent's actor (no optimizer state).
    public static func encode(agent: any Agent, config: TrainConfig, actionLow: [Double], actionHigh: [Double]) throws -> [UInt8] {
        let actor = agent.policyNetwork
        let A = actionLow.count, head = agent.policyHead
        guard actor.outputWidth == head.outputs(actions: A) else {
            throw CheckpointError("the policy network has \(actor.outputWidth) outputs; its \(head.rawValue) head needs \(head.outputs(actions: A)) for \(A) actions")
        }
        let header = Header(head: head.rawValue, observationSize: actor.inputWidth, actionLow: actionLow, actionHigh: actionHigh,
                            actorSparsity: weightSparsity([actor]), updates: agent.updates, config: config)
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        var w = ByteWriter()
        w.write(String(decoding: try json.encode(header), as: UTF8.self))
        w.write(bytes: try NetworkArchive.encode(actor.trulySparse(), optimizerState: false))
        return ChecksummedFrame.frame(magic: magic, version: version, payload: w.bytes)
    }

    public static func write(agent: any Agent, config: TrainConfig, actionLow: [Double], actionHigh: [Double],
                             to path: String) throws {
        try AtomicFile.write(try encode(agent: agent, config: config, actionLow: actionLow, actionHigh: actionHigh), to: path)
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
        let A = header.actionLow.count, widths = actor.spec.widths
        guard A > 0, header.actionHigh.count == A, zip(header.actionLow, header.actionHigh).allSatisfy({ $0 < $1 }),
              widths[0] == header.observationSize,
              let head = PolicyHeadKind(rawValue: header.head), widths.last! == head.outputs(actions: A) else {
            throw FormatError.corrupt("header does not match the actor (\(widths), \(A) actions, head \(header.head))")
        }
        return ExportedPolicy(header: header, actor: actor)
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

/// A policy read from a `PolicyFile`: the actor network and its deterministic squashing head.
public final class ExportedPolicy {
    public let header: PolicyFile.Header
    let actor: MLP
    /// The actor with its head: tanh(output[j])·scale + offset for the first A outputs.
    public let deterministicPolicy: DeterministicPolicy

    init(header: PolicyFile.Header, actor: MLP) {
        self.header = header
        self.actor = actor
        let bounds = ActionBounds(low: header.actionLow.map { Float($0) }, high: header.actionHigh.map { Float($0) })
        deterministicPolicy = DeterministicPolicy(network: actor, output: .squashed(scale: bounds.scale, offset: bounds.offset))
    }

    public var config: TrainConfig { header.config }
    public var actionSize: Int { header.actionLow.count }

    /// Why this policy cannot act in `env`, or nil if it can: it needs a box of `actionSize` actions and
    /// `header.observationSize` observations. Phrased to follow the policy's name ("x.policy expects …").
    public func mismatch(with env: any Environment) -> String? {
        let obs = env.observationSpace.dimension
        guard let box = env.actions.box else {
            return "holds a continuous-action actor; \(env.name) has \(env.actions) actions"
        }
        guard header.observationSize == obs, actionSize == box.dimension else {
            return "expects \(header.observationSize) observations and \(actionSize) actions; \(env.name) has \(obs) and \(box.dimension)"
        }
        return nil
    }

    /// The deterministic action for one observation: tanh(output[j])·scale + offset.
    public func act(_ observation: UnsafeBufferPointer<Double>, into action: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == header.observationSize && action.count == actionSize)
        deterministicPolicy.act(observation, into: action)
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

