import NeuralNet
import SparrowCore

/// The methods of the three papers. Their topology changes are `TopologyEvolution`'s criteria (SET, RigL, DS, TowS
/// differ in drop, growth, schedule and knob defaults, which their presets set) and tfmot's gradual pruning.
extension SparseMethodDeclaration {
    public static let dense = SparseMethodDeclaration(
        method: .dense, summary: "Dense networks: every layer dense, nothing pruned or grown.", start: .dense,
        validate: { c in
            if c.sparsity != 0 {
                throw ConfigError("method dense takes no sparsity (got \(c.sparsity)); choose \(sparseMethodNames)")
            }
            if c.distribution == .perLayer {
                throw ConfigError("method dense takes no sparsity; distribution per-layer needs a sparse method (\(sparseMethodNames))")
            }
        })

    public static let `static` = SparseMethodDeclaration(
        method: .static, summary: "Static sparse training: a random sparse topology, fixed for the whole run.", start: .sparse)

    /// Sokar et al.'s DS-TD3/DS-SAC: SET-style drop and regrow on Sokar's schedule (presets `ds-*`).
    public static let ds = SparseMethodDeclaration(
        method: .ds, summary: "Dynamic sparse training (Sokar et al. 2022): drop by magnitude, regrow at random.",
        start: .sparse, keepsLiveCount: true, makeUpdater: dynamicUpdater, topologyPeriod: { $0.updateInterval })

    /// Grooten et al.'s TowS: ANF's SET with masked moments (presets `tows-*`).
    public static let tows = SparseMethodDeclaration(
        method: .tows, summary: "TowS (Grooten et al.): ANF's dynamic sparse training with masked Adam moments.",
        start: .sparse, makeUpdater: dynamicUpdater, topologyPeriod: { $0.updateInterval })

    public static let set = SparseMethodDeclaration(
        method: .set, summary: "SET (Mocanu et al. 2018): drop by magnitude, regrow at random.", start: .sparse,
        validate: { c in
            // SET and RigL differ only in where connections come back; the method names it, so reports label it truly.
            if c.grow != .random { throw ConfigError("method set grows connections at random; gradient growth is method rigl") }
        },
        makeUpdater: dynamicUpdater, topologyPeriod: { $0.updateInterval })

    public static let rigl = SparseMethodDeclaration(
        method: .rigl, summary: "RigL (Evci et al. 2020): drop by magnitude, regrow where the dense gradient is largest.",
        start: .sparse,
        validate: { c in
            if c.grow != .gradient { throw ConfigError("method rigl grows connections by gradient; random growth is method set") }
        },
        makeUpdater: dynamicUpdater, topologyPeriod: { $0.updateInterval })

    public static let prune = SparseMethodDeclaration(
        method: .prune, summary: "Gradual magnitude pruning (Zhu & Gupta 2017): dense to sparse on a cubic schedule.",
        start: .denseToBePruned, keepsLiveCount: false,
        validate: { c in
            if c.distribution == .erEpsilon || c.distribution == .perLayer {
                throw ConfigError("method prune spreads its final sparsity by uniform, er or erk; \(c.distribution.spelling) fixes \(c.distribution == .perLayer ? "sparsities" : "densities") instead")
            }
        },
        makeUpdater: { factory, spec, sparsity in
            GradualPruningUpdater(try factory.pruningSchedules(for: spec, sparsity: sparsity))
        })

    /// The dynamic methods' updater: the config's schedule, drop fraction and criteria (`NetworkFactory.evolution`).
    static let dynamicUpdater: @Sendable (NetworkFactory, MLPSpec, Double) throws -> (any SparsityUpdater)? = { factory, _, _ in
        DynamicSparsityUpdater(factory.evolution)
    }

    /// The methods that take a sparsity, for messages.
    static var sparseMethodNames: String {
        SparseMethods.registry.filter { $0.start != .dense }.map(\.method.rawValue).joined(separator: ", ")
    }
}
