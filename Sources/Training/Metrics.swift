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

    /// metrics.csv's header: the columns' names, in order.
    public static var header: String { columns.map(\.name).joined(separator: ",") }

    /// One row of metrics.csv.
    public var csv: String { Self.columns.map { $0.text(of: self) }.joined(separator: ",") }
}

extension MetricsRow {
    /// One column of metrics.csv, declared once: its name (a contract: columns are added, never renamed), how its
    /// value is written, and its TensorBoard tag (CleanRL/SB3 style; nil: none — `eval_return` is tagged from
    /// evaluations.csv, the analyses' columns repeat analysis.csv, tagged there). An algorithm's declaration names
    /// the update columns it fills (`AlgorithmDeclaration.updateMetrics`).
    public struct Column: Sendable {
        public enum Format: Sendable {
            /// An integer (`String(Int)`).
            case integer
            /// `%.Nf`.
            case fixed(Int)
            /// `%.6e`.
            case scientific
            /// Swift's shortest round-trip form; empty when missing or not finite.
            case optional
        }
        public let name: String
        public let tag: String?
        public let format: Format
        public let value: @Sendable (MetricsRow) -> Double?

        public init(_ name: String, tag: String?, _ format: Format, _ value: @escaping @Sendable (MetricsRow) -> Double?) {
            self.name = name; self.tag = tag; self.format = format; self.value = value
        }

        func text(of row: MetricsRow) -> String {
            let x = value(row)
            switch format {
            case .integer: return x.map { String(Int($0)) } ?? ""
            case .fixed(let digits): return String(format: "%.\(digits)f", x ?? 0)
            case .scientific: return String(format: "%.6e", x ?? 0)
            case .optional: return x.map { $0.isFinite ? "\($0)" : "" } ?? ""
            }
        }
    }

    public static let columns: [Column] = [
        Column("step", tag: nil, .integer) { Double($0.step) },
        Column("wall_time_s", tag: "charts/wall_time_s", .fixed(3)) { $0.wallTime },
        Column("steps_per_s", tag: "charts/SPS", .fixed(1)) { $0.stepsPerSecond },
        Column("episode_return", tag: "charts/episodic_return", .optional) { $0.episodeReturn },
        Column("eval_return", tag: nil, .optional) { $0.evalReturn },
        Column("critic_loss", tag: "losses/critic_loss", .optional) { $0.criticLoss },
        Column("actor_loss", tag: "losses/actor_loss", .optional) { $0.actorLoss },
        Column("alpha", tag: "losses/alpha", .optional) { $0.alpha },
        Column("mean_q", tag: "losses/mean_q", .optional) { $0.meanQ },
        Column("live_params", tag: "sparsity/live_params", .integer) { Double($0.liveParameters) },
        Column("actor_sparsity", tag: "sparsity/actor", .fixed(6)) { $0.actorSparsity },
        Column("critic_sparsity", tag: "sparsity/critic", .fixed(6)) { $0.criticSparsity },
        Column("training_flops", tag: "charts/training_flops", .scientific) { $0.trainingFLOPs },
        Column("actor_snr", tag: nil, .optional) { $0.actorSNR },
        Column("critic_snr", tag: nil, .optional) { $0.criticSNR },
        Column("actor_dormant", tag: nil, .optional) { $0.actorDormant },
        Column("critic_dormant", tag: nil, .optional) { $0.criticDormant },
        Column("actor_input_real", tag: "noise_features/actor_connections_per_real_feature", .optional) { $0.actorInputReal },
        Column("actor_input_noise", tag: "noise_features/actor_connections_per_noise_feature", .optional) { $0.actorInputNoise },
        Column("critic_input_real", tag: "noise_features/critic_connections_per_real_feature", .optional) { $0.criticInputReal },
        Column("critic_input_noise", tag: "noise_features/critic_connections_per_noise_feature", .optional) { $0.criticInputNoise },
        Column("td_loss", tag: "losses/td_loss", .optional) { $0.tdLoss },
        Column("value_loss", tag: "losses/value_loss", .optional) { $0.valueLoss },
        Column("approx_kl", tag: "losses/approx_kl", .optional) { $0.approxKL },
        Column("clip_fraction", tag: "losses/clip_fraction", .optional) { $0.clipFraction },
    ]
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
