// Sparsity mathematics, part 7: what a sparse network costs — parameters and FLOPs as the papers count them.

/// Parameter and FLOP count of one fully connected layer.
///
/// FLOP convention (RigL/Evci et al. appendix, which Sokar follows: "multiplications and additions, layer by layer"):
/// - **forward**: one multiply and one add per live weight per sample, `2·live·batch`. The adds include the bias add:
///   each output starts from its bias and accumulates its live products. Activations are not counted.
/// - **backward**: twice the forward, `4·live·batch` — the input gradient `δ_in = Wᵀδ` (2·live per sample) plus the
///   weight gradient at live positions `g = δ·xᵀ` (2·live per sample). Bias gradients and activation derivatives are
///   not counted. RigL counts the input gradient of the first layer too; pass `inputGradient: false` to leave it out
///   (a truly sparse implementation need not compute it).
/// - **denseGradient**: `2·N·batch`, the dense weight gradient RigL's grow step needs at each update.
/// Training per step = forward + backward = 3× forward, RigL's `3·f_S`.
///
/// Parameters: Sokar reports live weights only (dense TD3 HalfCheetah: 214 784 = actor + two critics, no biases,
/// no targets); Graesser counts live weights + biases. Both are available.
///
/// A convolution applies each live weight at every output position: `usesPerSample` = OH·OW multiplies every FLOP
/// count (RigL's conv FLOPs), not the parameter counts.
public struct LayerCost: Codable, Equatable, Sendable {
    public var shape: LayerShape
    public var liveWeights: Int
    public var biases: Int
    /// Uses of each weight per sample (nil: 1, a fully connected layer; optional so saved costs read as before).
    public var outputPositions: Int?

    public init(shape: LayerShape, liveWeights: Int, hasBias: Bool = true, usesPerSample: Int = 1) {
        precondition(liveWeights >= 0 && liveWeights <= shape.count,
                     "live weights must be in 0...\(shape.count), got \(liveWeights)")
        precondition(usesPerSample >= 1, "a weight is used at least once per sample, got \(usesPerSample)")
        self.shape = shape
        self.liveWeights = liveWeights
        self.biases = hasBias ? shape.fanOut : 0
        self.outputPositions = usesPerSample == 1 ? nil : usesPerSample
    }

    /// Uses of each weight per sample.
    public var usesPerSample: Int { outputPositions ?? 1 }

    /// A dense layer.
    public init(dense shape: LayerShape, hasBias: Bool = true) {
        self.init(shape: shape, liveWeights: shape.count, hasBias: hasBias)
    }

    /// Live weights + biases (Graesser's count).
    public var parameters: Int { liveWeights + biases }

    public func forwardFLOPs(batch: Int) -> Int { 2 * liveWeights * usesPerSample * batch }

    public func backwardFLOPs(batch: Int, inputGradient: Bool = true) -> Int {
        (inputGradient ? 4 : 2) * liveWeights * usesPerSample * batch
    }

    public func denseGradientFLOPs(batch: Int) -> Int { 2 * shape.count * usesPerSample * batch }
}

/// Totals over a network (or an agent: pass the actor's and every critic's layers).
public struct NetworkCost: Codable, Equatable, Sendable {
    public var layers: [LayerCost]

    public init(layers: [LayerCost]) { self.layers = layers }

    /// Live weights (Sokar's "#params").
    public var liveWeights: Int { layers.reduce(0) { $0 + $1.liveWeights } }
    public var biases: Int { layers.reduce(0) { $0 + $1.biases } }
    /// Live weights + biases (Graesser's count).
    public var parameters: Int { liveWeights + biases }
    /// Dense weight count of the same shapes.
    public var denseWeights: Int { layers.reduce(0) { $0 + $1.shape.count } }
    /// 1 − live/dense over weights.
    public var sparsity: Double { denseWeights == 0 ? 0 : 1 - Double(liveWeights) / Double(denseWeights) }

    public func forwardFLOPs(batch: Int) -> Int { layers.reduce(0) { $0 + $1.forwardFLOPs(batch: batch) } }

    /// Backward FLOPs; the first layer's input gradient is counted unless `firstLayerInputGradient` is false.
    public func backwardFLOPs(batch: Int, firstLayerInputGradient: Bool = true) -> Int {
        layers.enumerated().reduce(0) { sum, item in
            sum + item.element.backwardFLOPs(batch: batch, inputGradient: item.offset > 0 || firstLayerInputGradient)
        }
    }

    /// One gradient step: forward + backward.
    public func trainingFLOPs(batch: Int, firstLayerInputGradient: Bool = true) -> Int {
        forwardFLOPs(batch: batch) + backwardFLOPs(batch: batch, firstLayerInputGradient: firstLayerInputGradient)
    }

    public func denseGradientFLOPs(batch: Int) -> Int { layers.reduce(0) { $0 + $1.denseGradientFLOPs(batch: batch) } }
}

/// Totals over the given layers.
public func networkCost(_ layers: [LayerCost]) -> NetworkCost { NetworkCost(layers: layers) }
