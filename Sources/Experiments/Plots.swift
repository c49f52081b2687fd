import Foundation

/// A small SVG writer for the report's figures: panels side by side (small multiples) with axes, nice ticks,
/// lines with shaded bands, points with error bars, or bars with error whiskers, and one legend below.
public struct Figure {
    public struct Series {
        public var label: String
        public var color: String
        public var x: [Double]
        public var y: [Double]
        public var low: [Double]?
        public var high: [Double]?
        public var markers = false
        public var dashed = false
    }

    public struct Bar {
        public var label: String
        public var color: String
        public var value: Double
        public var low: Double?
        public var high: Double?
    }

    public struct Panel {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var series: [Series] = []
        public var bars: [Bar] = []
        /// Tick labels of the x axis as step counts (1k, 200k, 1M) or percentages.
        public var xFormat: (Double) -> String = Figure.compact
        public var yFormat: (Double) -> String = Figure.compact
    }

    public var title: String
    public var panels: [Panel]
    public var panelWidth = 340.0, panelHeight = 250.0
    public var columns = 3

    /// Okabe–Ito colours (distinguishable with colour-vision deficiencies), black first for dense.
    public static let palette = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]

    public init(title: String, panels: [Panel]) {
        self.title = title
        self.panels = panels
    }

    public func svg() -> String {
        let cols = min(columns, max(panels.count, 1))
        let rows = (panels.count + cols - 1) / cols
        // Bars carry their labels; a legend would only repeat them.
        let legend = panels.allSatisfy({ $0.series.isEmpty }) ? [] : legendEntries()
        // Wide enough for the title (≈ 8.6 px per bold 15 px character); panels centred in it.
        let panelsWidth = Double(cols) * panelWidth
        let width = max(panelsWidth + 20, Double(title.count) * 8.6 + 40)
        let marginX = (width - panelsWidth) / 2
        // Legend entries as wide as the longest label (≈ 7 px per 12 px character), as many per row as fit.
        let entryWidth = Double(legend.map(\.label.count).max() ?? 0) * 7 + 40
        let perRow = max(1, Int((width - 40) / entryWidth))
        let legendRows = (legend.count + perRow - 1) / perRow
        let height = 40 + Double(rows) * panelHeight + Double(legendRows) * 20 + 20
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>\n
            """
        for (i, panel) in panels.enumerated() {
            let ox = marginX + Double(i % cols) * panelWidth, oy = 40 + Double(i / cols) * panelHeight
            s += draw(panel, x: ox, y: oy)
        }
        // Legend.
        let ly = 40 + Double(rows) * panelHeight + 8
        for (i, e) in legend.enumerated() {
            let x = 20 + Double(i % perRow) * entryWidth, y = ly + Double(i / perRow) * 20
            if e.bar {
                s += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"14\" height=\"10\" fill=\"\(e.color)\"/>\n"
            } else {
                s += "<line x1=\"\(x)\" y1=\"\(y - 4)\" x2=\"\(x + 18)\" y2=\"\(y - 4)\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(e.dashed ? " stroke-dasharray=\"5,3\"" : "")/>\n"
            }
            s += "<text x=\"\(x + 24)\" y=\"\(y)\" font-size=\"12\">\(Self.escape(e.label))</text>\n"
        }
        return s + "</svg>\n"
    }

    func legendEntries() -> [(label: String, color: String, dashed: Bool, bar: Bool)] {
        var seen = Set<String>(), out: [(String, String, Bool, Bool)] = []
        for p in panels {
            for sr in p.series where !seen.contains(sr.label) { seen.insert(sr.label); out.append((sr.label, sr.color, sr.dashed, false)) }
            for b in p.bars where !seen.contains(b.label) { seen.insert(b.label); out.append((b.label, b.color, false, true)) }
        }
        return out
    }

    func draw(_ p: Panel, x ox: Double, y oy: Double) -> String {
        let left = ox + 62, right = ox + panelWidth - 14, top = oy + 26, bottom = oy + panelHeight - 46
        var s = "<text x=\"\((left + right) / 2)\" y=\"\(oy + 16)\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(p.title))</text>\n"
        // Ranges.
        var ys: [Double] = [], xs: [Double] = []
        for sr in p.series { xs += sr.x; ys += sr.y + (sr.low ?? []) + (sr.high ?? []) }
        for b in p.bars { ys += [b.value, 0] + [b.low, b.high].compactMap { $0 } }
        ys = ys.filter(\.isFinite); xs = xs.filter(\.isFinite)
        guard !ys.isEmpty else { return s }
        var (y0, y1) = (ys.min()!, ys.max()!)
        if y1 - y0 < 1e-9 { y0 -= 1; y1 += 1 }
        let pad = (y1 - y0) * 0.05
        // Pad below only where data go negative or lines need room; never push a non-negative axis below 0.
        let low = y0 >= 0 ? max(0, y0 - (p.bars.isEmpty ? pad : 0)) : y0 - pad
        let yTicks = Self.ticks(low, y1 + pad)
        y0 = min(y0, yTicks.first!); y1 = max(y1, yTicks.last!)
        func py(_ v: Double) -> Double { bottom - (v - y0) / (y1 - y0) * (bottom - top) }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if p.series.contains(where: \.markers) { let m = (x1 - x0) * 0.06; x0 -= m; x1 += m }  // keep end markers off the axes
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * (right - left) }

        // Grid and y axis.
        for t in yTicks {
            s += "<line x1=\"\(left)\" y1=\"\(py(t))\" x2=\"\(right)\" y2=\"\(py(t))\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n"
            s += "<text x=\"\(left - 6)\" y=\"\(py(t) + 4)\" text-anchor=\"end\" font-size=\"11\">\(p.yFormat(t))</text>\n"
        }
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
        s += "<text transform=\"translate(\(ox + 14),\((top + bottom) / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(Self.escape(p.yLabel))</text>\n"
        s += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 36)\" text-anchor=\"middle\" font-size=\"12\">\(Self.escape(p.xLabel))</text>\n"

        if !p.bars.isEmpty {
            let slot = (right - left) / Double(p.bars.count)
            for (i, b) in p.bars.enumerated() {
                let cx = left + slot * (Double(i) + 0.5), w = slot * 0.62
                let top = py(max(b.value, 0)), base = py(min(b.value, 0))
                s += "<rect x=\"\(cx - w / 2)\" y=\"\(top)\" width=\"\(w)\" height=\"\(max(base - top, 0.5))\" fill=\"\(b.color)\" fill-opacity=\"0.85\"/>\n"
                if let lo = b.low, let hi = b.high {
                    s += "<line x1=\"\(cx)\" y1=\"\(py(lo))\" x2=\"\(cx)\" y2=\"\(py(hi))\" stroke=\"black\" stroke-width=\"1.4\"/>\n"
                    for v in [lo, hi] { s += "<line x1=\"\(cx - 6)\" y1=\"\(py(v))\" x2=\"\(cx + 6)\" y2=\"\(py(v))\" stroke=\"black\" stroke-width=\"1.4\"/>\n" }
                }
                // A short label under each bar keeps the figure readable without the legend.
                s += "<text x=\"\(cx)\" y=\"\(bottom + 15)\" text-anchor=\"middle\" font-size=\"10\">\(Self.escape(Self.short(b.label, slot)))</text>\n"
            }
            if y0 < 0 { s += "<line x1=\"\(left)\" y1=\"\(py(0))\" x2=\"\(right)\" y2=\"\(py(0))\" stroke=\"black\"/>\n" }
            return s
        }

        for t in Self.ticks(x0, x1) where t >= x0 - 1e-9 && t <= x1 + 1e-9 {
            s += "<line x1=\"\(px(t))\" y1=\"\(bottom)\" x2=\"\(px(t))\" y2=\"\(bottom + 4)\" stroke=\"black\"/>\n"
            s += "<text x=\"\(px(t))\" y=\"\(bottom + 17)\" text-anchor=\"middle\" font-size=\"11\">\(p.xFormat(t))</text>\n"
        }
        for sr in p.series {
            if let lo = sr.low, let hi = sr.high, !sr.markers, sr.x.count > 1 {
                let upper = zip(sr.x, hi).map { "\(px($0)),\(py($1))" }
                let lower = zip(sr.x, lo).reversed().map { "\(px($0)),\(py($1))" }
                s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(sr.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            let pts = zip(sr.x, sr.y).map { "\(px($0)),\(py($1))" }.joined(separator: " ")
            s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"2\"\(sr.dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
            if sr.markers {
                for (i, (x, y)) in zip(sr.x, sr.y).enumerated() {
                    if let lo = sr.low?[i], let hi = sr.high?[i] {
                        s += "<line x1=\"\(px(x))\" y1=\"\(py(lo))\" x2=\"\(px(x))\" y2=\"\(py(hi))\" stroke=\"\(sr.color)\" stroke-width=\"1.4\"/>\n"
                    }
                    s += "<circle cx=\"\(px(x))\" cy=\"\(py(y))\" r=\"3.5\" fill=\"\(sr.color)\"/>\n"
                }
            }
        }
        return s
    }

    /// About five round tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = max(hi - lo, 1e-12)
        let raw = span / 5
        let mag = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let first = (lo / step).rounded(.down) * step
        var t: [Double] = [], v = first
        // Up to the first tick at or above hi, so the top of the data never touches the frame.
        while t.count < 20 { t.append(abs(v) < step * 1e-9 ? 0 : v); if v >= hi - step * 1e-9 { break }; v += step }
        return t
    }

    /// 950, 12k, 1.5M, 0.25.
    public static func compact(_ v: Double) -> String {
        let a = abs(v)
        func trim(_ s: String) -> String { s.contains(".") ? String(s.reversed().drop { $0 == "0" }.drop { $0 == "." }.reversed()) : s }
        if a >= 1e6 { return trim(String(format: "%.2f", v / 1e6)) + "M" }
        if a >= 1e4 { return trim(String(format: "%.1f", v / 1e3)) + "k" }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        return trim(String(format: "%.2f", v))
    }

    static func short(_ label: String, _ width: Double) -> String {
        let maxChars = max(4, Int(width / 6))
        return label.count <= maxChars ? label : String(label.prefix(maxChars - 1)) + "…"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension Report {
    /// Colours by method × sparsity, stable across figures (dense black). Groups that only unfinished runs have
    /// come after the finished ones, so a run that finishes later does not recolour the others' figures.
    func color(_ key: Key) -> String {
        if key.isDenseReference { return Figure.palette[0] }
        let running = Set(runs.filter { !($0.finished && $0.finalScore != nil) }.map { Key($0) }).subtracting(keys).sorted()
        let sparse = (keys + running).filter { !$0.isDenseReference }
        let i = sparse.firstIndex(of: key) ?? 0
        return Figure.palette[1 + i % (Figure.palette.count - 1)]
    }

    /// Unfinished runs with at least one evaluation: the learning curves draw each alone, dashed, so a report of a
    /// sweep under way shows where its runs stand (they enter no number).
    var runningCurves: [RunResult] {
        runs.filter { !($0.finished && $0.finalScore != nil) && !curve($0).isEmpty }
            .sorted { ($0.env, Key($0), $0.seed) < ($1.env, Key($1), $1.seed) }
    }

    /// Learning curves: per env, the mean evaluation return over finished runs at each evaluation step with a 95%
    /// bootstrap band (of the mean over runs); each unfinished run dashed beside them, labelled with its seed and
    /// the steps it has reached (envs with only unfinished runs get a panel too); then `references` of those envs.
    public func learningCurves(reps: Int = 2000) -> Figure {
        let running = runningCurves
        let panelEnvs = Array(Set(envs + running.map(\.env))).sorted()
        let referenceLabels = Array(Set(references.map(\.label))).sorted()  // one shade per label in every panel
        let panels = panelEnvs.map { env -> Figure.Panel in
            var panel = Figure.Panel(title: env, xLabel: "environment steps",
                                     yLabel: curves == .training ? "training return" : "evaluation return")
            for key in keys {
                guard let c = cell(env, key) else { continue }
                let points = c.runs.map(curve)
                var common = Set(points[0].map(\.step))
                for p in points.dropFirst() { common.formIntersection(p.map(\.step)) }
                let steps = common.sorted()
                guard !steps.isEmpty else { continue }
                var mean: [Double] = [], lo: [Double] = [], hi: [Double] = []
                for (j, step) in steps.enumerated() {
                    let values = points.map { p in p.first { $0.step == step }!.meanReturn }
                    let i = Statistics.stratifiedBootstrap([values], reps: reps, seed: UInt64(j), aggregate: Statistics.mean)
                    mean.append(i.estimate); lo.append(i.lower); hi.append(i.upper)
                }
                panel.series.append(.init(label: key.label, color: color(key), x: steps.map(Double.init), y: mean, low: lo, high: hi))
            }
            for r in running where r.env == env {
                let key = Key(r), p = curve(r)
                panel.series.append(.init(label: "\(key.label) seed \(r.seed) (running, \(Figure.compact(Double(r.stepsReached))) steps)",
                                          color: color(key), x: p.map { Double($0.step) }, y: p.map(\.meanReturn),
                                          low: nil, high: nil, dashed: true))
            }
            for c in references where c.env == env { panel.series.append(c.series(shade: referenceLabels.firstIndex(of: c.label)!)) }
            return panel
        }
        let what = curves == .training ? "training return per window, " : ""
        return Figure(title: "Learning curves (\(what)mean over runs, 95% bootstrap CI)", panels: panels)
    }

    /// IQM bars per method × sparsity: of dense-normalised scores across envs where every env has a dense
    /// reference, otherwise one panel per env with the raw final return.
    public func iqmBars() -> Figure {
        if aggregates.allSatisfy({ $0.normalizedIQM != nil }) {
            var panel = Figure.Panel(title: "IQM over \(envs.count) env\(envs.count == 1 ? "" : "s") × runs",
                                     xLabel: "", yLabel: "normalised score (dense = 1)")
            panel.bars = aggregates.map { .init(label: $0.key.label, color: color($0.key), value: $0.normalizedIQM!.estimate,
                                                low: $0.normalizedIQM!.lower, high: $0.normalizedIQM!.upper) }
            var f = Figure(title: "Interquartile mean of the final score (95% stratified-bootstrap CI)", panels: [panel])
            f.panelWidth = max(600, 110 * Double(panel.bars.count) + 120)
            return f
        }
        let panels = envs.map { env -> Figure.Panel in
            var p = Figure.Panel(title: env, xLabel: "", yLabel: "final return (IQM)")
            p.bars = keys.compactMap { key in cell(env, key).map { .init(label: key.label, color: color(key), value: $0.iqm.estimate, low: $0.iqm.lower, high: $0.iqm.upper) } }
            return p
        }
        var f = Figure(title: "Interquartile mean of the final return (95% bootstrap CI)", panels: panels)
        f.panelWidth = max(340, 100 * Double(keys.count) + 100)
        f.columns = max(1, Int(1400 / f.panelWidth))
        return f
    }

    /// Final return against sparsity per env: one line per method (IQM with its interval), dense as a dashed
    /// horizontal line.
    public func returnVersusSparsity() -> Figure {
        let panels = envs.map { env -> Figure.Panel in
            var p = Figure.Panel(title: env, xLabel: "sparsity", yLabel: "final return (IQM)")
            p.xFormat = { Report.percent($0) }
            let sparseKeys = keys.filter { $0.method != "dense" && $0.actorCriticRatio == nil }
            let xs = sparseKeys.filter { cell(env, $0) != nil }.map(\.sparsity)
            let methods = Array(Set(sparseKeys.map { "\($0.algorithm)|\($0.method)" })).sorted()
            for m in methods {
                let ks = sparseKeys.filter { "\($0.algorithm)|\($0.method)" == m }.filter { cell(env, $0) != nil }.sorted { $0.sparsity < $1.sparsity }
                guard let first = ks.first else { continue }
                let cs = ks.map { cell(env, $0)! }
                p.series.append(.init(label: first.methodLabel, color: color(first), x: ks.map(\.sparsity), y: cs.map(\.iqm.estimate),
                                      low: cs.map(\.iqm.lower), high: cs.map(\.iqm.upper), markers: true))
            }
            // Parameter-matched dense networks at the sparsity whose parameter count they have.
            let matched = keys.filter { $0.paramsLike != nil && $0.actorCriticRatio == nil && cell(env, $0) != nil }
                .sorted { $0.paramsLike! < $1.paramsLike! }
            if let first = matched.first {
                let cs = matched.map { cell(env, $0)! }
                p.series.append(.init(label: first.methodLabel + " (params-matched)", color: color(first), x: matched.map { $0.paramsLike! },
                                      y: cs.map(\.iqm.estimate), low: cs.map(\.iqm.lower), high: cs.map(\.iqm.upper), markers: true))
            }
            for key in keys where key.isDenseReference {
                guard let c = cell(env, key), let lo = xs.min(), let hi = xs.max() else { continue }
                p.series.append(.init(label: key.label, color: color(key), x: [lo, hi], y: [c.iqm.estimate, c.iqm.estimate],
                                      low: nil, high: nil, dashed: true))
            }
            return p
        }
        return Figure(title: "Final return against sparsity (IQM, 95% bootstrap CI)", panels: panels)
    }

    /// Writes report.md, results.csv and the figures (SVG, plus PNG where rsvg-convert or ImageMagick is
    /// installed) into `directory`; returns the files written.
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [String] = []
        func put(_ name: String, _ text: String) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        try put("report.md", markdown())
        // No finished run: no numbers, only the learning curves of the runs under way.
        if !cells.isEmpty { try put("results.csv", csv()) }
        let figures = cells.isEmpty ? [("learning_curves", learningCurves())]
            : [("learning_curves", learningCurves()), ("iqm", iqmBars()), ("return_vs_sparsity", returnVersusSparsity())]
                + analysisFigures(noise: includeNoise) + humanNormalizedFigures()
        for (name, figure) in figures {
            try put("\(name).svg", figure.svg())
            let svg = (directory as NSString).appendingPathComponent("\(name).svg")
            let png = (directory as NSString).appendingPathComponent("\(name).png")
            if SVGConverter.convert(svg: svg, png: png) { files.append(png) }
        }
        return files
    }
}

/// SVG → PNG with whatever converter is installed (rsvg-convert, else ImageMagick); false when none works.
public enum SVGConverter {
    public static func convert(svg: String, png: String) -> Bool {
        try? FileManager.default.removeItem(atPath: png)
        let attempts: [(String, [String])] = [("rsvg-convert", ["-z", "2", "-b", "white", "-o", png, svg]),
                                              ("magick", ["-density", "192", svg, png]),
                                              ("convert", ["-density", "192", svg, png])]
        for (tool, args) in attempts {
            guard let r = Shell.run(tool, args), r.status == 0 else { continue }
            if let data = FileManager.default.contents(atPath: png), data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return true }
        }
        try? FileManager.default.removeItem(atPath: png)
        return false
    }
}
