import COpenBLAS
import SparrowCore

/// How a sparse or masked layer's initial connections are drawn.
public enum InitialTopology: String, Codable, Sendable {
    /// Exactly round(density·N) connections, uniformly without replacement (ANF, RigL).
    case exactCount
    /// Each connection independently with probability `density` (Sokar's Erdős–Rényi masks).
    case bernoulli
}

/// One layer of an `MLPSpec`: fully connected, or a 2-D convolution when `convolution` is set.
public struct LayerSpec: Codable, Equatable, Sendable {
    public var backend: LayerBackend
    /// The convolution this layer computes (nil: fully connected). Its input and output feature counts are the
    /// spec's widths on either side; its weights are the kernel matrix `convolution.kernelShape`.
    public var convolution: ConvGeometry?
    /// Fraction of live connections (1 for dense layers).
    public var density: Double
    public var initialization: WeightInit
    /// Bias initialisation method (see `initialBiases`).
    public var biasInitialization: WeightInit
    public var topology: InitialTopology
    /// Masked-dense layers only.
    public var momentPolicy: MomentPolicy

    public init(backend: LayerBackend, density: Double = 1, initialization: WeightInit = .pytorchLinear,
                biasInitialization: WeightInit? = nil, topology: InitialTopology = .exactCount,
                momentPolicy: MomentPolicy = .masked, convolution: ConvGeometry? = nil) {
        precondition(density > 0 && density <= 1, "density \(density) is outside (0, 1]")
        precondition(backend != .dense || density == 1, "a dense layer has density 1 (got \(density))")
        self.backend = backend; self.density = density; self.initialization = initialization
        self.biasInitialization = biasInitialization ?? initialization
        self.topology = topology; self.momentPolicy = momentPolicy
        self.convolution = convolution
    }
}

/// A feed-forward network: `widths` = [input, hidden…, output] features per sample, one `LayerSpec` per weight
/// tensor. Named for the multilayer perceptrons it first described; a layer may be a convolution (the Nature CNN
/// is three of them and two fully connected layers), whose widths are its flattened feature maps.
///
/// With a `graph` (residual networks such as Impala; see `NetworkGraph`) the layers are not one chain: `widths` is
/// then [input, output of layer 0, output of layer 1, …], each layer reads the value the graph gives it, and
/// `activation` / `outputActivation` are unused (the graph names each layer's activation).
public struct MLPSpec: Codable, Equatable, Sendable {
    public var widths: [Int]
    public var activation: Activation
    public var outputActivation: Activation
    public var layers: [LayerSpec]
    /// How values flow between the layers when they are not a chain; nil for a chain (every network before Impala,
    /// and every archive written before it: the key is absent there).
    public var graph: NetworkGraph?

    public init(widths: [Int], activation: Activation = .relu, outputActivation: Activation = .identity,
                layers: [LayerSpec], graph: NetworkGraph? = nil) {
        precondition(widths.count >= 2 && layers.count == widths.count - 1,
                     "\(widths.count) widths need \(widths.count - 1) layer specs, got \(layers.count)")
        precondition(activation.slope >= 0 && outputActivation.slope >= 0, "LeakyReLU slopes must be ≥ 0")
        self.widths = widths; self.activation = activation; self.outputActivation = outputActivation
        self.layers = layers
        self.graph = graph
        do { try validate() } catch { preconditionFailure("\(error)") }
    }

    /// Whether the layers' widths fit each other (and the graph): what a decoded spec is checked with.
    public func validate() throws {
        guard widths.count >= 2, widths.allSatisfy({ $0 > 0 }), layers.count == widths.count - 1 else {
            throw NetworkGraphError("\(widths.count) widths \(widths) do not fit \(layers.count) layers")
        }
        if graph != nil { _ = try plan(); return }
        for (l, layer) in layers.enumerated() {
            guard let g = layer.convolution else { continue }
            guard widths[l] == g.inputCount && widths[l + 1] == g.outputCount else {
                throw NetworkGraphError("layer \(l) convolution \(g) needs widths \(g.inputCount) → \(g.outputCount), got \(widths[l]) → \(widths[l + 1])")
            }
        }
    }

    /// The graph compiled against the layers' widths; nil for a chain.
    func plan() throws -> GraphPlan? {
        guard let graph else { return nil }
        for (l, layer) in layers.enumerated() {
            if let g = layer.convolution, g.outputCount != widths[l + 1] {
                throw NetworkGraphError("layer \(l) convolution \(g) outputs \(g.outputCount) features, widths say \(widths[l + 1])")
            }
        }
        return try GraphPlan(graph, inputWidth: widths[0],
                             layerWidths: layers.indices.map { (layers[$0].convolution?.inputCount, widths[$0 + 1]) },
                             outputWidth: widths[widths.count - 1])
    }

    /// Features per sample into each layer: `widths[l]` in a chain, the value the graph feeds it otherwise.
    public var layerInputWidths: [Int] {
        guard let plan = try? plan() else { return Array(widths.dropLast()) }
        return plan.layerInput.map { plan.widths[$0] }
    }

    /// Same backend for every layer; `densities` per layer (dense layers get 1).
    public init(widths: [Int], activation: Activation = .relu, outputActivation: Activation = .identity,
                backend: LayerBackend, densities: [Double]? = nil, initialization: WeightInit = .pytorchLinear,
                momentPolicy: MomentPolicy = .masked) {
        let d = densities ?? Array(repeating: 1, count: widths.count - 1)
        precondition(d.count == widths.count - 1)
        self.init(widths: widths, activation: activation, outputActivation: outputActivation,
                  layers: d.map { LayerSpec(backend: backend, density: $0, initialization: initialization,
                                            momentPolicy: momentPolicy) })
    }

    /// Each layer's weight matrix: fanIn × fanOut, or a convolution's kernel matrix.
    public var shapes: [LayerShape] {
        let inputs = layerInputWidths
        return (0..<layers.count).map { layers[$0].convolution?.kernelShape ?? LayerShape(fanIn: inputs[$0], fanOut: widths[$0 + 1]) }
    }
}

/// Activation and gradient buffers of one batch size, allocated once and reused by every step.
/// All matrices are feature-major: value of feature f for sample b at `f * batch + b`.
public final class Workspace {
    /// Samples in the current batch. Equal to `capacity` except in a gathered workspace (`MLP.gather`), whose
    /// compact batch is the number of selected samples; the layout then uses `batch` as its stride.
    public internal(set) var batch: Int
    /// Samples the buffers have room for.
    public let capacity: Int
    /// activations[0] is the input, activations[l] the output of layer l (after its activation).
    let activations: [FloatBuffer]
    /// gradients[L] is ∂L/∂output (set by the caller); after `backward`, gradients[l] (0 < l < L) holds layer l's
    /// pre-activation gradient dZ, and gradients[0] the input gradient if requested.
    let gradients: [FloatBuffer]
    /// dZ of the output layer (∂L/∂output through the output activation).
    let outputPreActivationGradient: FloatBuffer

    /// A graph network's plan and buffers (nil for a chain): there `activations` and `gradients` hold one buffer per
    /// graph value instead of one per width.
    let graph: GraphBuffers?

    init(widths: [Int], batch: Int) {
        self.batch = batch
        capacity = batch
        activations = widths.map { FloatBuffer(count: $0 * batch) }
        gradients = widths.map { FloatBuffer(count: $0 * batch) }
        outputPreActivationGradient = FloatBuffer(count: widths[widths.count - 1] * batch)
        graph = nil
    }

    init(plan: GraphPlan, batch: Int) {
        self.batch = batch
        capacity = batch
        activations = plan.widths.map { FloatBuffer(count: $0 * batch) }
        gradients = plan.widths.map { FloatBuffer(count: $0 * batch) }
        outputPreActivationGradient = FloatBuffer(count: 0)
        graph = GraphBuffers(plan: plan, batch: batch)
    }

    /// Write the network input here (inputWidth × batch).
    public var input: FloatBuffer { activations[0] }
    /// The network output after `forward` (outputWidth × batch).
    public var output: FloatBuffer { activations[activations.count - 1] }
    /// Write ∂L/∂output here before `backward` (not modified by it).
    public var outputGradient: FloatBuffer { gradients[gradients.count - 1] }
    /// ∂L/∂input after `backward(…, inputGradient: true)`.
    public var inputGradient: FloatBuffer { gradients[0] }
    /// Output of weight layer l (0-based) after `forward`.
    public func layerOutput(_ l: Int) -> FloatBuffer {
        if let graph { return activations[graph.plan.layerOutput[l]] }
        return activations[l + 1]
    }
    /// Input of weight layer l after `forward`.
    func layerInput(_ l: Int) -> FloatBuffer {
        if let graph { return activations[graph.plan.layerInput[l]] }
        return activations[l]
    }
    /// dZ of weight layer l after `backward`.
    func preActivationGradient(_ l: Int) -> FloatBuffer {
        if let graph { return graph.preActivationGradient(l, gradients) }
        return l == activations.count - 2 ? outputPreActivationGradient : gradients[l + 1]
    }
}

/// A multilayer perceptron with per-layer backends.
public final class MLP {
    public let spec: MLPSpec
    public internal(set) var layers: [any Layer]
    /// The compiled graph of a residual network; nil for a chain.
    let plan: GraphPlan?
    private var workspaces: [Int: Workspace] = [:]
    /// Scratch of `gather`, sized for the largest batch gathered so far.
    private var gathered: Workspace?

    /// Builds and initialises a network. For each layer in order, the generator draws the topology (sparse and
    /// masked layers below density 1), then the weights, then the biases — so the sparse and masked backends built
    /// from the same spec and seed have identical connections and values.
    public init(spec: MLPSpec, generator: inout Generator) {
        BLASThreads.ensureConfigured()
        self.spec = spec
        plan = try! spec.plan()  // the spec's init validated it
        layers = []
        let shapes = spec.shapes
        for (l, ls) in spec.layers.enumerated() {
            let shape = shapes[l]
            let n = shape.fanIn * shape.fanOut
            let positions: [Position]
            if ls.density >= 1 {
                positions = (0..<Int32(n)).map { $0 }
            } else if ls.topology == .bernoulli {
                positions = bernoulliTopology(shape: shape, density: ls.density, generator: &generator)
            } else {
                let count = liveCounts(shapes: [shape], densities: [ls.density])[0]
                positions = randomTopology(shape: shape, count: count, generator: &generator)
            }
            let w = initialWeights(shape: shape, positions: positions, method: ls.initialization, generator: &generator)
            let b = initialBiases(shape: shape, method: ls.biasInitialization, generator: &generator)
            layers.append(MLP.makeLayer(backend: ls.backend, shape: shape, positions: positions, values: w, biases: b,
                                        momentPolicy: ls.momentPolicy, convolution: ls.convolution))
        }
    }

    /// A network from explicit layers (deserialisation, conversions). Shapes must match the spec.
    public init(spec: MLPSpec, layers: [any Layer]) {
        precondition(layers.count == spec.layers.count)
        precondition(layers.map(\.shape) == spec.shapes, "layer shapes differ from the spec's")
        self.spec = spec
        plan = try! spec.plan()
        self.layers = layers
    }

    /// The layer of one spec entry: its backend's storage, fully connected or a convolution.
    static func makeLayer(backend: LayerBackend, shape: LayerShape, positions: [Position], values: [Float],
                          biases: [Float], momentPolicy: MomentPolicy, convolution: ConvGeometry? = nil) -> any Layer {
        if let g = convolution {
            switch backend {
            case .sparse:
                return SparseConv2D(geometry: g, positions: positions, values: values, biases: biases)
            case .masked:
                var w = [Float](repeating: 0, count: g.weightCount), m = w
                for (k, p) in positions.enumerated() { w[Int(p)] = values[k]; m[Int(p)] = 1 }
                return DenseConv2D(geometry: g, weights: w, biases: biases, mask: m, momentPolicy: momentPolicy)
            case .dense:
                precondition(positions.count == g.weightCount, "a dense convolution needs every tap")
                return DenseConv2D(geometry: g, weights: values, biases: biases)
            }
        }
        switch backend {
        case .sparse:
            return SparseLayer(shape: shape, positions: positions, values: values, biases: biases)
        case .masked:
            return DenseLayer(shape: shape, positions: positions, liveValues: values, biases: biases, momentPolicy: momentPolicy)
        case .dense:
            precondition(positions.count == shape.fanIn * shape.fanOut, "a dense layer needs every connection")
            return DenseLayer(shape: shape, weights: values, biases: biases)
        }
    }

    public var inputWidth: Int { spec.widths[0] }
    public var outputWidth: Int { spec.widths[spec.widths.count - 1] }

    /// The workspace for a batch size (created on first use, then reused).
    public func workspace(batch: Int) -> Workspace {
        if let ws = workspaces[batch] { return ws }
        let ws = plan.map { Workspace(plan: $0, batch: batch) } ?? Workspace(widths: spec.widths, batch: batch)
        workspaces[batch] = ws
        return ws
    }

    func activation(ofLayer l: Int) -> Activation { l == layers.count - 1 ? spec.outputActivation : spec.activation }

    /// Forward pass: reads `ws.input`, writes every layer's output; the result is `ws.output`.
    public func forward(_ ws: Workspace) {
        Subnormals.flushed {
            if let graph = ws.graph { return graphForward(ws, graph) }
            for (l, layer) in layers.enumerated() {
                layer.forward(ws.activations[l].pointer, batch: ws.batch, into: ws.activations[l + 1].pointer,
                              activation: activation(ofLayer: l))
            }
        }
    }

    /// Backward pass from `ws.outputGradient` (∂L/∂output) after a `forward` on the same workspace.
    /// - parameterGradients: overwrite every weight and bias gradient.
    /// - inputGradient: also compute ∂L/∂input into `ws.inputGradient` (needed to differentiate a critic with
    ///   respect to its action input).
    /// The activation derivative of each hidden layer is fused into the next layer's input-gradient product.
    /// - inputRows: with `inputGradient`, the input features whose gradient is wanted (default: all); the rest of
    ///   `ws.inputGradient` is left as it was.
    public func backward(_ ws: Workspace, parameterGradients: Bool = true, inputGradient: Bool = false,
                         inputRows: Range<Int>? = nil) {
        Subnormals.flushed {
            if let graph = ws.graph {
                precondition(inputRows == nil, "a graph network computes the whole input gradient or none")
                return graphBackward(ws, graph, parameterGradients: parameterGradients, inputGradient: inputGradient)
            }
            backwardPass(ws, parameterGradients: parameterGradients, inputGradient: inputGradient, inputRows: inputRows)
        }
    }

    private func backwardPass(_ ws: Workspace, parameterGradients: Bool, inputGradient: Bool, inputRows: Range<Int>?) {
        let B = ws.batch, L = layers.count
        let top = ws.outputPreActivationGradient
        spec.outputActivation.backward(ws.outputGradient.pointer, output: ws.output.pointer, count: outputWidth * B,
                                       into: top.pointer)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[l]
            let dZ = ws.preActivationGradient(l)
            if parameterGradients {
                layer.computeGradients(outputGradient: dZ.pointer, input: ws.activations[l].pointer, batch: B)
            }
            if l > 0 || inputGradient {
                layer.inputGradient(outputGradient: dZ.pointer, batch: B, into: ws.gradients[l].pointer,
                                    inputActivation: l > 0 ? activation(ofLayer: l - 1) : .identity,
                                    input: ws.activations[l].pointer,
                                    rows: l > 0 ? 0..<layer.inputWidth : (inputRows ?? 0..<layer.inputWidth))
            }
        }
    }

    /// A compact workspace holding only the samples `columns` of `ws` (after a `forward` on `ws`): every layer's
    /// activations are gathered, in order, into a batch of `columns.count`. A backward pass there costs in proportion
    /// to the samples that carry gradient — SAC's actor step differentiates min(Q₁, Q₂), and each sample's
    /// gradient flows through one critic only. The scratch is reused: it is valid until the next `gather`.
    public func gather(_ ws: Workspace, columns: UnsafeBufferPointer<Int32>) -> Workspace {
        let n = columns.count, B = ws.batch
        precondition(n >= 1 && n <= B, "gather needs 1…\(B) columns, got \(n)")
        precondition(plan == nil, "gather is for chain networks (SAC's critics)")
        if gathered == nil || gathered!.capacity < n { gathered = Workspace(widths: spec.widths, batch: B) }
        let sub = gathered!
        sub.batch = n
        for (l, width) in spec.widths.enumerated() {
            let src = ws.activations[l].pointer, dst = sub.activations[l].pointer
            for f in 0..<width {
                let row = src + f * B, out = dst + f * n
                for (i, c) in columns.enumerated() { out[i] = row[Int(c)] }
            }
        }
        return sub
    }

    /// RigL's grow score for layer l: the dense gradient dZ·xᵀ of the last backward pass on `ws` (allocates; call at
    /// topology-update steps only).
    public func denseWeightGradient(layer l: Int, _ ws: Workspace) -> [Float] {
        layers[l].denseWeightGradient(outputGradient: ws.preActivationGradient(l).pointer,
                                      input: ws.layerInput(l).pointer, batch: ws.batch)
    }

    /// Convenience (allocates): forward of a feature-major batch, returns the feature-major output.
    public func predict(_ input: [Float], batch: Int) -> [Float] {
        precondition(input.count == inputWidth * batch)
        let ws = workspace(batch: batch)
        ws.input.copy(from: input)
        forward(ws)
        return ws.output.array
    }

    /// Every trainable tensor, weights and biases interleaved layer by layer.
    public var parameters: [ParameterTensor] { layers.flatMap { [$0.weight, $0.bias] } }

    public func zeroGradients() { for p in parameters { p.zeroGradients() } }
}

extension MLPSpec {
    /// This spec with each layer's backend and density taken from `layers` (initialisation kept).
    public func withBackends(of layers: [any Layer]) -> MLPSpec {
        MLPSpec(widths: widths, activation: activation, outputActivation: outputActivation,
                layers: zip(self.layers, layers).map { ls, layer in
                    LayerSpec(backend: layer.backend, density: max(layer.density, 1e-9), initialization: ls.initialization,
                              topology: ls.topology, convolution: ls.convolution)
                }, graph: graph)
    }
}

extension MLP {
    /// A copy for acting only (no optimizer state), with masked layers stored truly sparse: what policy files hold.
    /// It computes the same outputs.
    public func trulySparse() -> MLP {
        let copies: [any Layer] = zip(layers, spec.layers).map { layer, ls in
            switch layer.backend {
            case .dense:
                return MLP.makeLayer(backend: .dense, shape: layer.shape, positions: layer.positions,
                                     values: layer.weight.values, biases: layer.bias.values, momentPolicy: .masked,
                                     convolution: ls.convolution)
            case .sparse, .masked:
                return MLP.makeLayer(backend: .sparse, shape: layer.shape, positions: layer.positions,
                                     values: layer.liveWeights, biases: layer.bias.values, momentPolicy: .masked,
                                     convolution: ls.convolution)
            }
        }
        return MLP(spec: spec.withBackends(of: copies), layers: copies)
    }
}
