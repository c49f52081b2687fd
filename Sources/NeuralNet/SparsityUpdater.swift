import SparrowCore

/// A sparse-training method at work on one network (JaxPruner's `BaseUpdater`): after each optimizer step it
/// decides whether the step changes the topology, plans each layer's change with the pure functions of `Sparsity/`
/// (positions and values in, a `TopologyPlan` out) and applies the plans to the layers.
///
/// Each trained network owns its own updater, so a method with state between steps (a gradient average, the age
/// of each connection, ...) keeps it per network. That state travels in checkpoints through `encodeState` and
/// `decodeState`; a method whose decisions are functions of the step alone (every method up to GraNet) carries none
/// and writes nothing, which is why checkpoints written before updaters existed read back unchanged.
///
/// Conformers: `DynamicSparsityUpdater` (SET, RigL, DS, TowS: drop and grow at a fixed live count),
/// `GradualPruningUpdater` (Zhu & Gupta magnitude pruning), and the methods in `Agents/SparseMethods/`.
public protocol SparsityUpdater: AnyObject {
    /// Changes `net`'s topology if `step` is one of the method's update steps. `workspace` holds the batch the
    /// optimizer step just trained on (forward activations and backward gradients: gradient growth reads the dense
    /// gradient from it). Draws only from `generator`. Returns the layers whose topology changed, ascending.
    @discardableResult
    func update(_ net: MLP, step: Int, workspace: Workspace, generator: inout Generator) -> [Int]

    /// Whether the updater has state to keep between steps (and so in checkpoints).
    var carriesState: Bool { get }
    /// Writes the state (called only when `carriesState`).
    func encodeState(into w: inout ByteWriter)
    /// Restores the state `encodeState` wrote (called only when `carriesState`).
    func decodeState(from r: inout ByteReader) throws
}

extension SparsityUpdater {
    public var carriesState: Bool { false }
    public func encodeState(into w: inout ByteWriter) {}
    public func decodeState(from r: inout ByteReader) throws {}
}

/// Dynamic sparse training at a fixed live count: `TopologyEvolution`'s schedule, drop and grow criteria.
public final class DynamicSparsityUpdater: SparsityUpdater {
    public let evolution: TopologyEvolution

    public init(_ evolution: TopologyEvolution) { self.evolution = evolution }

    @discardableResult
    public func update(_ net: MLP, step: Int, workspace: Workspace, generator: inout Generator) -> [Int] {
        net.updateTopology(evolution, step: step, workspace: workspace, generator: &generator).keys.sorted()
    }
}

/// Gradual magnitude pruning (Zhu & Gupta, tfmot): one schedule per layer (nil: the layer is not pruned).
public final class GradualPruningUpdater: SparsityUpdater {
    public let schedules: [PolynomialPruningSchedule?]

    public init(_ schedules: [PolynomialPruningSchedule?]) { self.schedules = schedules }

    @discardableResult
    public func update(_ net: MLP, step: Int, workspace: Workspace, generator: inout Generator) -> [Int] {
        net.pruneByMagnitude(schedules, step: step)
    }
}
