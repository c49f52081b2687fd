import Environments
import Foundation

/// The report's human-normalised numbers for runs on Atari games: a section of report.md, four columns of
/// results.csv and one figure, present only when some run played an Atari game in `AtariScores.table`, so the report
/// of any other sweep reads exactly as before.
extension Report {
    /// Whether some cell has human-normalised scores (an Atari game with reference scores).
    public var hasHumanNormalizedScores: Bool { cells.contains { $0.humanNormalized != nil } }

    /// The envs with human-normalised scores, in the report's env order.
    public var humanNormalizedEnvs: [String] { envs.filter { AtariScores.entry(env: $0) != nil } }

    static let humanNormalizedCSVColumns = "human_normalized_mean,human_normalized_iqm,human_normalized_iqm_low,human_normalized_iqm_high"

    /// A cell's values for `humanNormalizedCSVColumns` (all nil off Atari).
    func humanNormalizedCSVFields(_ c: Cell) -> [Double?] {
        [c.humanNormalized.map(Statistics.mean), c.humanNormalizedIQM?.estimate, c.humanNormalizedIQM?.lower,
         c.humanNormalizedIQM?.upper]
    }

    /// report.md's Atari section: per game the raw final return beside its human-normalised score, and per method ×
    /// sparsity the IQM of human-normalised scores over runs × games (Graesser et al.'s and rliable's Atari
    /// aggregate). "" when no run played an Atari game with reference scores.
    func humanNormalizedMarkdown() -> String {
        guard hasHumanNormalizedScores else { return "" }
        let games = humanNormalizedEnvs
        var out = "\n## Human-normalised score (Atari)\n\n"
        out += "Human-normalised score (HNS): (final return − random) / (human − random), with the random and human scores "
        out += "of DQN Zoo's Atari-57 table (0: a uniformly random policy, 1: a professional human tester). Per game: the "
        out += "final return, mean ± std over runs, and in parentheses its HNS. IQM (HNS): interquartile mean of HNS over "
        out += "runs × games with a 95% stratified-bootstrap percentile interval (\(reps) replicates).\n\n"
        let missing = envs.filter { AtariScores.entry(env: $0) == nil && AtariGame.isAtariName($0) }
        if !missing.isEmpty {
            out += "No reference scores for \(missing.joined(separator: ", ")): left out of the HNS.\n\n"
        }
        let header = ["Method", "Sparsity"] + games + ["IQM (HNS) [95% CI]", "Games"]
        let rows = aggregates.compactMap { agg -> [String]? in
            guard let iqm = agg.humanNormalizedIQM else { return nil }
            let perGame = games.map { env -> String in
                guard let c = cell(env, agg.key), let h = c.humanNormalized else { return "–" }
                return Self.format(c.mean) + " ± " + Self.format(c.std) + " (" + Self.format(Statistics.mean(h)) + ")"
            }
            let played = games.filter { cell($0, agg.key) != nil }.count
            return [agg.key.methodColumn, Self.percent(agg.key.sparsity)] + perGame + [Self.interval(iqm), String(played)]
        }
        out += Self.markdownTable(header, rows)
        if humanNormalizedIQMVersusSparsity() != nil {
            out += "\n![IQM of human-normalised scores against sparsity](hns_iqm_vs_sparsity.png)\n"
        }
        return out
    }

    /// Graesser et al.'s Atari figure: the IQM of human-normalised scores over runs × games at each sparsity, per
    /// sparse method (95% stratified-bootstrap band), the full-size dense network as a dashed line. Nil without a
    /// sparse method on an Atari game.
    public func humanNormalizedIQMVersusSparsity() -> Figure? {
        let usable = aggregates.filter { $0.humanNormalizedIQM != nil && $0.key.actorCriticRatio == nil }
        let sparse = usable.filter { !$0.key.isDenseReference && $0.key.method != "dense" }
        guard !sparse.isEmpty else { return nil }
        var p = Figure.Panel(title: "\(humanNormalizedEnvs.count) Atari game\(humanNormalizedEnvs.count == 1 ? "" : "s") (IQM over runs × games)",
                             xLabel: "sparsity", yLabel: "human-normalised score")
        p.xFormat = { Report.percent($0) }
        let groups = Dictionary(grouping: sparse) { "\($0.key.algorithm)|\($0.key.method)" }
        for name in groups.keys.sorted() {
            let g = groups[name]!.sorted { $0.key.sparsity < $1.key.sparsity }, first = g[0].key
            p.series.append(.init(label: first.methodLabel, color: color(first), x: g.map(\.key.sparsity),
                                  y: g.map { $0.humanNormalizedIQM!.estimate }, low: g.map { $0.humanNormalizedIQM!.lower },
                                  high: g.map { $0.humanNormalizedIQM!.upper }, markers: g.count == 1))
        }
        let xs = sparse.map(\.key.sparsity)
        for dense in usable where dense.key.isDenseReference {
            let y = dense.humanNormalizedIQM!.estimate
            p.series.append(.init(label: dense.key.label, color: color(dense.key), x: [xs.min()!, xs.max()!], y: [y, y],
                                  low: nil, high: nil, dashed: true))
        }
        var f = Figure(title: "IQM of human-normalised scores against sparsity (95% stratified-bootstrap CI)", panels: [p])
        f.panelWidth = 560; f.panelHeight = 340
        return f
    }

    /// The Atari figure by file name, or none.
    func humanNormalizedFigures() -> [(String, Figure)] {
        humanNormalizedIQMVersusSparsity().map { [("hns_iqm_vs_sparsity", $0)] } ?? []
    }
}
