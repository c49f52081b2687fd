// Networks whose weight layers are not one chain: residual connections, pooling and activations between layers,
// as the Impala network of rigl/rl's `dqn_agents.py` needs. The weight layers stay `MLP.layers` (so ERK, topology
// updates, Adam, archives and FLOPs see them as before); the graph only says how values flow between them.
//
// A graph is a program of ops over a "current value" with a stack of saved values for skip connections:
//
//     layer(0, .identity)  maxPool(…)  saveSkip  activation(.relu)  layer(1, .identity)  activation(.relu)
//     layer(2, .identity)  addSkip  …
//
// reads as conv → pool → x + conv(relu(conv(relu(x)))) → …, the `_Stack.call` of dqn_agents.py written out.
// Every op except `saveSkip` makes a new value (its own buffer in a workspace), so the backward pass has every
// forward value at hand; a value read twice (a block input: by the residual branch and by the skip) gets the sum
// of both gradients, in a fixed order (the later reader's first), so results are the same on every run.

/// 2-D max pooling with TF's "SAME" padding (Keras `MaxPool2D(pool_size, strides, padding='same')`): ⌈H / stride⌉
/// outputs per axis, padded positions never win (TF pads with −∞), the padding split as `ConvGeometry.same` does.
/// Same layout as the convolutions: [C][H][W][batch].
public struct PoolGeometry: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var channels: Int, height: Int, width: Int
    public var window: Int, stride: Int
    /// Padding before (top, left); the rest of TF's total padding goes after.
    public var padding: Int
    public var outputHeight: Int, outputWidth: Int

    public static func same(channels: Int, height: Int, width: Int, window: Int, stride: Int) -> PoolGeometry {
        precondition(channels > 0 && height > 0 && width > 0 && window > 0 && stride > 0,
                     "a pooling needs positive channels, size, window and stride")
        precondition(height == width, "SAME pooling here is for square maps, got \(height)×\(width)")
        let out = (height + stride - 1) / stride
        let total = max((out - 1) * stride + window - height, 0)
        return PoolGeometry(channels: channels, height: height, width: width, window: window, stride: stride,
                            padding: total / 2, outputHeight: out, outputWidth: out)
    }

    public var inputCount: Int { channels * height * width }
    public var outputCount: Int { channels * outputHeight * outputWidth }
    /// Padding after (bottom, right): the rest of TF's total padding (max((out − 1)·stride + window − H, 0)).
    public var trailingPadding: Int { max((outputHeight - 1) * stride + window - height, 0) - padding }

    public var description: String {
        "max-pool \(window)×\(window)/\(stride) \(channels)×\(height)×\(width) → \(channels)×\(outputHeight)×\(outputWidth)"
    }
}

/// The data flow of a network that is not a chain of layers (see the top of this file).
public struct NetworkGraph: Codable, Equatable, Sendable {
    public enum Op: Codable, Equatable, Sendable {
        /// Weight layer `l` of the network (`MLP.layers[l]`) on the current value, `activation` fused.
        case layer(Int, Activation)
        /// An activation on its own (ReLU before a residual convolution, whose input also feeds the skip).
        case activation(Activation)
        case maxPool(PoolGeometry)
        /// Saves the current value for the next `addSkip` (a stack: blocks may nest).
        case saveSkip
        /// The current value plus the value the matching `saveSkip` saved.
        case addSkip
    }

    public var ops: [Op]

    public init(ops: [Op]) { self.ops = ops }
}

/// Why a graph does not fit its layers.
public struct NetworkGraphError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ d: String) { description = d }
}

/// A graph compiled against the widths of its layers: one value per op output, and where each layer reads and
/// writes. Value 0 is the network input, the last value its output.
struct GraphPlan: Equatable {
    enum Step: Equatable {
        case layer(Int, Activation, input: Int, output: Int)
        case activation(Activation, input: Int, output: Int)
        case maxPool(PoolGeometry, input: Int, output: Int)
        case add(Int, Int, output: Int)
    }

    var steps: [Step] = []
    /// Features per sample of each value.
    var widths: [Int]
    /// The value each weight layer reads and the one it writes.
    var layerInput: [Int], layerOutput: [Int]
    /// The activation fused into each weight layer.
    var layerActivation: [Activation]

    /// `layerWidths[l]` = (features in, features out) of layer l; a fixed input (a convolution's) is checked against
    /// the value the graph feeds the layer, a nil one (fully connected) takes that value's width. Throws when an op's
    /// input does not fit, a layer is used other than exactly once, a skip is left open, or the output is not
    /// `outputWidth` wide.
    init(_ graph: NetworkGraph, inputWidth: Int, layerWidths: [(input: Int?, output: Int)], outputWidth: Int) throws {
        widths = [inputWidth]
        layerInput = Array(repeating: -1, count: layerWidths.count)
        layerOutput = layerInput
        layerActivation = Array(repeating: .identity, count: layerWidths.count)
        var current = 0, saved: [Int] = []
        func add(width: Int) -> Int { widths.append(width); return widths.count - 1 }
        for (i, op) in graph.ops.enumerated() {
            switch op {
            case .layer(let l, let f):
                guard layerWidths.indices.contains(l) else { throw NetworkGraphError("op \(i): no layer \(l) (the network has \(layerWidths.count))") }
                guard layerInput[l] < 0 else { throw NetworkGraphError("op \(i): layer \(l) is used twice") }
                if let fixed = layerWidths[l].input, fixed != widths[current] {
                    throw NetworkGraphError("op \(i): layer \(l) reads \(fixed) features, the graph gives it \(widths[current])")
                }
                let out = add(width: layerWidths[l].output)
                steps.append(.layer(l, f, input: current, output: out))
                layerInput[l] = current; layerOutput[l] = out; layerActivation[l] = f
                current = out
            case .activation(let f):
                let out = add(width: widths[current])
                steps.append(.activation(f, input: current, output: out))
                current = out
            case .maxPool(let g):
                guard g.inputCount == widths[current] else {
                    throw NetworkGraphError("op \(i): \(g) reads \(g.inputCount) features, the graph gives it \(widths[current])")
                }
                let out = add(width: g.outputCount)
                steps.append(.maxPool(g, input: current, output: out))
                current = out
            case .saveSkip:
                saved.append(current)
            case .addSkip:
                guard let skip = saved.popLast() else { throw NetworkGraphError("op \(i): addSkip without a saveSkip") }
                guard widths[skip] == widths[current] else {
                    throw NetworkGraphError("op \(i): adds \(widths[current]) features to a skip of \(widths[skip])")
                }
                let out = add(width: widths[current])
                steps.append(.add(current, skip, output: out))
                current = out
            }
        }
        guard saved.isEmpty else { throw NetworkGraphError("\(saved.count) saveSkip without an addSkip") }
        if let unused = layerInput.firstIndex(of: -1) { throw NetworkGraphError("layer \(unused) is not in the graph") }
        guard current == widths.count - 1, widths[current] == outputWidth else {
            throw NetworkGraphError("the graph ends in \(widths[current]) features, the network outputs \(outputWidth)")
        }
    }
}

// MARK: - max pooling (plain loops: the batch is the contiguous axis, which the compiler vectorises)

/// y[c, oh, ow, :] = max over the window's taps inside the input; `argmax` gets, per output, the input feature
/// (c·H + h)·W + w that won for each sample — the first of equal maxima in scan order (row by row), as PyTorch's
/// `max_pool2d` and TF's CPU `MaxPoolGrad` route gradients.
func maxPoolForward(_ g: PoolGeometry, _ x: UnsafePointer<Float>, batch B: Int, into y: UnsafeMutablePointer<Float>,
                    argmax: UnsafeMutablePointer<Int32>) {
    let H = g.height, W = g.width
    for c in 0..<g.channels {
        for oh in 0..<g.outputHeight {
            let h0 = max(oh * g.stride - g.padding, 0), h1 = min(oh * g.stride - g.padding + g.window, H)
            for ow in 0..<g.outputWidth {
                let w0 = max(ow * g.stride - g.padding, 0), w1 = min(ow * g.stride - g.padding + g.window, W)
                let o = ((c * g.outputHeight + oh) * g.outputWidth + ow) * B
                let first = (c * H + h0) * W + w0
                for b in 0..<B { y[o + b] = x[first * B + b]; argmax[o + b] = Int32(first) }
                for h in h0..<h1 {
                    for w in w0..<w1 where h != h0 || w != w0 {
                        let f = (c * H + h) * W + w
                        let xf = x + f * B
                        for b in 0..<B where xf[b] > y[o + b] { y[o + b] = xf[b]; argmax[o + b] = Int32(f) }
                    }
                }
            }
        }
    }
}

/// dx = the output gradient routed to each output's winning input (`argmax` of the forward pass); dx is overwritten.
func maxPoolBackward(_ g: PoolGeometry, _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, batch B: Int,
                     into dx: UnsafeMutablePointer<Float>) {
    dx.update(repeating: 0, count: g.inputCount * B)
    for o in 0..<g.outputCount {
        for b in 0..<B {
            let k = o * B + b
            dx[Int(argmax[k]) * B + b] += dy[k]
        }
    }
}
