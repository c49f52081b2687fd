import Agents
import Foundation
import Interop

/// A run's logs: `metrics.csv`, `evaluations.csv` and the TensorBoard event file (`events.out.tfevents.*`), fed
/// the same rows. The trainer makes one, calls `start(keepingRowsUpTo:)` (nil: a new run; the checkpoint's step:
/// a resume, which cuts every log to that step) and `append`s rows; CSV rows are written at once, events are
/// buffered and written at each metrics row and evaluation (`flush`, also when the logs are released). It also
/// writes `run.json` (`RunMetadata`) at the start and, with the end time, when released.
///
/// TensorBoard tags (CleanRL/SB3 style): metrics.csv's columns carry theirs in `MetricsRow.columns` (e.g.
/// `steps_per_s` → `charts/SPS`, `critic_loss` → `losses/critic_loss`, DQN's `td_loss` → `losses/td_loss`, PPO's
/// `approx_kl` → `losses/approx_kl`); evaluations.csv's `mean_return`, `std_return` and `episodes` are
/// `charts/eval_return`, `charts/eval_return_std` and `charts/eval_episodes`. A non-finite or missing value is
/// left out in both.
///
/// analysis.csv's rows are tagged `analysis/NETWORK/QUANTITY` (`…/layerL` for one hidden layer), e.g.
/// `analysis/critic1/gradient_snr`; metrics.csv's actor_snr, critic_snr, actor_dormant and critic_dormant columns
/// repeat the latest of them and have no tag of their own.
///
/// metrics.csv's `eval_return` column repeats the latest evaluation; its curve is `charts/eval_return`, at the
/// evaluation steps. TensorBoard stores scalars as float32.
public final class RunLogs {
    let metrics: CSVLog
    let evaluations: CSVLog
    let analysis: CSVLog
    let directory: String
    private var events: EventFileWriter?
    /// run.json, written at `start` and again (with its end time) when the logs are released.
    private var metadata: RunMetadata?
    let metadataPath: String

    /// The logs of the run directory at `directory` (its file names: `RunDirectory`).
    public init(directory: String) {
        self.directory = directory
        let files = RunDirectory(directory)
        metrics = CSVLog(path: files.metrics, header: MetricsRow.header)
        evaluations = CSVLog(path: files.evaluations, header: Evaluation.header)
        analysis = CSVLog(path: files.analysis, header: AnalysisRow.header)
        metadataPath = files.runMetadata
    }

    /// Starts the logs: new ones when `step` is nil, otherwise the existing ones kept up to `step`.
    public func start(keepingRowsUpTo step: Int?) throws {
        try metrics.start(keepingRowsUpTo: step)
        try evaluations.start(keepingRowsUpTo: step)
        try analysis.start(keepingRowsUpTo: step)
        events = try EventFileWriter(directory: directory, keepingStepsUpTo: step)
        let m = RunMetadata.current(continuing: step == nil ? nil : RunMetadata.read(metadataPath))
        try m.write(to: metadataPath)
        metadata = m
    }

    deinit {
        try? flush()
        guard var m = metadata, !m.sessions.isEmpty else { return }
        let now = RunMetadata.timestamp()
        m.endedAt = now
        m.sessions[m.sessions.count - 1].endedAt = now
        try? m.write(to: metadataPath)
    }

    /// The event file's path (after `start`).
    public var eventFile: String? { events?.path }

    /// The row's TensorBoard scalars: each tagged column of `MetricsRow.columns`.
    public static func scalars(of row: MetricsRow) -> [(String, Double?)] {
        MetricsRow.columns.compactMap { c in c.tag.map { ($0, c.value(row)) } }
    }

    public static func scalars(of e: Evaluation) -> [(String, Double?)] {
        [("charts/eval_return", e.meanReturn), ("charts/eval_return_std", e.stdReturn),
         ("charts/eval_episodes", Double(e.episodes))]
    }

    // A failing write (a full disk) throws one line; the run then ends cleanly, its last checkpoint intact and its
    // logs holding whole rows only (a resume cuts them back to the checkpoint).
    public func append(_ row: MetricsRow) throws {
        try metrics.append(row.csv)
        events?.add(step: row.step, scalars: Self.scalars(of: row))
        try flush()
    }

    public func append(_ e: Evaluation) throws {
        try evaluations.append(e.csv)
        events?.add(step: e.step, scalars: Self.scalars(of: e))
        try flush()
    }

    /// Measurements taken at environment step `step`.
    public func append(_ measurements: [NetworkMeasurement], step: Int) throws {
        guard !measurements.isEmpty else { return }
        for m in measurements { try analysis.append(AnalysisRow.csv(m, step: step)) }
        events?.add(step: step, scalars: measurements.map { m -> (String, Double?) in
            ("analysis/\(m.network)/\(m.quantity.rawValue)" + (m.layer.map { "/layer\($0)" } ?? ""), m.value)
        })
    }

    /// The measurements analysis.csv holds (after `start`: up to the step it kept).
    func loggedMeasurements() -> [NetworkMeasurement] { AnalysisRow.read(analysis.path).map(\.measurement) }

    /// Writes buffered events to the file.
    public func flush() throws { try events?.flush() }
}
