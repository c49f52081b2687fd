/// A minimal JSON writer for line-oriented output. Numbers print with Swift's shortest round-trip
/// representation, so a Double read back is bit-identical (JSONSerialization would round some).
struct JSONObject {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: Double) { fields.append("\(quote(key)):\(number(value))") }
    mutating func add(_ key: String, _ value: Int) { fields.append("\(quote(key)):\(value)") }
    mutating func add(_ key: String, _ value: Bool) { fields.append("\(quote(key)):\(value)") }
    mutating func add(_ key: String, _ value: String) { fields.append("\(quote(key)):\(quote(value))") }
    mutating func add<S: Sequence>(_ key: String, _ values: S) where S.Element == Double {
        fields.append("\(quote(key)):[\(values.map(number).joined(separator: ","))]")
    }
    mutating func add(_ key: String, _ values: [Int]) {
        fields.append("\(quote(key)):[\(values.map(String.init).joined(separator: ","))]")
    }
    mutating func add(_ key: String, _ object: JSONObject) { fields.append("\(quote(key)):\(object.text)") }
    mutating func add(_ key: String, _ values: [String]) {
        fields.append("\(quote(key)):[\(values.map(quote).joined(separator: ","))]")
    }

    var text: String { "{" + fields.joined(separator: ",") + "}" }

    private func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }  // JSON has no NaN/inf; Sparrow never emits them on purpose
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) + ".0" }
        return "\(x)"
    }

    private func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
