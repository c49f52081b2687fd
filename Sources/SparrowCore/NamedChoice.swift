/// A setting with a fixed set of values, each with the spelling users type in flags and config files
/// (`--init sparsity-aware`, `drop: signed`). Enums of every layer conform, so a choice is declared once — in the
/// module that gives it meaning — and the command line, config files and `--help` list the same spellings.
///
/// An enum whose raw values are its spellings conforms by declaring `NamedChoice`. An enum whose `Codable` form
/// is part of a stored file format (e.g. `WeightInit` inside a policy file) keeps that form and spells itself in
/// `spelling`: the two must not be tied together.
public protocol NamedChoice: CaseIterable, Equatable, Sendable {
    /// The user-facing spelling of this value.
    var spelling: String { get }
}

extension NamedChoice {
    /// The value spelled `text`, if any.
    public init?(spelling text: String) {
        guard let value = Self.allCases.first(where: { $0.spelling == text }) else { return nil }
        self = value
    }

    /// Every spelling, in declaration order.
    public static var spellings: [String] { allCases.map(\.spelling) }
}

extension NamedChoice where Self: RawRepresentable, RawValue == String {
    public var spelling: String { rawValue }
}
