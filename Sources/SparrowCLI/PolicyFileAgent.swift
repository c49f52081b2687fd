import Agents
import Environments
import NeuralNet
import SparrowCore
import Training

/// An exported policy (`PolicyFile`) seen as an `Agent` that only acts, so `sparrow eval` runs a policy file through
/// the one `Evaluator` training and checkpoints use (same episodes, same seeding, same numbers). It acts as the
/// run's evaluation does whatever it is asked (a policy file holds the evaluation policy only): deterministically, or
/// for a Q network with the run's `eval-epsilon` from a generator of its own (`seed`); it has no networks to list,
/// cannot be trained, and cannot be saved as agent state.
final class PolicyFileAgent: Agent {
    let policy: ExportedPolicy
    var profiler: StepProfiler?
    private var generator: Generator
    private let epsilon: Double

    /// Checks the policy fits `env` (observation size, and a box of as many actions or as many discrete ones), so a mismatch is one line
    /// instead of a trap in `ExportedPolicy.act`; `file` names the policy in the message.
    /// `epsilon` replaces the run's evaluation ε (`sparrow eval --eval-epsilon`).
    init(_ policy: ExportedPolicy, file: String, env: any Environment, seed: UInt64, epsilon: Double? = nil) throws {
        if let problem = policy.mismatch(with: env) { throw CLIError("\(file) \(problem)") }
        self.policy = policy
        self.epsilon = epsilon ?? policy.evaluationEpsilon
        generator = Generator(seed: seed).derived(0xE9A1)
    }

    var config: AgentConfig { policy.config.agent }
    var updates: Int { policy.header.updates }
    var trainingFLOPs: Double { 0 }
    var networks: [AgentNetwork] { [] }
    var policyHead: PolicyHeadKind { PolicyHeadKind(rawValue: policy.header.head) ?? .gaussianTanh }
    var deterministicPolicy: DeterministicPolicy { policy.deterministicPolicy }
    /// Never trained, so never measured.
    lazy var analyses = NetworkAnalyses(config: config)

    func act(_ observation: UnsafeBufferPointer<Double>, deterministic: Bool, into action: UnsafeMutableBufferPointer<Float>) {
        policy.evaluationAct(observation, into: action, epsilon: epsilon, generator: &generator)
    }

    func encode(into w: inout ByteWriter) throws { throw CLIError("a policy file's actor is not a trainable agent") }
    func decode(from r: inout ByteReader) throws { throw CLIError("a policy file's actor is not a trainable agent") }
}
