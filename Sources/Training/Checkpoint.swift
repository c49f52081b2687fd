import Agents
import Environments
import Foundation
import SparrowCore

/// The checkpoint container: `SPRWCKPT` magic, format version, payload length, CRC-32 of the payload, payload.
/// The payload starts with the run's resolved config (JSON) so a checkpoint names its env and algorithm before
/// anything else is decoded. Files are written atomically (temporary file, fsync, rename).
///
/// Versions: 2 holds the replay buffer with each observation once (`ReplayBuffer.encode`); 1 held s and s′ in
/// full. Both are read (a version-1 buffer is converted on load, so an old run resumes exactly); 2 is written.
public enum CheckpointFile {
    public static let magic: [UInt8] = Array("SPRWCKPT".utf8)
    /// The version written.
    public static let version: UInt32 = 2
    /// The versions read.
    public static let readableVersions: ClosedRange<UInt32> = 1...version
    public static let fileName = "checkpoint.sparrow"

    public static func write(config: TrainConfig, payload: [UInt8], to path: String) throws {
        var body = ByteWriter()
        body.write(try config.json())
        try AtomicFile.write(ChecksummedFrame.frame(magic: magic, version: version, payload: body.bytes + payload), to: path)
    }

    /// Reads and verifies a checkpoint; returns its config and the rest of the payload.
    public static func read(_ path: String) throws -> (config: TrainConfig, payload: ByteReader) {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw CheckpointError("cannot read checkpoint \(path)") }
        do {
            var payload = ByteReader(try ChecksummedFrame.unframe(bytes, magic: magic, versions: readableVersions,
                                                                  kind: "Sparrow checkpoint").payload)
            let json = try payload.read(String.self)
            let config = try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8))
            return (config, payload)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        } catch let e as CheckpointError { throw e } catch {
            throw CheckpointError("checkpoint \(path): unreadable config (\(error))")
        }
    }

    /// Whether the file at `path` starts with the checkpoint magic.
    public static func isCheckpointFile(_ path: String) -> Bool { AtomicFile.starts(path, with: magic) }

    /// A run directory's checkpoint, or the path itself if it names a file.
    public static func locate(_ runDirOrFile: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: runDirOrFile, isDirectory: &isDir), isDir.boolValue {
            return (runDirOrFile as NSString).appendingPathComponent(fileName)
        }
        return runDirOrFile
    }
}

public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The off-policy loop's own state: what besides the agent, the environment and the replay buffer decides how a
/// run continues.
struct LoopState {
    var step = 0
    var episodes = 0
    /// Return of the episode in progress.
    var episodeReturn = 0.0
    /// Returns of the training episodes that ended since the last metrics row.
    var intervalReturns: [Double] = []
    var evaluations: [Evaluation] = []
    /// Draws the random start actions and the replay-batch indices (the agent has its own for policy noise).
    var generator: Generator
    /// The observation the next action is chosen for.
    var observation: [Double]
    /// Wall-clock seconds spent training before this process started.
    var elapsedBefore = 0.0

    func encode(into w: inout ByteWriter, elapsed: Double) {
        w.write(step); w.write(episodes); w.write(episodeReturn); w.write(intervalReturns)
        w.write(evaluations.count)
        for e in evaluations { w.write(e.step); w.write(e.meanReturn); w.write(e.stdReturn); w.write(e.episodes) }
        w.write(generator.stateWords)
        w.write(observation)
        w.write(elapsedBefore + elapsed)
    }

    static func decode(from r: inout ByteReader) throws -> LoopState {
        let step = try r.read(Int.self), episodes = try r.read(Int.self), episodeReturn = try r.read(Double.self)
        let intervalReturns = try r.read([Double].self)
        let n = try r.read(Int.self)
        guard n >= 0 && n <= r.remaining else { throw FormatError.corrupt("evaluation count") }
        let evaluations = try (0..<n).map { _ in
            Evaluation(step: try r.read(Int.self), meanReturn: try r.read(Double.self), stdReturn: try r.read(Double.self),
                       episodes: try r.read(Int.self))
        }
        let words = try r.read([UInt64].self)
        guard words.count == 4 else { throw FormatError.corrupt("generator state") }
        return LoopState(step: step, episodes: episodes, episodeReturn: episodeReturn, intervalReturns: intervalReturns,
                         evaluations: evaluations, generator: Generator(stateWords: words),
                         observation: try r.read([Double].self), elapsedBefore: try r.read(Double.self))
    }
}

/// The payload of a training checkpoint, after the config `CheckpointFile` puts first:
///
///     agent state (length-prefixed bytes: `Agent.encode`) | loop state (`LoopState`)
///     | environment state (`TrainingEnvironment.encodeState`) | replay buffer (`ReplayBuffer.encode`)
///
/// and the agent alone, for the commands that only act (`eval`, `replay`, `export`, reports).
public enum TrainingCheckpoint {
    static func write(config: TrainConfig, agent: any Agent, loop: LoopState, elapsed: Double,
                      env: any TrainingEnvironment, buffer: any TrainingMemory, to path: String) throws {
        var agentBytes = ByteWriter()
        try agent.encode(into: &agentBytes)
        var w = ByteWriter()
        w.write(bytes: agentBytes.bytes)
        loop.encode(into: &w, elapsed: elapsed)
        env.encodeState(into: &w)
        buffer.encode(into: &w)
        try CheckpointFile.write(config: config, payload: w.bytes, to: path)
    }

    /// Restores agent, environment and buffer from the checkpoint at `path` and returns the loop state. The
    /// checkpoint's settings must be `config`'s.
    static func restore(from path: String, config: TrainConfig, agent: any Agent, env: any TrainingEnvironment,
                        buffer: any TrainingMemory) throws -> LoopState {
        var (saved, r) = try CheckpointFile.read(path)
        if saved.env != config.env {
            throw CheckpointError("checkpoint \(path) is for env \(saved.env), not \(config.env)")
        }
        if saved.agent.algorithm != config.agent.algorithm {
            throw CheckpointError("checkpoint \(path) is for algorithm \(saved.agent.algorithm.rawValue), not \(config.agent.algorithm.rawValue)")
        }
        if saved != config {
            let a = (try? saved.json()) ?? "", b = (try? config.json()) ?? ""
            let diff = zip(a.split(separator: "\n"), b.split(separator: "\n")).first { $0 != $1 }
            throw CheckpointError("checkpoint \(path) was made with other settings (\(diff.map { "\($0.0.trimmingCharacters(in: .whitespaces)) vs \($0.1.trimmingCharacters(in: .whitespaces))" } ?? "")); resume with the run's own config")
        }
        do {
            var agentReader = ByteReader(try r.readBytes())
            try agent.decode(from: &agentReader)
            guard agentReader.isAtEnd else { throw FormatError.corrupt("agent state has trailing bytes") }
            let loop = try LoopState.decode(from: &r)
            try env.decodeState(from: &r)
            try buffer.decode(from: &r)
            guard r.isAtEnd else { throw FormatError.corrupt("\(r.remaining) unexpected trailing bytes") }
            return loop
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        }
    }

    /// The trained agent of a checkpoint (its config, and the agent ready to act), without the replay buffer.
    public static func loadAgent(checkpoint path: String) throws -> (config: TrainConfig, agent: any Agent) {
        var (config, r) = try CheckpointFile.read(path)
        let env = try config.makeEnvironment()
        let agent = try makeAgent(config: config, env: env)
        do {
            var a = ByteReader(try r.readBytes())
            try agent.decode(from: &a)
        } catch let e as FormatError {
            throw CheckpointError("checkpoint \(path): \(e)")
        }
        return (config, agent)
    }

    /// The replay buffer of an off-policy run: `buffer-size` transitions, at most the run's steps.
    static func makeReplayBuffer(config: TrainConfig, env: any TrainingEnvironment) -> ReplayBuffer {
        ReplayBuffer(capacity: min(config.agent.bufferSize, config.steps), observationSize: env.observationSpace.dimension,
                     actionSize: env.actions.componentCount)
    }

    /// Per-feature standard deviations of the observations a run trained on (`sparrow eval --noise-scale std`):
    /// over the observations in the checkpoint's replay buffer (off-policy), or PPO's observation normaliser
    /// (every observation it has seen; the rollout holds only the last ones).
    public static func observationStandardDeviations(checkpoint path: String) throws -> [Double] {
        let (config, _) = try CheckpointFile.read(path)
        if config.agent.algorithm.isOnPolicy {
            guard let ppo = try loadAgent(checkpoint: path).agent as? PPO else { throw CheckpointError("checkpoint \(path): not a ppo agent") }
            return ppo.observationStats.variance.map { $0.squareRoot() }
        }
        let env = try config.makeEnvironment()
        let agent = try makeAgent(config: config, env: env)
        let buffer = makeReplayBuffer(config: config, env: env)
        _ = try restore(from: path, config: config, agent: agent, env: env, buffer: buffer)
        guard buffer.count > 1 else { throw CheckpointError("checkpoint \(path) holds \(buffer.count) observations: too few for a standard deviation") }
        return buffer.observationStandardDeviations()
    }

    /// The agent `config` names, sized for `env`: PPO or an off-policy one.
    static func makeAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any Agent {
        config.agent.algorithm.isOnPolicy ? try makePPO(config: config, env: env) : try makeOffPolicyAgent(config: config, env: env)
    }

    /// PPO sized for `env`, which must have continuous (box) actions.
    static func makePPO(config: TrainConfig, env: any TrainingEnvironment) throws -> PPO {
        guard case .box(let box) = env.actions else {
            throw ConfigError(Presets.mismatch(env: config.env, actions: env.actions, algorithm: config.agent.algorithm))
        }
        return try PPO(config: config.agent, observationSize: env.observationSpace.dimension, actionLow: box.low,
                       actionHigh: box.high, totalIterations: config.iterations, seed: config.seed)
    }

    /// The off-policy agent `config` names, sized for `env`; an algorithm that does not fit the env's actions (SAC
    /// on CartPole, DQN on Hopper) is a one-line error naming the env and what fits.
    static func makeOffPolicyAgent(config: TrainConfig, env: any TrainingEnvironment) throws -> any OffPolicyAgent {
        let algorithm = config.agent.algorithm
        if algorithm.actsDiscretely != (env.actions.choices != nil) {
            throw ConfigError(Presets.mismatch(env: config.env, actions: env.actions, algorithm: algorithm))
        }
        return try Agents.makeAgent(config: config.agent, observationSize: env.observationSpace.dimension, actions: env.actions,
                             totalUpdates: config.totalUpdates, seed: config.seed)
    }
}
