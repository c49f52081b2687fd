import Agents
import Environments
import Foundation
import Training

/// A trained policy named on the command line as a run directory, a checkpoint file, a policy file or a robot's or
/// Atari game's name (its pretrained policy in assets/), loaded with the environment it acts in: what `eval` and
/// `export` share.
struct PolicySource {
    /// The file read (a checkpoint or a policy file).
    let file: String
    let config: TrainConfig
    let agent: any Agent
    let environment: any TrainingEnvironment

    /// Loads `path`; with `env`, the policy must be for that environment; `seed` seeds a policy file's
    /// evaluation draws (`ExportedPolicy.evaluationAct`); `evalEpsilon` replaces a DQN's evaluation ε (refused for
    /// other policies). Every failure is one `CLIError` line.
    init(_ path: String, env: String? = nil, seed: UInt64 = 0, evalEpsilon: Double? = nil) throws {
        let file = try Self.locate(path)
        self.file = file
        do {
            if PolicyFile.isPolicyFile(file) {
                let policy = try PolicyFile.read(file)
                config = policy.config
                try checkPolicyEnvironment(file, trainedOn: config.env, requested: env)
                environment = try config.makeEnvironment()
                if evalEpsilon != nil, policy.header.choices == nil {
                    throw CLIError("--eval-epsilon is for DQN policies; \(file) holds a \(config.agent.algorithm.rawValue) actor")
                }
                agent = try PolicyFileAgent(policy, file: file, env: environment, seed: seed, epsilon: evalEpsilon)
            } else {
                guard CheckpointFile.isCheckpointFile(file) else {
                    throw CLIError("\(file) is neither a Sparrow checkpoint nor a policy file")
                }
                (config, agent) = try TrainingCheckpoint.loadAgent(checkpoint: file) { config in
                    guard let e = evalEpsilon else { return }
                    guard config.agent.algorithm.actsDiscretely else {
                        throw CLIError("--eval-epsilon is for DQN policies; \(file) holds a \(config.agent.algorithm.rawValue) agent")
                    }
                    config.agent.evalEpsilon = e
                }
                try checkPolicyEnvironment(file, trainedOn: config.env, requested: env)
                environment = try config.makeEnvironment()
            }
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
    }

    /// The file a policy argument names: a robot's pretrained policy, a run directory's checkpoint, or the path
    /// itself; one line if nothing is there.
    static func locate(_ path: String) throws -> String {
        let file = try Zoo.resolve(path) ?? CheckpointFile.locate(path)
        guard FileManager.default.fileExists(atPath: file) else { throw CLIError("no checkpoint or policy file at \(file)") }
        return file
    }
}
