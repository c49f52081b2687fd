import Foundation

/// Published learning curves drawn beside a report's own runs (`sparrow report --reference FILE.csv`), e.g.
/// Dopamine's dense DQN baseline per Atari game beside Sparrow's dense and sparse DQN runs.
///
/// The file is CSV with the header `env,label,step,value,low,high` and no quoting (no field holds a comma): one row
/// per point, `env` as the runs name it (`ALE/Pong-v5`), `label` the curve's legend entry, `step` in environment
/// steps, and `low`/`high` an optional band (both or neither; the band is drawn when every point of the curve has
/// one). Rows of one (env, label) form one curve, in any order; curves keep the file's order. A reference enters no
/// number of the report: it is drawn in the learning curves of the envs that have runs, and report.md names it and
/// its file.
public struct ReferenceCurve: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var step: Double, value: Double, low: Double?, high: Double?
    }
    public var env: String
    public var label: String
    public var points: [Point]
    /// The file it came from (named in report.md).
    public var source: String

    public static let header = ["env", "label", "step", "value", "low", "high"]

    /// Reads `path`; a missing file or a bad row is one error naming the file, the line and the value.
    public static func load(_ path: String) throws -> [ReferenceCurve] {
        guard let data = FileManager.default.contents(atPath: path) else { throw SweepError("--reference: no file at \(path)") }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    public static func parse(_ text: String, source: String) throws -> [ReferenceCurve] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        let name = (source as NSString).lastPathComponent
        guard let first = lines.first, first.split(separator: ",", omittingEmptySubsequences: false).map(String.init) == header else {
            throw SweepError("\(name): the first line must be \(header.joined(separator: ",")), got '\(lines.first ?? "")'")
        }
        var curves: [ReferenceCurve] = []
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let at = "\(name) line \(i + 1)"
            guard f.count == header.count else {
                throw SweepError("\(at): \(f.count) fields, expected \(header.count) (\(header.joined(separator: ",")); low and high may be empty)")
            }
            guard !f[0].isEmpty, !f[1].isEmpty else { throw SweepError("\(at): env and label must not be empty") }
            func number(_ k: Int) throws -> Double? {
                if f[k].isEmpty && k >= 4 { return nil }
                guard let v = Double(f[k]), v.isFinite else { throw SweepError("\(at): \(header[k]) '\(f[k])' is not a finite number") }
                return v
            }
            let point = Point(step: try number(2)!, value: try number(3)!, low: try number(4), high: try number(5))
            guard (point.low == nil) == (point.high == nil) else { throw SweepError("\(at): give both low and high, or neither") }
            if let lo = point.low, let hi = point.high, !(lo <= point.value && point.value <= hi) {
                throw SweepError("\(at): the band \(f[4])…\(f[5]) does not hold the value \(f[3])")
            }
            if let k = curves.firstIndex(where: { $0.env == f[0] && $0.label == f[1] }) {
                guard !curves[k].points.contains(where: { $0.step == point.step }) else { throw SweepError("\(at): step \(f[2]) of '\(f[1])' on \(f[0]) given twice") }
                curves[k].points.append(point)
            } else {
                curves.append(ReferenceCurve(env: f[0], label: f[1], points: [point], source: source))
            }
        }
        guard !curves.isEmpty else { throw SweepError("\(name): no rows after the header") }
        for k in curves.indices { curves[k].points.sort { $0.step < $1.step } }
        return curves
    }

    /// The curve as a figure series: shades of grey (the runs keep their colours, dense its black), its band where
    /// every point has one.
    func series(shade: Int) -> Figure.Series {
        let greys = ["#8C8C8C", "#5A5A5A", "#B4B4B4"]
        let banded = points.allSatisfy { $0.low != nil }
        return Figure.Series(label: label, color: greys[shade % greys.count], x: points.map(\.step), y: points.map(\.value),
                             low: banded ? points.map { $0.low! } : nil, high: banded ? points.map { $0.high! } : nil)
    }
}
