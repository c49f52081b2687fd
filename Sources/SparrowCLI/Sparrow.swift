import ArgumentParser
import Training

/// `sparrow`: train, evaluate and inspect truly sparse RL agents on MuJoCo.
public struct Sparrow: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "Truly sparse deep RL on MuJoCo locomotion, classic control and Atari (Gymnasium v5 tasks, the Arcade Learning Environment).",
        version: BuildInfo.versionLine,
        subcommands: [Train.self, Eval.self, Export.self, Replay.self, Sweep.self, Report.self, Rollout.self, Bench.self,
                      Methods.self]
    )
    public init() {}
}

/// `sparrow bench …`: speed measurements that print machine-readable results; never part of the tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed (environments, neural-network kernels).",
        subcommands: [BenchEnv.self, BenchNN.self, BenchTrain.self, BenchBLAS.self, BenchDensePath.self]
    )
}

/// An error the CLI reports as one line (ArgumentParser prints "Error: " and the description, exit code 1).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    /// Any error in one line: a file-system failure as its path and reason in words (`ErrorText`).
    init(_ error: Error) { description = ErrorText.describe(error) }
}
