// Sparsity mathematics, part 1: how a sparse layer is addressed.
//
// Everything under `Sparsity/` is pure: functions of shapes, positions, values and an explicit `Generator`.
// The layers (the "how") call these functions (the "what") and never the other way round.

import SparrowCore

/// Flat index of a live connection: `row * fanIn + column` (row = output unit, column = input unit).
///
/// This is PyTorch's `nn.Linear.weight[out, in]` row-major order. Sorted positions therefore group a layer's
/// connections by output unit (CSR order). `Int32` holds layers up to 2³¹−1 weights; `LayerShape` checks this.
public typealias Position = Int32

/// The dense shape of a layer's weight matrix: `fanIn` inputs, `fanOut` outputs, `fanIn·fanOut` possible weights.
///
/// A convolution's kernel is such a matrix too (one row per output channel, one column per input channel and
/// kernel tap, see `ConvGeometry.kernelShape`); its `kernel` window says so, and what depends on the kernel's real
/// dimensions rather than the matrix — RigL's ERK probability and the Glorot and sparsity-aware fans — reads it.
public struct LayerShape: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var fanIn: Int
    public var fanOut: Int
    /// The kernel window of a convolution (then `fanIn` = C_in·KH·KW and `fanOut` = C_out); nil for a fully
    /// connected layer. Optional so that every shape saved before convolutions existed reads and writes as before.
    public var kernel: KernelWindow?

    /// A convolution kernel's window, KH × KW.
    public struct KernelWindow: Codable, Equatable, Hashable, Sendable {
        public var height: Int, width: Int
        public init(height: Int, width: Int) { self.height = height; self.width = width }
        public var taps: Int { height * width }
    }

    /// Number of possible connections (the dense weight count).
    public var count: Int { fanIn * fanOut }

    public init(fanIn: Int, fanOut: Int) {
        precondition(fanIn > 0 && fanOut > 0, "a layer needs fanIn > 0 and fanOut > 0, got \(fanIn)→\(fanOut)")
        precondition(fanIn.multipliedReportingOverflow(by: fanOut).partialValue <= Int(Int32.max),
                     "layer \(fanIn)→\(fanOut) has more weights than a Position (Int32) can index")
        self.fanIn = fanIn
        self.fanOut = fanOut
    }

    /// A convolution kernel's matrix: `outChannels` rows, `inChannels`·KH·KW columns (ordered (ci·KH + kh)·KW + kw).
    public init(inChannels: Int, outChannels: Int, kernel: KernelWindow) {
        precondition(kernel.height > 0 && kernel.width > 0, "a kernel window needs positive sides, got \(kernel.height)×\(kernel.width)")
        self.init(fanIn: inChannels * kernel.taps, fanOut: outChannels)
        self.kernel = kernel
    }

    /// Kernel taps per input channel (1 for a fully connected layer): consecutive columns of one input channel.
    public var receptiveField: Int { kernel?.taps ?? 1 }
    /// Input units (channels of a convolution) and output units (channels) — the fans of Glorot's and RigL's
    /// formulas, which count a conv kernel's fan-out as C_out·KH·KW.
    public var inputUnits: Int { fanIn / receptiveField }
    /// Glorot's / Keras' fan_out: fanOut·KH·KW for a convolution.
    public var kerasFanOut: Int { fanOut * receptiveField }
    /// The weight tensor's dimensions as TF stores them: [n_in, n_out], or [KH, KW, C_in, C_out] for a conv kernel.
    public var tensorDimensions: [Int] {
        guard let k = kernel else { return [fanIn, fanOut] }
        return [k.height, k.width, inputUnits, fanOut]
    }

    /// The position of the connection from input `column` to output `row`.
    @inline(__always) public func position(row: Int, column: Int) -> Position { Position(row * fanIn + column) }
    /// The output unit a position feeds.
    @inline(__always) public func row(of p: Position) -> Int { Int(p) / fanIn }
    /// The input unit a position reads.
    @inline(__always) public func column(of p: Position) -> Int { Int(p) % fanIn }

    public var description: String {
        guard let k = kernel else { return "\(fanIn)→\(fanOut)" }
        return "\(inputUnits)→\(fanOut)·\(k.height)×\(k.width)"
    }

    /// Shapes of an MLP with the given unit counts: `[17, 256, 256, 6]` → `17→256, 256→256, 256→6`.
    public static func mlp(_ units: [Int]) -> [LayerShape] {
        precondition(units.count >= 2, "an MLP needs at least an input and an output size")
        return (0..<(units.count - 1)).map { LayerShape(fanIn: units[$0], fanOut: units[$0 + 1]) }
    }
}

/// An impossible or malformed sparsity request; the message names the bad value and what would be valid.
public struct SparsityError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks that positions are strictly ascending and inside the layer (O(n)); used by preconditions.
public func sparsityPositionsAreValid(_ positions: [Position], in shape: LayerShape) -> Bool {
    var previous: Int64 = -1
    let limit = Int64(shape.count)
    for p in positions {
        let q = Int64(p)
        if q <= previous || q >= limit { return false }
        previous = q
    }
    return true
}
