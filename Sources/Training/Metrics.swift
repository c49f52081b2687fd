import Agents
import Foundation
import SparrowCore

/// One row of `metrics.csv` (one per log interval).
public struct MetricsRow: Equatable, Sendable {
    public var step = 0
    public var wallTime = 0.0
    public var stepsPerSecond = 0.0
    /// Mean return of the training episodes that ended in this interval (empty if none ended).
    public var episodeReturn: Double?
    /// The latest evaluation's mean return.
    public var evalReturn: Double?
    public var criticLoss: Double?
    public var actorLoss: Double?
    public var alpha: Double?
    public var meanQ: Double?
    public var liveParameters = 0
    public var actorSparsity = 0.0
    /// Weight sparsity of the first value network (critic 1); twin critics differ only under Bernoulli topologies.
    public var criticSparsity = 0.0
    public var trainingFLOPs = 0.0
    /// The latest gradient signal-to-noise ratios (`--log-snr-every`; empty when off): mean over live parameters.
    public var actorSNR: Double?
    public var criticSNR: Double?
    /// The latest τ-dormant fractions over all hidden neurons (`--log-dormant-every`; empty when off).
    public var actorDormant: Double?
    public var criticDormant: Double?
    /// With `noise-features`: mean live input-layer connections per real and per noise feature (the critic's real
    /// features include its action inputs, as ANF counts them). Empty without noise features.
    public var actorInputReal: Double?
    public var actorInputNoise: Double?
    public var criticInputReal: Double?
    public var criticInputNoise: Double?
    /// Each algorithm's own names (added after the columns above, which keep their meaning): DQN's TD loss, PPO's
    /// value loss, approximate KL and clip fraction. Empty for the algorithms without them.
    public var tdLoss: Double?
    public var valueLoss: Double?
    public var approxKL: Double?
    public var clipFraction: Double?

    public static let header = "step,wall_time_s,steps_per_s,episode_return,eval_return,critic_loss,actor_loss,alpha,"
        + "mean_q,live_params,actor_sparsity,critic_sparsity,training_flops,actor_snr,critic_snr,actor_dormant,"
        + "critic_dormant,actor_input_real,actor_input_noise,critic_input_real,critic_input_noise,"
        + "td_loss,value_loss,approx_kl,clip_fraction"

    public var csv: String {
        func f(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "" } ?? "" }
        return [String(step), String(format: "%.3f", wallTime), String(format: "%.1f", stepsPerSecond), f(episodeReturn),
                f(evalReturn), f(criticLoss), f(actorLoss), f(alpha), f(meanQ), String(liveParameters),
                String(format: "%.6f", actorSparsity), String(format: "%.6f", criticSparsity),
                String(format: "%.6e", trainingFLOPs), f(actorSNR), f(criticSNR), f(actorDormant), f(criticDormant),
                f(actorInputReal), f(actorInputNoise), f(criticInputReal), f(criticInputNoise),
                f(tdLoss), f(valueLoss), f(approxKL), f(clipFraction)].joined(separator: ",")
    }
}

/// One evaluation (a row of `evaluations.csv`).
public struct Evaluation: Equatable, Sendable {
    public var step: Int
    public var meanReturn: Double
    public var stdReturn: Double
    public var episodes: Int

    public init(step: Int, meanReturn: Double, stdReturn: Double, episodes: Int) {
        self.step = step; self.meanReturn = meanReturn; self.stdReturn = stdReturn; self.episodes = episodes
    }

    /// The mean and (population) standard deviation of the episodes' returns.
    public init(step: Int, returns: [Double]) {
        let mean = returns.reduce(0, +) / Double(returns.count)
        let std = (returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)).squareRoot()
        self.init(step: step, meanReturn: mean, stdReturn: std, episodes: returns.count)
    }

    public static let header = "step,mean_return,std_return,episodes"
    public var csv: String { "\(step),\(meanReturn),\(stdReturn),\(episodes)" }

    /// The papers' final score: the mean of the last 10% of evaluations (at least one).
    public static func finalScore(_ evaluations: [Evaluation]) -> Double? {
        guard !evaluations.isEmpty else { return nil }
        let n = max(1, Int((Double(evaluations.count) * 0.1).rounded(.up)))
        let tail = evaluations.suffix(n)
        return tail.reduce(0) { $0 + $1.meanReturn } / Double(tail.count)
    }
}

/// One row of `analysis.csv`: a measurement (`NetworkMeasurement`) at the environment step it was taken.
/// `layer` is empty for the whole network.
public enum AnalysisRow {
    public static let header = "step,update,network,layer,quantity,value"

    static func csv(_ m: NetworkMeasurement, step: Int) -> String {
        "\(step),\(m.update),\(m.network),\(m.layer.map(String.init) ?? ""),\(m.quantity.rawValue),\(m.value)"
    }

    /// A row: the environment step and the measurement.
    public static func parseWithStep(_ line: Substring) -> (step: Int, measurement: NetworkMeasurement)? {
        let c = line.split(separator: ",", omittingEmptySubsequences: false)
        guard c.count == 6, let step = Int(c[0]), let update = Int(c[1]), let q = NetworkMeasurement.Quantity(rawValue: String(c[4])),
              let value = Double(c[5]) else { return nil }
        return (step, NetworkMeasurement(update: update, network: String(c[2]), layer: Int(c[3]), quantity: q, value: value))
    }

    /// The rows of an analysis.csv file (none if it is missing).
    public static func read(_ path: String) -> [(step: Int, measurement: NetworkMeasurement)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap(parseWithStep)
    }
}

/// Appends CSV rows to a file, keeping only rows up to a step when a run resumes (rows written after its
/// checkpoint would otherwise appear twice).
public struct CSVLog {
    let path: String
    let header: String

    /// `text` up to its last newline: the whole rows of a log whose last row may be cut short (a crash or a full
    /// disk mid-write, or a row being written right now).
    public static func wholeLines(_ text: String) -> Substring {
        text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
    }

    func start(keepingRowsUpTo step: Int?) throws {
        var lines = [header]
        if let step, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in CSVLog.wholeLines(text).split(separator: "\n").dropFirst() {
                if let s = Int(line.prefix { $0 != "," }), s <= step { lines.append(String(line)) }
            }
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: path)
    }

    /// One whole row or nothing (see `AtomicFile.appendWhole`); a failure (full disk) throws one line.
    func append(_ row: String) throws {
        try AtomicFile.appendWhole(Array((row + "\n").utf8), to: path)
    }
}
