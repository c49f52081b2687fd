import Foundation

/// Progress for people: a redrawn bar on a terminal, plain periodic lines in a log file (cluster jobs).
public final class ProgressReporter {
    public enum Mode { case bar, lines, silent }
    let mode: Mode
    let total: Int
    let label: String
    private var lastDraw = 0.0
    private let start = Date()
    private let lineInterval: Double

    public init(total: Int, label: String, mode: Mode? = nil, lineInterval: Double = 30) {
        self.total = total
        self.label = label
        self.mode = mode ?? (isatty(STDERR_FILENO) != 0 ? .bar : .lines)
        self.lineInterval = lineInterval
    }

    /// Reports progress; draws at most 5 times a second (bar) or every `lineInterval` seconds (lines). `learning`
    /// is false before the first update (random or warm-up steps, 20k for Atari DQN), whose speed is that of acting
    /// alone, 10-50× the learning speed: no ETA is drawn from it.
    public func update(step: Int, stepsPerSecond: Double, evalReturn: Double?, learning: Bool = true, force: Bool = false) {
        let now = Date().timeIntervalSince(start)
        switch mode {
        case .silent: return
        case .bar:
            guard force || now - lastDraw >= 0.2 else { return }
            lastDraw = now
            let line = Self.barLine(label: label, step: step, total: total, stepsPerSecond: stepsPerSecond,
                                    evalReturn: evalReturn, learning: learning)
            FileHandle.standardError.write(Data(line.utf8))
        case .lines:
            guard force || now - lastDraw >= lineInterval else { return }
            lastDraw = now
            print(Self.logLine(label: label, step: step, total: total, stepsPerSecond: stepsPerSecond,
                               evalReturn: evalReturn, learning: learning))
            fflush(stdout)
        }
    }

    /// The terminal's redrawn bar.
    static func barLine(label: String, step: Int, total: Int, stepsPerSecond: Double, evalReturn: Double?,
                        learning: Bool) -> String {
        let width = 30
        let frac = Double(step) / Double(max(total, 1))
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let eta = !(stepsPerSecond > 0) ? "--" : !learning ? "-- (warm-up)" : Self.duration(Double(total - step) / stepsPerSecond)
        let ret = evalReturn.map { String(format: "%.1f", $0) } ?? "–"
        return String(format: "\r%@ %@ %3.0f%% %d/%d  %.0f steps/s  ETA %@  eval %@ ",
                      label, bar, frac * 100, step, total, stepsPerSecond, eta, ret)
    }

    /// A log file's periodic line (cluster jobs).
    static func logLine(label: String, step: Int, total: Int, stepsPerSecond: Double, evalReturn: Double?,
                        learning: Bool) -> String {
        let ret = evalReturn.map { String(format: "%.1f", $0) } ?? "-"
        let eta = learning && stepsPerSecond > 0 ? Self.duration(Double(total - step) / stepsPerSecond) : "-"
        return String(format: "%@ step %d/%d (%.1f%%) %.0f steps/s eta %@ eval_return %@", label, step, total,
                      100 * Double(step) / Double(max(total, 1)), stepsPerSecond, eta, ret)
    }

    public func finish() {
        if mode == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    public func message(_ text: String) {
        if mode == .bar { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if mode != .silent { print(text); fflush(stdout) }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? seconds : 0)
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s / 60 % 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
