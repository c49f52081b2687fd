import Agents
import Foundation
import Interop

/// A run's logs: `metrics.csv`, `evaluations.csv` and the TensorBoard event file (`events.out.tfevents.*`), fed
/// the same rows. The trainer makes one, calls `start(keepingRowsUpTo:)` (nil: a new run; the checkpoint's step:
/// a resume, which cuts every log to that step) and `append`s rows; CSV rows are written at once, events are
/// buffered and written at each metrics row and evaluation (`flush`, also when the logs are released). It also
/// writes `run.json` (`RunMetadata`) at the start and, with the end time, when released.
///
/// TensorBoard tags (CleanRL/SB3 style), one per CSV column; a non-finite or missing value is left out in both:
///
///     metrics.csv        tag                         evaluations.csv   tag
///     steps_per_s        charts/SPS                  mean_return       charts/eval_return
///     wall_time_s        charts/wall_time_s          std_return        charts/eval_return_std
///     episode_return     charts/episodic_return      episodes          charts/eval_episodes
///     critic_loss        losses/critic_loss
///     actor_loss         losses/actor_loss
///     alpha              losses/alpha
///     mean_q             losses/mean_q
///     live_params        sparsity/live_params
///     actor_sparsity     sparsity/actor
///     critic_sparsity    sparsity/critic
///     training_flops     charts/training_flops
///     actor_input_real   noise_features/actor_connections_per_real_feature
///     actor_input_noise  noise_features/actor_connections_per_noise_feature
///     critic_input_real  noise_features/critic_connections_per_real_feature
///     critic_input_noise noise_features/critic_connections_per_noise_feature
///     td_loss            losses/td_loss              (DQN)
///     value_loss         losses/value_loss           (PPO)
///     approx_kl          losses/approx_kl            (PPO, CleanRL's name)
///     clip_fraction      losses/clip_fraction        (PPO; CleanRL's clipfrac)
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

    public static func scalars(of row: MetricsRow) -> [(String, Double?)] {
        [("charts/SPS", row.stepsPerSecond), ("charts/wall_time_s", row.wallTime),
         ("charts/episodic_return", row.episodeReturn),
         ("losses/critic_loss", row.criticLoss), ("losses/actor_loss", row.actorLoss), ("losses/alpha", row.alpha),
         ("losses/mean_q", row.meanQ), ("sparsity/live_params", Double(row.liveParameters)),
         ("sparsity/actor", row.actorSparsity), ("sparsity/critic", row.criticSparsity),
         ("charts/training_flops", row.trainingFLOPs),
         ("noise_features/actor_connections_per_real_feature", row.actorInputReal),
         ("noise_features/actor_connections_per_noise_feature", row.actorInputNoise),
         ("noise_features/critic_connections_per_real_feature", row.criticInputReal),
         ("noise_features/critic_connections_per_noise_feature", row.criticInputNoise),
         ("losses/td_loss", row.tdLoss), ("losses/value_loss", row.valueLoss), ("losses/approx_kl", row.approxKL),
         ("losses/clip_fraction", row.clipFraction)]
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
