import Agents
import Foundation
import Training

/// Graesser et al.'s figures, robustness to observation noise, and Grooten et al.'s noise-feature picture, from
/// the same runs as the tables. Each returns nil when the runs hold nothing to draw (no parameter-matched or
/// ratio runs, no noise results, no noise features), so a report only carries the figures its runs support.
extension Report {
    /// Mean final return of a cell with the 95% percentile-bootstrap interval of that mean over its runs.
    func meanInterval(_ c: Cell, seed: UInt64 = 0) -> Statistics.Interval {
        Statistics.stratifiedBootstrap([c.scores], reps: min(reps, 10_000), seed: seed, aggregate: Statistics.mean)
    }

    /// Keys drawn against sparsity or parameters (the actor:critic runs have their own figure).
    var splitFreeKeys: [Key] { keys.filter { $0.actorCriticRatio == nil } }

    /// Figure 1: the IQM of dense-normalised final scores over runs × envs at each sparsity, per method (95%
    /// stratified-bootstrap band), parameter-matched dense networks at the sparsity they match, dense = 1.
    public func normalizedIQMVersusSparsity() -> Figure? {
        let usable = aggregates.filter { $0.normalizedIQM != nil && !$0.key.isDenseReference && $0.key.actorCriticRatio == nil }
        guard !usable.isEmpty else { return nil }
        var p = Figure.Panel(title: "\(envs.joined(separator: ", ")) (IQM over runs × envs)", xLabel: "sparsity",
                             yLabel: "normalised final score (dense = 1)")
        p.xFormat = { Report.percent($0) }
        func x(_ k: Key) -> Double { k.paramsLike ?? k.sparsity }
        let groups = Dictionary(grouping: usable) { "\($0.key.algorithm)|\($0.key.method)|\($0.key.paramsLike != nil)" }
        for name in groups.keys.sorted() {
            let g = groups[name]!.sorted { x($0.key) < x($1.key) }, first = g[0].key
            let label = first.methodLabel + (first.paramsLike != nil ? " (params-matched)" : "")
            p.series.append(.init(label: label, color: color(first), x: g.map { x($0.key) }, y: g.map { $0.normalizedIQM!.estimate },
                                  low: g.map { $0.normalizedIQM!.lower }, high: g.map { $0.normalizedIQM!.upper },
                                  markers: g.count == 1))
        }
        let xs = usable.map { x($0.key) }
        p.series.append(.init(label: "Dense (full size)", color: Figure.palette[0], x: [xs.min()!, xs.max()!], y: [1, 1],
                              low: nil, high: nil, dashed: true))
        var f = Figure(title: "Normalised IQM against sparsity (95% stratified-bootstrap CI)", panels: [p])
        f.panelWidth = 560; f.panelHeight = 340
        return f
    }

    /// Figure 2: final return against the live parameters (weights + biases of actor and critics; log scale) per
    /// env, each method a line over its sparsities with a 95% bootstrap band of the mean, the parameter-matched
    /// dense networks a line through their sizes ending at the full dense network.
    public func returnVersusParameters() -> Figure? {
        let panels = envs.compactMap { env -> Figure.Panel? in
            var p = Figure.Panel(title: env, xLabel: "parameters (log scale)", yLabel: "final return (mean over runs)")
            p.xFormat = { Figure.compact(pow(10, $0)) }
            let cells = splitFreeKeys.compactMap { cell(env, $0) }.filter { $0.liveParameters != nil }
            let groups = Dictionary(grouping: cells) { c -> String in
                c.key.method == "dense" ? "\(c.key.algorithm)|\(c.key.family)|dense" : "\(c.key.algorithm)|\(c.key.method)"
            }
            for name in groups.keys.sorted() {
                let g = groups[name]!.sorted { $0.liveParameters! < $1.liveParameters! }, first = g[0].key
                let intervals = g.enumerated().map { meanInterval($1, seed: UInt64($0)) }
                let label = first.method == "dense" ? (g.count > 1 ? first.methodLabel + " (full and params-matched)" : first.methodLabel)
                    : first.methodLabel
                p.series.append(.init(label: label, color: color(g.first { $0.key.isDenseReference }?.key ?? first),
                                      x: g.map { log10($0.liveParameters!) }, y: intervals.map(\.estimate),
                                      low: intervals.map(\.lower), high: intervals.map(\.upper), markers: g.count == 1))
            }
            return p.series.isEmpty ? nil : p
        }
        guard !panels.isEmpty else { return nil }
        return Figure(title: "Final return against parameter count (95% bootstrap CI of the mean)", panels: panels)
    }

    /// Figure 3: final return against Graesser's actor:critic split (live actor : live critic weights; log
    /// scale), one line per method and sparsity, per env.
    public func returnVersusActorCriticRatio() -> Figure? {
        let panels = envs.compactMap { env -> Figure.Panel? in
            var p = Figure.Panel(title: env, xLabel: "actor : critic parameters (log scale)", yLabel: "final return (mean over runs)")
            p.xFormat = { Figure.compact(pow(2, $0)) }
            let cells = keys.filter { $0.actorCriticRatio != nil }.compactMap { cell(env, $0) }
            let groups = Dictionary(grouping: cells) { "\($0.key.algorithm)|\($0.key.method)|\($0.key.sparsity)" }
            for name in groups.keys.sorted() {
                let g = groups[name]!.sorted { $0.key.actorCriticRatio! < $1.key.actorCriticRatio! }, first = g[0].key
                let intervals = g.enumerated().map { meanInterval($1, seed: UInt64($0)) }
                p.series.append(.init(label: "\(first.methodLabel) \(Report.percent(first.sparsity))", color: color(first),
                                      x: g.map { log2($0.key.actorCriticRatio!) }, y: intervals.map(\.estimate),
                                      low: intervals.map(\.lower), high: intervals.map(\.upper), markers: g.count == 1))
            }
            return p.series.isEmpty ? nil : p
        }
        guard !panels.isEmpty else { return nil }
        return Figure(title: "Final return against the actor:critic parameter split (95% bootstrap CI of the mean)", panels: panels)
    }

    /// The runs' noise results per env × key × noise scale: the levels and, per run, its mean return at each.
    struct NoiseCurve {
        var env: String, key: Key, scale: String, sigmas: [Double], runMeans: [[Double]]
    }

    /// The same curves with each run's returns divided by its own clean return (σ = 0), so policies of different
    /// clean performance compare by how much of it they keep (issue 24, finding 7). Curves without σ = 0, or with a
    /// run whose clean return is not positive, are left out.
    var normalisedNoiseCurves: [NoiseCurve] {
        noiseCurves.compactMap { c in
            guard let zero = c.sigmas.firstIndex(of: 0), c.runMeans.allSatisfy({ $0[zero] > 0 }) else { return nil }
            var n = c
            n.runMeans = c.runMeans.map { r in r.map { $0 / r[zero] } }
            return n
        }
    }

    var noiseCurves: [NoiseCurve] {
        var curves: [NoiseCurve] = []
        for env in envs {
            for key in keys {
                guard let c = cell(env, key) else { continue }
                let results = c.runs.compactMap(\.noiseRobustness)
                for scale in Set(results.map(\.scale)).sorted() {
                    let same = results.filter { $0.scale == scale }
                    guard let sigmas = same.first?.sigmas, same.allSatisfy({ $0.sigmas == sigmas }) else { continue }
                    curves.append(NoiseCurve(env: env, key: key, scale: scale, sigmas: sigmas, runMeans: same.map(\.meanReturn)))
                }
            }
        }
        return curves
    }

    /// Graesser's Figure 6: return against the observation-noise level (mean over runs' mean returns, 95% bootstrap
    /// band over runs; one run: its own episodes' interval). One panel per env, noise scale and method, a line per
    /// sparsity (dense: full size and parameter-matched), the full dense network dashed in every panel.
    public func returnVersusObservationNoise(normalised: Bool = false) -> Figure? {
        let curves = normalised ? normalisedNoiseCurves : noiseCurves
        guard !curves.isEmpty else { return nil }
        func line(_ curve: NoiseCurve, color: String, dashed: Bool = false) -> Figure.Series {
            let stats = curve.sigmas.indices.map { i -> Statistics.Interval in
                Statistics.stratifiedBootstrap([curve.runMeans.map { $0[i] }], reps: 2000, seed: UInt64(i), aggregate: Statistics.mean)
            }
            var low = stats.map(\.lower), high = stats.map(\.upper)
            if !normalised, curve.runMeans.count == 1, let run = cell(curve.env, curve.key)?.runs.compactMap(\.noiseRobustness).first {
                low = run.ciLow; high = run.ciHigh
            }
            return .init(label: curve.key.label, color: color, x: curve.sigmas, y: stats.map(\.estimate),
                         low: dashed ? nil : low, high: dashed ? nil : high, markers: curve.sigmas.count == 1, dashed: dashed)
        }
        let groups = Dictionary(grouping: curves) { "\($0.env)|\($0.scale)|\($0.key.algorithm)|\(Report.Key.order($0.key.method))|\($0.key.method)" }
        let panels = groups.sorted { $0.key < $1.key }.map { _, group -> Figure.Panel in
            let first = group[0]
            var p = Figure.Panel(title: "\(first.env) \(first.key.methodLabel)",
                                 xLabel: first.scale == "std" ? "noise σ (× feature std)" : "noise σ",
                                 yLabel: normalised ? "return / clean return" : "mean return")
            let sorted = group.sorted { $0.key < $1.key }
            for (i, curve) in sorted.enumerated() {
                p.series.append(line(curve, color: curve.key.isDenseReference ? Figure.palette[0] : Figure.palette[1 + i % (Figure.palette.count - 1)]))
            }
            if !sorted.contains(where: { $0.key.isDenseReference }),
               let dense = curves.first(where: { $0.env == first.env && $0.scale == first.scale && $0.key.algorithm == first.key.algorithm && $0.key.isDenseReference }) {
                p.series.append(line(dense, color: Figure.palette[0], dashed: true))
            }
            return p
        }
        return Figure(title: normalised ? "Return under Gaussian observation noise as a fraction of each policy's clean return (95% bootstrap CI)"
                          : "Return under Gaussian observation noise (95% bootstrap CI)", panels: panels)
    }

    /// The noise table of report.md: mean return per noise level (rows) and method (columns), per env and scale.
    func noiseMarkdown() -> String {
        var out = ""
        let normalisedCurves = normalisedNoiseCurves  // once: it walks every run's results
        for (name, group) in Dictionary(grouping: noiseCurves, by: { "\($0.env)|\($0.scale)" }).sorted(by: { $0.key < $1.key }) {
            let sigmas = group.flatMap(\.sigmas).reduce(into: [Double]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
            out += "\n**\(group[0].env)**, noise σ \(group[0].scale == "std" ? "× each feature's std" : "in observation units") "
                + "(mean return over runs' mean returns):\n\n"
            out += Self.noiseTable(group, sigmas: sigmas, format: "%.1f")
            // The same as a fraction of each policy's own clean return: policies of different clean return compare by
            // what they keep, as the paper's matched-return comparison intends.
            let normalised = normalisedCurves.filter { "\($0.env)|\($0.scale)" == name }
            guard !normalised.isEmpty else { continue }
            out += "\nAs a fraction of each policy's clean return (σ = 0), mean over runs:\n\n"
            out += Self.noiseTable(normalised, sigmas: sigmas, format: "%.2f")
        }
        return out
    }

    /// One noise table: a row per σ, a column per curve, each cell the mean over runs at that σ ("–" where a curve
    /// did not measure it).
    static func noiseTable(_ curves: [NoiseCurve], sigmas: [Double], format: String) -> String {
        var out = "| σ | " + curves.map { $0.key.label }.joined(separator: " | ") + " |\n"
        out += "| ---: |" + String(repeating: " ---: |", count: curves.count) + "\n"
        for s in sigmas {
            let cells = curves.map { c -> String in
                guard let i = c.sigmas.firstIndex(of: s) else { return "–" }
                return String(format: format, Statistics.mean(c.runMeans.map { $0[i] }))
            }
            out += "| \(Figure.compact(s)) | " + cells.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// Grooten et al.'s noise-feature picture: live input-layer connections per real and per noise feature over
    /// training, actor and critic, per env × key with noise features (mean over runs).
    public func noiseFeatureConnections() -> Figure? {
        var panels: [Figure.Panel] = []
        for env in envs {
            for key in keys {
                guard let c = cell(env, key) else { continue }
                let runs = c.runs.filter { !$0.inputConnections.isEmpty }
                guard let first = runs.first else { continue }
                let fraction = Report.percent(first.noiseFeatures)
                for (network, real, noise) in [("actor", \InputConnectionsPoint.actorReal, \InputConnectionsPoint.actorNoise),
                                               ("critic", \InputConnectionsPoint.criticReal, \InputConnectionsPoint.criticNoise)] {
                    let steps = first.inputConnections.map(\.step).filter { s in runs.allSatisfy { $0.inputConnections.contains { $0.step == s } } }
                    func mean(_ path: KeyPath<InputConnectionsPoint, Double?>, at step: Int) -> Double? {
                        let v = runs.compactMap { $0.inputConnections.first { $0.step == step }?[keyPath: path] }
                        return v.count == runs.count ? Statistics.mean(v) : nil
                    }
                    let r = steps.compactMap { s in mean(real, at: s).map { (Double(s), $0) } }
                    let n = steps.compactMap { s in mean(noise, at: s).map { (Double(s), $0) } }
                    guard !r.isEmpty, !n.isEmpty else { continue }
                    var p = Figure.Panel(title: "\(env) \(key.label), \(network) input layer (\(fraction) noise)",
                                         xLabel: "environment steps", yLabel: "live connections per input feature")
                    p.series.append(.init(label: "per real feature", color: Figure.palette[1], x: r.map(\.0), y: r.map(\.1)))
                    p.series.append(.init(label: "per noise feature", color: Figure.palette[2], x: n.map(\.0), y: n.map(\.1), dashed: true))
                    panels.append(p)
                }
            }
        }
        guard !panels.isEmpty else { return nil }
        var f = Figure(title: "Input-layer connections per real and per noise feature over training", panels: panels)
        f.columns = 2; f.panelWidth = 460
        return f
    }

    /// Gradient SNR and dormant fractions over training (analysis.csv; `--log-snr-every`, `--log-dormant-every`,
    /// `--redo-every`): one panel per quantity and env × key, a line per network (mean over runs).
    public func analysesOverTraining() -> Figure? {
        var panels: [Figure.Panel] = []
        for env in envs {
            for key in keys {
                guard let c = cell(env, key), c.runs.contains(where: { !$0.analyses.isEmpty }) else { continue }
                for (quantity, title) in [(NetworkMeasurement.Quantity.gradientSNR, "gradient SNR"),
                                          (.dormantFraction, "τ-dormant fraction")] {
                    let networks = Array(Set(c.runs.flatMap { $0.analyses.filter { $0.measurement.quantity == quantity }.map(\.measurement.network) })).sorted()
                    guard !networks.isEmpty else { continue }
                    var p = Figure.Panel(title: "\(env) \(key.label): \(title)", xLabel: "environment steps", yLabel: title)
                    for (i, network) in networks.enumerated() {
                        var byStep: [Int: [Double]] = [:]
                        for r in c.runs {
                            for a in r.analyses where a.measurement.quantity == quantity && a.measurement.network == network {
                                byStep[a.step, default: []].append(a.measurement.value)
                            }
                        }
                        let steps = byStep.keys.sorted()
                        p.series.append(.init(label: network, color: Figure.palette[1 + i % (Figure.palette.count - 1)],
                                              x: steps.map(Double.init), y: steps.map { Statistics.mean(byStep[$0]!) }))
                    }
                    panels.append(p)
                }
            }
        }
        guard !panels.isEmpty else { return nil }
        var f = Figure(title: "Gradient signal-to-noise ratio and dormant neurons over training", panels: panels)
        f.columns = 2; f.panelWidth = 460
        return f
    }

    /// report.md's sections for the optional figures (each links its PNG, written beside report.md) and the noise table.
    func analysisMarkdown() -> String {
        let captions = [
            "iqm_vs_sparsity": "Normalised IQM against sparsity (Graesser et al.'s Figure 1)",
            "return_vs_parameters": "Final return against parameter count (their Figure 2; parameter-matched dense: `--params-like`)",
            "return_vs_actor_critic_ratio": "Final return against the actor:critic split (their Figure 3, `--actor-critic-ratio`)",
            "analyses_over_training": "Gradient SNR and τ-dormant neurons over training (`--log-snr-every`, `--log-dormant-every`, `--redo-every`)",
            "noise_feature_connections": "Input-layer connections per real and per noise feature (Grooten et al.'s noise features)",
            "return_vs_observation_noise": "Return under observation noise (Graesser et al.'s Figure 6, `sparrow eval --obs-noise`)",
        ]
        var out = ""
        for (name, _) in analysisFigures(noise: includeNoise) {
            out += "\n## \(captions[name] ?? name)\n\n![\(captions[name] ?? name)](\(name).png)\n"
        }
        if includeNoise { out += noiseMarkdown() }
        return out
    }

    /// Every optional figure this report's runs support, by file name (without extension).
    func analysisFigures(noise: Bool) -> [(String, Figure)] {
        var figures: [(String, Figure?)] = [("iqm_vs_sparsity", normalizedIQMVersusSparsity()),
                                            ("return_vs_parameters", returnVersusParameters()),
                                            ("return_vs_actor_critic_ratio", returnVersusActorCriticRatio()),
                                            ("noise_feature_connections", noiseFeatureConnections()),
                                            ("analyses_over_training", analysesOverTraining())]
        if noise {
            figures.append(("return_vs_observation_noise", returnVersusObservationNoise()))
            figures.append(("return_vs_observation_noise_normalised", returnVersusObservationNoise(normalised: true)))
        }
        return figures.compactMap { name, f in f.map { (name, $0) } }
    }
}
