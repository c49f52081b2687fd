import Foundation
import SparrowCore

/// One setting of a config struct, declared once: its key (the flag name and the config-file key), the property it
/// sets, its help text and its valid range. From the list of a struct's knobs come its `Codable` form (config
/// files, the run's `config.json`), the `sparrow train` flags and their `--help`, and the range checks — so adding a
/// knob is one property and one line in that list (`AgentConfig.knobs`, `TrainConfig.knobs`).
public struct Knob<Root>: @unchecked Sendable {
    /// Flag name and config key, e.g. "batch-size".
    public let key: String
    public let help: String
    /// How `--help` shows the value: "<int>", "<number>", "relu|tanh|leaky-relu", "<int,…>"; "" for on/off flags.
    public let valueHelp: String
    /// On/off knobs are flags on the command line: `--key` / `--no-key`.
    public let isSwitch: Bool
    /// The valid spellings of a choice knob.
    public let choices: [String]?
    /// What a command-line value must be, for errors: "<int>", "one of relu, tanh, leaky-relu", "true or false …".
    public let expects: String
    let decodeInto: (KeyedDecodingContainer<KnobKey>, inout Root) throws -> Void
    let encodeFrom: (Root, inout KeyedEncodingContainer<KnobKey>) throws -> Void
    let parseText: (String) throws -> Any
    let show: (Root) -> String?
    let check: (Root) throws -> Void

    /// A knob for the property at `path`; `valid` says what values it may take.
    public init<V: KnobValue>(_ key: String, _ path: WritableKeyPath<Root, V>, _ help: String, valid: Valid<V>? = nil) {
        let choices = V.choices
        let expects = V.self == Bool.self ? "true or false (or use --\(key) / --no-\(key))"
            : choices.map { "one of " + $0.joined(separator: ", ") } ?? V.valueHelp
        self.key = key
        self.help = help
        valueHelp = V.valueHelp
        isSwitch = V.self == Bool.self
        self.choices = choices
        self.expects = expects
        let codingKey = KnobKey(key)
        decodeInto = { c, root in root[keyPath: path] = try V.decode(from: c, key: codingKey) }
        encodeFrom = { root, c in try root[keyPath: path].encode(to: &c, key: codingKey) }
        parseText = { text in
            guard let value = V.parse(text) else { throw ConfigError("--\(key) takes \(expects), got '\(text)'") }
            if let bad = value.nonFinite { throw ConfigError("\(key) must be finite, got \(bad)") }
            return value.jsonValue
        }
        show = { root in root[keyPath: path].isUnset ? nil : root[keyPath: path].shown }
        check = { root in
            if let valid, let problem = valid.problem(root[keyPath: path]) {
                throw ConfigError("\(key) \(problem), got \(root[keyPath: path].shown)")
            }
        }
    }

    /// The same knob on a struct that holds `Root` at `path` (TrainConfig's view of AgentConfig's knobs).
    public func lifted<Outer>(through outer: WritableKeyPath<Outer, Root>) -> Knob<Outer> {
        Knob<Outer>(key: key, help: help, valueHelp: valueHelp, isSwitch: isSwitch, choices: choices, expects: expects,
                    decodeInto: { c, o in try decodeInto(c, &o[keyPath: outer]) },
                    encodeFrom: { o, c in try encodeFrom(o[keyPath: outer], &c) },
                    parseText: parseText, show: { show($0[keyPath: outer]) }, check: { try check($0[keyPath: outer]) })
    }

    private init(key: String, help: String, valueHelp: String, isSwitch: Bool, choices: [String]?, expects: String,
                 decodeInto: @escaping (KeyedDecodingContainer<KnobKey>, inout Root) throws -> Void,
                 encodeFrom: @escaping (Root, inout KeyedEncodingContainer<KnobKey>) throws -> Void,
                 parseText: @escaping (String) throws -> Any, show: @escaping (Root) -> String?,
                 check: @escaping (Root) throws -> Void) {
        self.key = key; self.help = help; self.valueHelp = valueHelp; self.isSwitch = isSwitch; self.choices = choices
        self.expects = expects
        self.decodeInto = decodeInto; self.encodeFrom = encodeFrom; self.parseText = parseText; self.show = show
        self.check = check
    }

    /// A command-line value (`--key TEXT`) as the value a config file would hold; throws a one-line error naming
    /// the flag and what it takes.
    public func parse(_ text: String) throws -> Any { try parseText(text) }

    /// The knob's value in `root` as a user would type it (nil when unset).
    public func value(in root: Root) -> String? { show(root) }

    /// Throws if the value in `root` is outside the knob's valid range.
    public func validate(_ root: Root) throws { try check(root) }
}

/// A group of knobs under one heading of `--help`.
public struct KnobSection<Root>: @unchecked Sendable {
    public let title: String
    public let knobs: [Knob<Root>]
    public init(_ title: String, _ knobs: [Knob<Root>]) { self.title = title; self.knobs = knobs }

    public func lifted<Outer>(through outer: WritableKeyPath<Outer, Root>) -> KnobSection<Outer> {
        KnobSection<Outer>(title, knobs.map { $0.lifted(through: outer) })
    }
}

/// Reads and writes a struct through its knobs: every key is optional on reading (an absent key keeps the value
/// `defaults` has, so files written before a knob existed still read), a choice's spelling is checked, and a wrong
/// type is a decoding error naming the key.
public enum KnobCoding {
    public static func decode<Root>(_ knobs: [Knob<Root>], from decoder: Decoder, defaults: Root) throws -> Root {
        let c = try decoder.container(keyedBy: KnobKey.self)
        var root = defaults
        for knob in knobs where c.contains(KnobKey(knob.key)) { try knob.decodeInto(c, &root) }
        return root
    }

    public static func encode<Root>(_ knobs: [Knob<Root>], _ root: Root, to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: KnobKey.self)
        for knob in knobs { try knob.encodeFrom(root, &c) }
    }
}

/// A knob key as a coding key.
public struct KnobKey: CodingKey, Hashable {
    public let stringValue: String
    public init(_ key: String) { stringValue = key }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

/// What a knob's value must satisfy, as a phrase for the error ("must be positive").
public struct Valid<V>: Sendable {
    let problem: @Sendable (V) -> String?
    public init(_ problem: @escaping @Sendable (V) -> String?) { self.problem = problem }
}

extension Valid where V: Comparable & Numeric & Sendable {
    public static var positive: Valid { Valid { $0 > 0 ? nil : "must be positive" } }
    public static var nonNegative: Valid { Valid { $0 >= 0 ? nil : "must be ≥ 0" } }
}

extension Valid where V == Double {
    /// [0, 1): sparsities, drop fractions, slopes.
    public static var unitOpen: Valid { Valid { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" } }
    /// [0, 1]: discounts, fractions of a run.
    public static var unitClosed: Valid { Valid { $0 >= 0 && $0 <= 1 ? nil : "must be in [0, 1]" } }
    /// (0, 1]: soft-update coefficients.
    public static var unitLeftOpen: Valid { Valid { $0 > 0 && $0 <= 1 ? nil : "must be in (0, 1]" } }
    /// [low, high].
    public static func range(_ low: Double, _ high: Double) -> Valid {
        Valid { $0 >= low && $0 <= high ? nil : "must be in [\(low), \(high)]" }
    }
}

extension Valid {
    /// For an optional knob (absent = not set, e.g. `update-stop`): `inner` applies when it is set.
    public static func ifSet<W>(_ inner: Valid<W>) -> Valid where V == W? {
        Valid { value in value.flatMap { inner.problem($0) } }
    }
}

extension Valid where V == [Int] {
    public static var positiveList: Valid { Valid { !$0.isEmpty && $0.allSatisfy { $0 > 0 } ? nil : "must list positive widths" } }
}

// MARK: - value types

/// A type a knob can hold: how it reads from a flag, reads and writes config files, and shows itself.
public protocol KnobValue {
    /// How `--help` shows the value.
    static var valueHelp: String { get }
    /// The spellings of a choice type (nil for others).
    static var choices: [String]? { get }
    /// The value of a command-line argument, nil if `text` is not one.
    static func parse(_ text: String) -> Self?
    static func decode(from c: KeyedDecodingContainer<KnobKey>, key: KnobKey) throws -> Self
    func encode(to c: inout KeyedEncodingContainer<KnobKey>, key: KnobKey) throws
    /// The value as JSON-compatible Foundation objects (what a parsed config file holds).
    var jsonValue: Any { get }
    /// The value as a user types it.
    var shown: String { get }
    /// The first number that is NaN or infinite, if any (JSON has neither; they are refused by name).
    var nonFinite: Double? { get }
    /// True for an optional that is not set.
    var isUnset: Bool { get }
}

extension KnobValue {
    public static var choices: [String]? { nil }
    public var nonFinite: Double? { nil }
    public var isUnset: Bool { false }
}

/// Plain Codable scalars and lists.
public protocol PlainKnobValue: KnobValue, Codable {}

extension PlainKnobValue {
    public static func decode(from c: KeyedDecodingContainer<KnobKey>, key: KnobKey) throws -> Self {
        try c.decode(Self.self, forKey: key)
    }
    public func encode(to c: inout KeyedEncodingContainer<KnobKey>, key: KnobKey) throws { try c.encode(self, forKey: key) }
    public var jsonValue: Any { self }
    public var shown: String { "\(self)" }
}

extension Int: PlainKnobValue {
    public static var valueHelp: String { "<int>" }
    public static func parse(_ text: String) -> Int? { Int(text) }
}

extension UInt64: PlainKnobValue {
    public static var valueHelp: String { "<int>" }
    public static func parse(_ text: String) -> UInt64? { UInt64(text) }
}

extension Double: PlainKnobValue {
    public static var valueHelp: String { "<number>" }
    public static func parse(_ text: String) -> Double? { Double(text) }
    public var nonFinite: Double? { isFinite ? nil : self }
}

extension Bool: PlainKnobValue {
    public static var valueHelp: String { "" }
    public static func parse(_ text: String) -> Bool? { ["true": true, "false": false][text] }
}

extension String: PlainKnobValue {
    public static var valueHelp: String { "<text>" }
    public static func parse(_ text: String) -> String? { text }
    public var shown: String { self }
}

extension Array: KnobValue, PlainKnobValue where Element: PlainKnobValue {
    public static var valueHelp: String { "<\(Element.valueHelp.dropFirst().dropLast()),…>" }
    /// Comma-separated, as `--hidden 256,256`.
    public static func parse(_ text: String) -> [Element]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.compactMap { Element.parse($0) }
        return !items.isEmpty && values.count == items.count ? values : nil
    }
    public var shown: String { map { $0.shown }.joined(separator: ",") }
    public var jsonValue: Any { map(\.jsonValue) }
    public var nonFinite: Double? { lazy.compactMap(\.nonFinite).first }
}

extension Optional: KnobValue where Wrapped: KnobValue {
    public static var valueHelp: String { Wrapped.valueHelp }
    public static var choices: [String]? { Wrapped.choices }
    public static func parse(_ text: String) -> Wrapped?? { Wrapped.parse(text).map { .some($0) } }
    public static func decode(from c: KeyedDecodingContainer<KnobKey>, key: KnobKey) throws -> Wrapped? {
        try c.decodeNil(forKey: key) ? nil : Wrapped.decode(from: c, key: key)
    }
    public func encode(to c: inout KeyedEncodingContainer<KnobKey>, key: KnobKey) throws {
        try self?.encode(to: &c, key: key)  // unset: no key, as before
    }
    public var jsonValue: Any { self?.jsonValue ?? NSNull() }
    public var shown: String { self?.shown ?? "none" }
    public var nonFinite: Double? { self?.nonFinite }
    public var isUnset: Bool { self == nil }
}

/// Choice knobs read and write their spellings, whatever their own `Codable` form is.
extension KnobValue where Self: NamedChoice {
    public static var valueHelp: String { spellings.joined(separator: "|") }
    public static var choices: [String]? { spellings }
    public static func parse(_ text: String) -> Self? { Self(spelling: text) }
    public static func decode(from c: KeyedDecodingContainer<KnobKey>, key: KnobKey) throws -> Self {
        let text = try c.decode(String.self, forKey: key)
        guard let value = Self(spelling: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not one of \(spellings)")
        }
        return value
    }
    public func encode(to c: inout KeyedEncodingContainer<KnobKey>, key: KnobKey) throws { try c.encode(spelling, forKey: key) }
    public var jsonValue: Any { spelling }
    public var shown: String { spelling }
}
