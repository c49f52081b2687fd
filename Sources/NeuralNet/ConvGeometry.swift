// The shape of a 2-D convolution layer and what it costs: output size, fans, FLOPs per live weight, and the fan
// count RigL's Erdős–Rényi-Kernel distribution gives a conv kernel. Pure values and functions, like `Sparsity/`.
//
// Layout (shared by `SparseConv2D`, `DenseConv2D`, the C kernels in CKernels/conv.c and the twins in
// `ReferenceConv`): activations are feature-major batches as everywhere in NeuralNet, with the feature index
// f = (c·H + h)·W + w, i.e. `x[((c * H + h) * W + w) * batch + b]` ([C][H][W][batch]). A conv output flattened this
// way is PyTorch's NCHW flatten order and directly the input of a fully connected layer. Kernel weights are
// PyTorch's OIHW order flattened: the kernel is an outChannels × (inChannels·KH·KW) matrix whose column is
// (ci·KH + kh)·KW + kw, so a live tap's `Position` is `co · fanIn + column` in `kernelShape`.

/// One 2-D convolution (cross-correlation, as PyTorch `Conv2d` / TF `conv2d`): `inChannels` × `height` × `width`
/// in, `outChannels` × `outputHeight` × `outputWidth` out, a `kernelHeight` × `kernelWidth` kernel moved by
/// `stride` along both axes over the input with `padding` zeros before (top, left) and `trailingPadding` after
/// (bottom, right) — equal unless TF's "SAME" padding needs one more at the end (`same(...)`).
public struct ConvGeometry: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var inChannels: Int, height: Int, width: Int
    public var outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var stride: Int, padding: Int
    /// Zeros after the input (bottom rows, right columns).
    public var trailingPadding: Int

    public init(inChannels: Int, height: Int, width: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, padding: Int = 0, trailingPadding: Int? = nil) {
        let trailingPadding = trailingPadding ?? padding
        precondition(inChannels > 0 && height > 0 && width > 0 && outChannels > 0,
                     "a convolution needs positive channels and input size, got \(inChannels)×\(height)×\(width) → \(outChannels)")
        precondition(kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0 && trailingPadding >= 0,
                     "kernel \(kernelHeight)×\(kernelWidth), stride \(stride), padding \(padding)/\(trailingPadding) are not a valid convolution")
        let pad = padding + trailingPadding
        precondition(height + pad >= kernelHeight && width + pad >= kernelWidth,
                     "kernel \(kernelHeight)×\(kernelWidth) is larger than the padded input \(height + pad)×\(width + pad)")
        self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.padding = padding; self.trailingPadding = trailingPadding
    }

    /// TF's `padding='SAME'` (Keras Conv2D, Dopamine's and rigl/rl's Nature CNN and Impala stacks): ⌈H / stride⌉
    /// outputs per axis; the total padding max((out − 1)·stride + K − H, 0) is split with the smaller half before
    /// (`pad_top = total // 2`), so an odd total puts the extra zero at the bottom/right. Square inputs and kernels.
    public static func same(inChannels: Int, size: Int, outChannels: Int, kernel: Int, stride: Int = 1) -> ConvGeometry {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - size, 0)
        return ConvGeometry(inChannels: inChannels, height: size, width: size, outChannels: outChannels,
                            kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: total / 2,
                            trailingPadding: total - total / 2)
    }

    /// A square kernel.
    public init(inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0) {
        self.init(inChannels: inChannels, height: height, width: width, outChannels: outChannels, kernelHeight: kernel,
                  kernelWidth: kernel, stride: stride, padding: padding)
    }

    public var paddedHeight: Int { height + padding + trailingPadding }
    public var paddedWidth: Int { width + padding + trailingPadding }
    /// Whether the input is padded at all (the layers then pad into scratch).
    public var isPadded: Bool { padding > 0 || trailingPadding > 0 }
    /// ⌊(H + 2·pad − KH) / stride⌋ + 1, as PyTorch (dilation 1).
    public var outputHeight: Int { (paddedHeight - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (paddedWidth - kernelWidth) / stride + 1 }
    /// Output positions per channel, OH·OW: how often each live weight is used per sample.
    public var outputPositions: Int { outputHeight * outputWidth }

    /// Features per sample in (C_in·H·W) and out (C_out·OH·OW).
    public var inputCount: Int { inChannels * height * width }
    public var outputCount: Int { outChannels * outputPositions }

    /// Connections into one output value, C_in·KH·KW (PyTorch's fan_in of a conv weight).
    public var fanIn: Int { inChannels * kernelHeight * kernelWidth }
    /// PyTorch's fan_out of a conv weight, C_out·KH·KW (Glorot/Xavier bounds use it).
    public var fanOut: Int { outChannels * kernelHeight * kernelWidth }
    /// The kernel as a matrix: one row per output channel, one column per (ci, kh, kw). Live taps are positions
    /// in it (`row · fanIn + column`), so topologies, ERK counts and initialisers written for dense layers apply.
    public var kernelShape: LayerShape {
        LayerShape(inChannels: inChannels, outChannels: outChannels,
                   kernel: LayerShape.KernelWindow(height: kernelHeight, width: kernelWidth))
    }
    /// Dense kernel weights, C_out·C_in·KH·KW.
    public var weightCount: Int { outChannels * fanIn }
    /// The kernel's dimensions as TF stores them ([KH, KW, C_in, C_out]): what RigL's ERK sums and multiplies.
    public var kernelDimensions: [Int] { [kernelHeight, kernelWidth, inChannels, outChannels] }

    /// Multiply-adds per live weight per sample: every live weight is applied once at each output position.
    public var multiplyAddsPerLiveWeight: Int { outputPositions }
    /// Forward FLOPs (RigL's count, `LayerCost`): 2 per live weight per output position per sample, bias adds
    /// included. The input gradient and the weight gradient cost the same each.
    public func forwardFLOPs(liveWeights: Int, batch: Int) -> Double {
        2 * Double(liveWeights) * Double(outputPositions) * Double(batch)
    }

    /// RigL's Erdős–Rényi-Kernel raw keep-probability of this kernel (see `riglERKRawProbability`).
    public var erkRawProbability: Double { riglERKRawProbability(dimensions: kernelDimensions) }

    public var description: String {
        "\(inChannels)×\(height)×\(width) → \(outChannels)·\(kernelHeight)×\(kernelWidth)/\(stride)"
            + (padding > 0 || trailingPadding > 0
               ? " pad \(padding)" + (trailingPadding != padding ? "/\(trailingPadding)" : "") : "")
            + " → \(outChannels)×\(outputHeight)×\(outputWidth)"
    }

    /// The Nature CNN's three convolutions (Mnih et al. 2015) on `frames` stacked 84 × 84 frames: 32·8×8/4,
    /// 64·4×4/2, 64·3×3/1. `same` (the default) pads as Dopamine's and rigl/rl's `NatureDQNNetwork` do
    /// (`padding='same'`): 84 → 21 → 11 → 11, 7744 features into the dense layer (rigl/rl's `dense1: (7744, 512)`);
    /// without, as Mnih et al.'s and CleanRL's ("VALID"): 84 → 20 → 9 → 7, 3136 features.
    public static func natureCNN(frames: Int = 4, same: Bool = true) -> [ConvGeometry] {
        guard same else {
            return [ConvGeometry(inChannels: frames, height: 84, width: 84, outChannels: 32, kernel: 8, stride: 4),
                    ConvGeometry(inChannels: 32, height: 20, width: 20, outChannels: 64, kernel: 4, stride: 2),
                    ConvGeometry(inChannels: 64, height: 9, width: 9, outChannels: 64, kernel: 3, stride: 1)]
        }
        return [ConvGeometry.same(inChannels: frames, size: 84, outChannels: 32, kernel: 8, stride: 4),
                ConvGeometry.same(inChannels: 32, size: 21, outChannels: 64, kernel: 4, stride: 2),
                ConvGeometry.same(inChannels: 64, size: 11, outChannels: 64, kernel: 3, stride: 1)]
    }
}

/// RigL's Erdős–Rényi-Kernel raw keep-probability of a weight tensor with these dimensions: Σ dims / Π dims.
///
/// google-research/rigl, rigl/sparse_utils.py, `get_sparsities_erdos_renyi` with `include_kernel=True` (the
/// `erdos_renyi_kernel` method) and the default `erk_power_scale` 1:
///     raw_probabilities[mask.name] = (np.sum(shape_list) / np.prod(shape_list))**erk_power_scale
/// where `shape_list` is the TF kernel shape — [KH, KW, C_in, C_out] for a conv, so
/// p = (KH + KW + C_in + C_out) / (KH · KW · C_in · C_out); [n_in, n_out] for a dense layer, where it is the
/// Erdős–Rényi (n_in + n_out) / (n_in · n_out) that `layerDensities(.erdosRenyiKernel)` uses. The layer's density
/// is then ε·p with RigL's ε (the same solve for dense and conv layers).
public func riglERKRawProbability(dimensions: [Int]) -> Double {
    precondition(!dimensions.isEmpty && dimensions.allSatisfy { $0 > 0 }, "dimensions must be positive, got \(dimensions)")
    let sum = dimensions.reduce(0, +)
    let product = dimensions.reduce(1.0) { $0 * Double($1) }
    return Double(sum) / product
}
