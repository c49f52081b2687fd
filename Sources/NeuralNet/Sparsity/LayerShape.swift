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

/// The dense shape of a fully connected layer: `fanIn` inputs, `fanOut` outputs, `fanIn·fanOut` possible weights.
public struct LayerShape: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var fanIn: Int
    public var fanOut: Int

    /// Number of possible connections (the dense weight count).
    public var count: Int { fanIn * fanOut }

    public init(fanIn: Int, fanOut: Int) {
        precondition(fanIn > 0 && fanOut > 0, "a layer needs fanIn > 0 and fanOut > 0, got \(fanIn)→\(fanOut)")
        precondition(fanIn.multipliedReportingOverflow(by: fanOut).partialValue <= Int(Int32.max),
                     "layer \(fanIn)→\(fanOut) has more weights than a Position (Int32) can index")
        self.fanIn = fanIn
        self.fanOut = fanOut
    }

    /// The position of the connection from input `column` to output `row`.
    @inline(__always) public func position(row: Int, column: Int) -> Position { Position(row * fanIn + column) }
    /// The output unit a position feeds.
    @inline(__always) public func row(of p: Position) -> Int { Int(p) / fanIn }
    /// The input unit a position reads.
    @inline(__always) public func column(of p: Position) -> Int { Int(p) % fanIn }

    public var description: String { "\(fanIn)→\(fanOut)" }

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
