import NeuralNet
import SparrowCore

extension AgentConfig {
    /// The sparse-training method: the name of a declaration in `SparseMethods.registry`. Flags, config files,
    /// `config.json`, policy files and reports spell it by that name; what the method does is its declaration's.
    public struct Method: RawRepresentable, Hashable, Codable, Sendable, NamedChoice, KnobValue, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Every registered method, in registry order (what `--help` lists).
        public static var allCases: [Method] { SparseMethods.registry.map(\.method) }

        public static let dense = Method(rawValue: "dense")
        public static let `static` = Method(rawValue: "static")
        public static let ds = Method(rawValue: "ds")
        public static let tows = Method(rawValue: "tows")
        public static let set = Method(rawValue: "set")
        public static let rigl = Method(rawValue: "rigl")
        public static let prune = Method(rawValue: "prune")

        public var description: String { rawValue }

        /// This method's declaration (a method value always comes from the registry: parsing refuses other names
        /// and `AgentConfig.validate` refuses a value built in code with an unknown one).
        public var declaration: SparseMethodDeclaration {
            guard let d = SparseMethods.declaration(of: self) else {
                preconditionFailure("method \(rawValue) is not in SparseMethods.registry")
            }
            return d
        }
    }
}

/// One sparse-training method, declared once: what its networks start as, how their topology changes (an updater
/// per trained network), the knob combinations it refuses, and the presets it adds. Adding a method is a file with
/// its declaration and updater (`GraNet.swift` is the model), one line in `SparseMethods.registry`, and its tests;
/// see docs/extending.md.
public struct SparseMethodDeclaration: Sendable {
    /// How a method builds its networks.
    public enum Start: Sendable {
        /// Every layer dense (method dense).
        case dense
        /// Sparse at the budget from the first step, spread by `distribution`.
        case sparse
        /// Prunable layers dense, on a backend whose topology can change (sparse or masked at density 1), to be
        /// pruned toward the budget by the updater.
        case denseToBePruned
    }

    public let method: AgentConfig.Method
    /// One line for `--help` and the docs, naming the paper.
    public let summary: String
    public let start: Start
    /// Whether a network's live count stays as built (pruning and drops without regrowth change it).
    public let keepsLiveCount: Bool
    /// The knob rules of this method (one-line `ConfigError`s naming the key and what is valid); the knobs'
    /// own ranges are checked before.
    public let validate: @Sendable (AgentConfig) throws -> Void
    /// The updater of one trained network built from `spec` at `sparsity` (nil: its topology never changes).
    public let makeUpdater: @Sendable (_ factory: NetworkFactory, _ spec: MLPSpec, _ sparsity: Double) throws -> (any SparsityUpdater)?
    /// Gradient updates between the method's topology changes, for `bench train`'s count (nil: none counted).
    public let topologyPeriod: @Sendable (AgentConfig) -> Int?
    /// Presets the method adds, each the settings of an existing preset with this method in it.
    public let presets: [MethodPreset]

    public init(method: AgentConfig.Method, summary: String, start: Start, keepsLiveCount: Bool = true,
                validate: @escaping @Sendable (AgentConfig) throws -> Void = { _ in },
                makeUpdater: @escaping @Sendable (NetworkFactory, MLPSpec, Double) throws -> (any SparsityUpdater)? = { _, _, _ in nil },
                topologyPeriod: @escaping @Sendable (AgentConfig) -> Int? = { _ in nil }, presets: [MethodPreset] = []) {
        self.method = method; self.summary = summary; self.start = start; self.keepsLiveCount = keepsLiveCount
        self.validate = validate; self.makeUpdater = makeUpdater; self.topologyPeriod = topologyPeriod
        self.presets = presets
    }
}

/// A preset a method adds: `base`'s settings (an existing preset, whose paper and algorithm it shares) with the
/// method set and `adjust` applied. Reports compare it with `base`'s dense run.
public struct MethodPreset: Sendable {
    public let name: String
    public let base: String
    public let adjust: @Sendable (inout AgentConfig) -> Void

    public init(name: String, base: String, adjust: @escaping @Sendable (inout AgentConfig) -> Void) {
        self.name = name; self.base = base; self.adjust = adjust
    }
}

/// Every sparse-training method Sparrow knows, found by name. The one list a new method joins.
public enum SparseMethods {
    public static let registry: [SparseMethodDeclaration] = [
        .dense, .static, .ds, .tows, .set, .rigl, .prune,
        .granet,
    ]

    public static func declaration(of method: AgentConfig.Method) -> SparseMethodDeclaration? {
        registry.first { $0.method == method }
    }

    /// Every preset the methods add, by name.
    public static var presets: [MethodPreset] { registry.flatMap(\.presets) }
}
