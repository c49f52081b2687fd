/// Where a truly sparse layer's connections are: CSR by output row, for the forward product and the weight
/// gradient, plus a CSC view of the same connections for the transposed product (the input gradient).
///
/// Per connection it keeps three indices and nothing else: its column (CSR order), and its row and its place within
/// that row (CSC order; the CSR slot that holds its value is `rowPointer[row] + place`). They are 16-bit wherever a
/// layer's fans are at most 65 536 — every network the papers use — and 32-bit otherwise (`isWide`): 6 bytes a
/// connection, against 16 when the index held Int32 columns, rows, CSC → CSR slots and the ascending positions
/// beside them. Positions (row · fanIn + column) are derived from the CSR part on demand (`positions`,
/// `writePositions`). Only the row and column pointers are Int32 (they count connections). A convolution, whose
/// input gradient does not read the CSC view, builds the index without it (`transposedView: false`).
public struct SparseIndex: Equatable, Sendable {
    public let fanIn: Int, fanOut: Int
    /// Row r's connections are `rowPointer[r]..<rowPointer[r+1]` in CSR order (ascending position).
    public private(set) var rowPointer: [Int32]
    /// Column c's connections are `columnPointer[c]..<columnPointer[c+1]` in CSC order (ascending row); empty
    /// without the CSC view.
    public private(set) var columnPointer: [Int32]
    /// Whether the per-connection indices are 32-bit (a fan above 65 536) rather than 16-bit.
    public let isWide: Bool
    /// Whether the CSC view exists.
    public let hasTransposedView: Bool
    private var narrow = ConnectionIndices<UInt16>()
    private var wide = ConnectionIndices<Int32>()

    /// The largest fan 16-bit indices cover: columns, rows and places in a row all stay below it.
    public static let narrowFanLimit = Int(UInt16.max) + 1

    /// `positions` must be strictly ascending and inside the shape.
    public init(shape: LayerShape, positions: [Position], transposedView: Bool = true) {
        fanIn = shape.fanIn; fanOut = shape.fanOut
        isWide = max(fanIn, fanOut) > Self.narrowFanLimit
        hasTransposedView = transposedView
        rowPointer = [Int32](repeating: 0, count: fanOut + 1)
        columnPointer = [Int32](repeating: 0, count: transposedView ? fanIn + 1 : 0)
        rebuild(positions: positions)
    }

    public var count: Int { Int(rowPointer[fanOut]) }

    /// Two indices are equal when they hold the same connections (the CSR part decides; the CSC view follows from
    /// it). An index with the CSC view equals one without.
    public static func == (a: SparseIndex, b: SparseIndex) -> Bool {
        a.fanIn == b.fanIn && a.fanOut == b.fanOut && a.rowPointer == b.rowPointer
            && a.narrow.column == b.narrow.column && a.wide.column == b.wide.column
    }

    /// Makes this the index of `positions` (strictly ascending, inside the shape), written into this index's own
    /// storage (resized in place), so nothing is allocated once it has room: a target layer's support, which trails
    /// its online network's by a few swapped connections on most updates, rebuilds its index in place each time (the
    /// tests hold an index rebuilt over another's storage to a fresh one).
    mutating func rebuild(positions: [Position]) {
        positions.withUnsafeBufferPointer { rebuild(positions: $0) }
    }

    mutating func rebuild(positions: UnsafeBufferPointer<Position>) {
        let shape = (fanIn: fanIn, fanOut: fanOut), transposed = hasTransposedView
        if isWide {
            wide.rebuild(positions: positions, shape: shape, transposed: transposed, rowPointer: &rowPointer,
                         columnPointer: &columnPointer)
        } else {
            narrow.rebuild(positions: positions, shape: shape, transposed: transposed, rowPointer: &rowPointer,
                           columnPointer: &columnPointer)
        }
    }

    /// Column of the connection in CSR slot k.
    @inline(__always) public func column(_ k: Int) -> Int { isWide ? Int(wide.column[k]) : Int(narrow.column[k]) }

    /// Each connection's column, CSR order (a copy, as Int32: for tests, twins and exports).
    public var columnIndex: [Int32] { isWide ? wide.column : narrow.column.map { Int32($0) } }
    /// Each connection's row, CSC order (a copy).
    public var rowIndex: [Int32] { isWide ? wide.row : narrow.row.map { Int32($0) } }
    /// CSC slot → CSR slot (where its value lives), derived from the rows and places in a row (a copy).
    public var cscToCSR: [Int32] {
        let rows = rowIndex
        let places = isWide ? wide.offsetInRow : narrow.offsetInRow.map { Int32($0) }
        return zip(rows, places).map { rowPointer[Int($0)] + $1 }
    }

    /// The live positions, ascending (allocates; `writePositions` fills a buffer instead).
    public var positions: [Position] {
        [Position](unsafeUninitializedCapacity: count) { buffer, n in
            writePositions(into: buffer)
            n = count
        }
    }

    /// Writes the `count` positions, ascending, into `out` (which has room for them).
    func writePositions(into out: UnsafeMutableBufferPointer<Position>) {
        precondition(out.count >= count)
        forEachConnection { k, p in out[k] = Position(p) }
    }

    /// Writes `values[k]` at its position in a dense fanOut × fanIn row-major matrix (other entries untouched).
    func scatter(_ values: UnsafePointer<Float>, into dense: UnsafeMutablePointer<Float>) {
        forEachConnection { k, p in dense[p] = values[k] }
    }

    /// Reads each connection's entry of a dense fanOut × fanIn row-major matrix into `out[k]`.
    func gather(_ dense: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        forEachConnection { k, p in out[k] = dense[p] }
    }

    /// body(k, position) for every connection, in CSR order (k is its slot).
    @inline(__always) private func forEachConnection(_ body: (Int, Int) -> Void) {
        rowPointer.withUnsafeBufferPointer { rp in
            if isWide {
                wide.column.withUnsafeBufferPointer { Self.walk(rp, $0, fanIn, body) }
            } else {
                narrow.column.withUnsafeBufferPointer { Self.walk(rp, $0, fanIn, body) }
            }
        }
    }

    @inline(__always) private static func walk<I: FixedWidthInteger>(_ rp: UnsafeBufferPointer<Int32>,
                                                                    _ ci: UnsafeBufferPointer<I>, _ fanIn: Int,
                                                                    _ body: (Int, Int) -> Void) {
        for r in 0..<(rp.count - 1) {
            let base = r * fanIn
            for k in Int(rp[r])..<Int(rp[r + 1]) { body(k, base + Int(ci[k])) }
        }
    }

    /// Bytes this index keeps: the Int32 pointers and the per-connection indices.
    public var storageBytes: Int {
        (rowPointer.count + columnPointer.count) * MemoryLayout<Int32>.stride
            + (isWide ? wide.storageBytes : narrow.storageBytes)
    }

    /// The CSR arrays as the kernels take them (`sk_spmm`, `sk_sddmm`): row pointers, columns, and the width flag
    /// (0: 16-bit, 1: 32-bit).
    public func withCSR<R>(_ body: (_ pointers: UnsafePointer<Int32>, _ columns: UnsafeRawPointer?, _ wide: Int32) -> R) -> R {
        rowPointer.withUnsafeBufferPointer { rp in
            isWide ? wide.column.withUnsafeBytes { body(rp.baseAddress!, $0.baseAddress, 1) }
                : narrow.column.withUnsafeBytes { body(rp.baseAddress!, $0.baseAddress, 0) }
        }
    }

    /// The values of CSC slots `slots` in CSC order: out[k − slots.lowerBound] = values[rowPointer[row[k]] +
    /// place[k]], so the transposed product (`withCSC`) reads them in sequence.
    func gatherTransposed(_ values: UnsafePointer<Float>, slots: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(hasTransposedView, "this index was built without its CSC view")
        rowPointer.withUnsafeBufferPointer { rp in
            if isWide {
                wide.gatherTransposed(values, rowPointer: rp.baseAddress!, slots: slots, into: out)
            } else {
                narrow.gatherTransposed(values, rowPointer: rp.baseAddress!, slots: slots, into: out)
            }
        }
    }

    /// The CSC view as `sk_spmm` takes it for the transposed product (with the values in CSC order from
    /// `gatherTransposed`): column pointers, rows, and the width flag.
    public func withCSC<R>(_ body: (_ pointers: UnsafePointer<Int32>, _ rows: UnsafeRawPointer?, _ wide: Int32) -> R) -> R {
        precondition(hasTransposedView, "this index was built without its CSC view")
        return columnPointer.withUnsafeBufferPointer { cp in
            isWide ? wide.row.withUnsafeBytes { body(cp.baseAddress!, $0.baseAddress, 1) }
                : narrow.row.withUnsafeBytes { body(cp.baseAddress!, $0.baseAddress, 0) }
        }
    }
}

/// A `SparseIndex`'s per-connection indices at one width.
struct ConnectionIndices<I: FixedWidthInteger & Sendable>: Equatable, Sendable {
    /// Each connection's column, CSR order.
    var column: [I] = []
    /// Each connection's row, CSC order.
    var row: [I] = []
    /// Each connection's place within its row, CSC order.
    var offsetInRow: [I] = []

    var storageBytes: Int { (column.count + row.count + offsetInRow.count) * MemoryLayout<I>.stride }

    func gatherTransposed(_ values: UnsafePointer<Float>, rowPointer rp: UnsafePointer<Int32>, slots: Range<Int>,
                into out: UnsafeMutablePointer<Float>) {
        row.withUnsafeBufferPointer { ri in
            offsetInRow.withUnsafeBufferPointer { place in
                let o = out - slots.lowerBound
                for k in slots { o[k] = values[Int(rp[Int(ri[k])]) + Int(place[k])] }
            }
        }
    }

    /// Rows are walked, not divided out, and the column pointers serve as the CSC cursors, then are shifted back.
    mutating func rebuild(positions pos: UnsafeBufferPointer<Position>, shape: (fanIn: Int, fanOut: Int),
                          transposed: Bool, rowPointer: inout [Int32], columnPointer: inout [Int32]) {
        let nnz = pos.count, fanIn = shape.fanIn, fanOut = shape.fanOut
        column.resize(to: nnz)
        row.resize(to: transposed ? nnz : 0)
        offsetInRow.resize(to: transposed ? nnz : 0)
        rowPointer.withUnsafeMutableBufferPointer { rp in
            column.withUnsafeMutableBufferPointer { ci in
                rp.update(repeating: 0)
                var previous = -1, r = 0, rowStart = 0
                for k in 0..<nnz {
                    let pi = Int(pos[k])
                    precondition(pi > previous && pi < fanIn * fanOut,
                                 "positions must be ascending, unique and below \(fanIn * fanOut) (got \(pi) after \(previous))")
                    previous = pi
                    while pi >= rowStart + fanIn { r += 1; rowStart += fanIn }
                    rp[r + 1] += 1
                    ci[k] = I(truncatingIfNeeded: pi - rowStart)
                }
                for r in 0..<fanOut { rp[r + 1] += rp[r] }
            }
        }
        guard transposed else { return }
        rowPointer.withUnsafeBufferPointer { rp in
            columnPointer.withUnsafeMutableBufferPointer { cp in
                column.withUnsafeBufferPointer { ci in
                    row.withUnsafeMutableBufferPointer { ri in
                        offsetInRow.withUnsafeMutableBufferPointer { place in
                            cp.update(repeating: 0)
                            for k in 0..<nnz { cp[Int(ci[k]) + 1] += 1 }
                            for c in 0..<fanIn { cp[c + 1] += cp[c] }
                            // cp[c] is column c's next free slot; afterwards it is column c + 1's start.
                            for r in 0..<fanOut {
                                let start = Int(rp[r])
                                for k in start..<Int(rp[r + 1]) {
                                    let c = Int(ci[k])
                                    let slot = Int(cp[c])
                                    ri[slot] = I(truncatingIfNeeded: r)
                                    place[slot] = I(truncatingIfNeeded: k - start)
                                    cp[c] += 1
                                }
                            }
                            var c = fanIn
                            while c > 0 { cp[c] = cp[c - 1]; c -= 1 }
                            cp[0] = 0
                        }
                    }
                }
            }
        }
    }
}
