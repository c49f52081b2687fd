/// "Did you mean …?" for names a user typed: the edit distance (Levenshtein: insertions, deletions, substitutions)
/// and the closest candidates. One implementation for flags, presets, environments and Atari games.
public enum NearMiss {
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }

    /// The candidate closest to `name` (compared lower-cased) if it is within `maximum` edits, else nil. Names longer
    /// than 200 characters are nobody's near miss (and are not compared: the cost grows with the length).
    public static func closest(to name: String, among candidates: [String], maximum: Int = 2) -> String? {
        guard name.count <= 200 else { return nil }
        let key = name.lowercased()
        let best = candidates.map { ($0, editDistance(key, $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= maximum else { return nil }
        return best.0
    }

    /// `text` as a message shows it: at most `limit` characters (the middle elided), so a 10 MB value is not echoed.
    public static func shown(_ text: String, limit: Int = 80) -> String {
        text.count <= limit ? text : String(text.prefix(limit / 2 - 1)) + "…" + String(text.suffix(limit / 2 - 1))
    }
}
