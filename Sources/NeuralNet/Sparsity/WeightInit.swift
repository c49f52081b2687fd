// Sparsity mathematics, part 5: initial values of live weights and biases.

import SparrowCore

/// How live weights (and biases) are initialised.
public enum WeightInit: Codable, Equatable, Sendable, CaseIterable, NamedChoice {
    /// PyTorch `nn.Linear` default (kaiming_uniform with a = √5): weights U(±1/√fan_in) with the **dense** fan_in,
    /// biases U(±1/√fan_in). Sokar masks this dense init without rescaling, so sparse layers start smaller.
    case pytorchLinear
    /// Glorot/Xavier uniform with dense fans: U(±√(6/(fan_in + fan_out))), biases 0 (ANF `weights_init_`;
    /// Keras `glorot_uniform` + zero bias in TF-Agents, Graesser's dense init).
    case xavierUniform
    /// RigL's sparsity-aware init (`unit_scaled_init_tf1`, `fanavg_uniform`, scale 1; Graesser
    /// `fixed_sparse_init=True`): connection i→j gets U(±√(3 / max(1, (fanIn_j + fanOut_i)/2))) where fanIn_j is
    /// the number of live inputs of output j and fanOut_i the number of live outputs of input i. Biases 0.
    case sparsityAware
    /// All zeros (weights and biases).
    case zero
    /// He / Kaiming truncated normal as Keras `VarianceScaling(2.0, "fan_in", "truncated_normal")` with the dense
    /// fan_in (TF-Agents DQN's hidden layers in rigl/rl): N(0, σ²) redrawn outside ±2σ, σ = √(2/fan_in)/0.8796…
    /// (the standard deviation of a unit normal truncated at ±2). Biases 0.
    case heTruncatedNormal
    /// Orthogonal (Saxe et al.; Keras `Orthogonal()`, gain 1, as rigl/rl's PPO networks): the dense weight matrix
    /// has orthonormal rows (fan_out ≤ fan_in) or columns, from the QR decomposition of a standard normal matrix with
    /// the signs of R's diagonal folded in (so the distribution is uniform over orthogonal matrices). A sparse layer
    /// keeps the entries at its live positions. Biases 0.
    case orthogonal

    /// Flag and config spelling (`--init`, `--grow-init`). Not the Codable form, which policy files store.
    public var spelling: String {
        switch self {
        case .pytorchLinear: return "pytorch"
        case .xavierUniform: return "xavier"
        case .sparsityAware: return "sparsity-aware"
        case .heTruncatedNormal: return "he-truncated-normal"
        case .orthogonal: return "orthogonal"
        case .zero: return "zero"
        }
    }
}

/// Initial values parallel to `positions` (ascending live positions; pass all positions for a dense layer).
/// One draw per live weight, in position order.
///
/// - Parameter fanTopology: the layer's whole live topology, whose fans set the `.sparsityAware` bounds
///   (default: `positions` itself). Pass it when initialising only some connections — e.g. the grown ones of a
///   `TopologyPlan` after `mergeTopology` — so the fans are those of the layer, not of the subset.
public func initialWeights(shape: LayerShape, positions: [Position], method: WeightInit,
                           fanTopology: [Position]? = nil, generator: inout Generator) -> [Float] {
    precondition(sparsityPositionsAreValid(positions, in: shape), "positions must be strictly ascending in \(shape)")
    switch method {
    case .zero:
        return [Float](repeating: 0, count: positions.count)
    case .pytorchLinear:
        let bound = 1 / Double(shape.fanIn).squareRoot()
        return positions.map { _ in Float(generator.uniform(-bound, bound)) }
    case .xavierUniform:
        let bound = (6 / Double(shape.fanIn + shape.kerasFanOut)).squareRoot()
        return positions.map { _ in Float(generator.uniform(-bound, bound)) }
    case .heTruncatedNormal:
        let sigma = (2 / Double(shape.fanIn)).squareRoot() / 0.87962566103423978
        return positions.map { _ in
            while true {
                let z = generator.normal()
                if abs(z) <= 2 { return Float(z * sigma) }
            }
        }
    case .orthogonal:
        let q = orthogonalMatrix(rows: shape.fanOut, columns: shape.fanIn, generator: &generator)
        return positions.map { Float(q[Int($0)]) }
    case .sparsityAware:
        let (liveIn, liveOut) = liveFans(shape: shape, positions: fanTopology ?? positions)
        return positions.map { p in
            let bound = sparsityAwareBound(fanIn: liveIn[shape.row(of: p)], fanOut: liveOut[shape.column(of: p)])
            return Float(generator.uniform(-bound, bound))
        }
    }
}

/// Initial biases (`fanOut` of them): PyTorch Linear U(±1/√fan_in); every other method 0 (no draws).
public func initialBiases(shape: LayerShape, method: WeightInit, generator: inout Generator) -> [Float] {
    switch method {
    case .pytorchLinear:
        let bound = 1 / Double(shape.fanIn).squareRoot()
        return (0..<shape.fanOut).map { _ in Float(generator.uniform(-bound, bound)) }
    case .xavierUniform, .sparsityAware, .heTruncatedNormal, .orthogonal, .zero:
        return [Float](repeating: 0, count: shape.fanOut)
    }
}

/// A rows × columns matrix (row-major) with orthonormal rows if rows ≤ columns, else orthonormal columns: modified
/// Gram–Schmidt (in Double) on the longer side's vectors of a standard normal matrix, which is its QR decomposition
/// with R's diagonal made positive — the sign correction Keras and PyTorch apply.
public func orthogonalMatrix(rows: Int, columns: Int, generator: inout Generator) -> [Double] {
    // Orthonormalise k vectors of length n, then lay them out as rows (or columns) of the result.
    let k = min(rows, columns), n = max(rows, columns)
    var v = (0..<k * n).map { _ in generator.normal() }
    for i in 0..<k {
        for j in 0..<i {
            var dot = 0.0
            for t in 0..<n { dot += v[i * n + t] * v[j * n + t] }
            for t in 0..<n { v[i * n + t] -= dot * v[j * n + t] }
        }
        var norm = 0.0
        for t in 0..<n { norm += v[i * n + t] * v[i * n + t] }
        norm = norm.squareRoot()
        for t in 0..<n { v[i * n + t] /= norm }
    }
    if rows <= columns { return v }  // k = rows vectors of length columns: the rows
    var q = [Double](repeating: 0, count: rows * columns)
    for c in 0..<columns { for r in 0..<rows { q[r * columns + c] = v[c * rows + r] } }
    return q
}

/// Live fans: `fanIn[row]` = live inputs of each output unit, `fanOut[column]` = live outputs of each input unit.
/// For a convolution an input unit is a channel, as RigL's `unit_scaled_init` sums the mask over the kernel window
/// first: every column of input channel c (its KH·KW taps) gets channel c's live fan-out.
public func liveFans(shape: LayerShape, positions: [Position]) -> (fanIn: [Int], fanOut: [Int]) {
    var fanIn = [Int](repeating: 0, count: shape.fanOut)
    var fanOut = [Int](repeating: 0, count: shape.fanIn)
    for p in positions {
        fanIn[shape.row(of: p)] += 1
        fanOut[shape.column(of: p)] += 1
    }
    let taps = shape.receptiveField
    if taps > 1 {
        for c in stride(from: 0, to: shape.fanIn, by: taps) {
            let channel = fanOut[c..<(c + taps)].reduce(0, +)
            for j in c..<(c + taps) { fanOut[j] = channel }
        }
    }
    return (fanIn, fanOut)
}

/// RigL's `fanavg_uniform` limit `√(3 / max(1, (fanIn + fanOut)/2))` for one connection's live fans.
public func sparsityAwareBound(fanIn: Int, fanOut: Int) -> Double {
    (3 / max(1, Double(fanIn + fanOut) / 2)).squareRoot()
}
