

/// A box in Rⁿ, as Gymnasium's `Box`: a shape and per-component bounds (±infinity where unbounded).
public struct BoxSpace: Equatable, Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let low: [Double]
    public let high: [Double]

    public init(low: [Double], high: [Double]) {
        precondition(low.count == high.count)
        self.shape = [low.count]
        self.low = low
        self.high = high
    }

    public init(unboundedDimension n: Int) {
        self.init(low: Array(repeating: -.infinity, count: n), high: Array(repeating: .infinity, count: n))
    }

    /// Number of components.
    public var dimension: Int { low.count }

    public func contains(_ x: [Double]) -> Bool {
        x.count == dimension && zip(x, zip(low, high)).allSatisfy { $0 >= $1.0 && $0 <= $1.1 }
    }

    /// A uniformly random point (bounded boxes only; unbounded components draw from a standard normal).
    public func sample<G: RandomNumberGenerator>(using g: inout G) -> [Double] {
        (0..<dimension).map { i in
            if low[i].isFinite && high[i].isFinite { return Double.random(in: low[i]...high[i], using: &g) }
            return Double.random(in: -1...1, using: &g)
        }
    }

    public var description: String {
        let bounds = Set(low).count == 1 && Set(high).count == 1 ? "[\(low[0]), \(high[0])]" : "per-component bounds"
        return "Box(\(dimension), \(bounds))"
    }
}

/// What an environment's actions are: a box of continuous values (MuJoCo tasks) or one of n choices (Gymnasium's
/// `Discrete(n)`, classic control). Training loops ask for the kind their algorithm needs.
public enum ActionSpace: Equatable, Sendable, CustomStringConvertible {
    case box(BoxSpace)
    /// Actions 0..<n.
    case discrete(Int)

    /// The box of a continuous space, nil for a discrete one.
    public var box: BoxSpace? { if case .box(let b) = self { return b } else { return nil } }

    /// The number of choices of a discrete space, nil for a box.
    public var choices: Int? { if case .discrete(let n) = self { return n } else { return nil } }

    /// Components of one action as agents write it, replay buffers store it and `step` takes it: the box's
    /// dimension, or 1 for a discrete space (the action's index, as a number).
    public var componentCount: Int {
        switch self {
        case .box(let b): return b.dimension
        case .discrete: return 1
        }
    }

    /// A uniformly random action into `action` (`componentCount` values): in the box's bounds, or an index.
    public func sample(into action: UnsafeMutableBufferPointer<Float>, using g: inout Generator) {
        switch self {
        case .box(let b):
            for j in 0..<b.dimension { action[j] = Float(g.uniform(b.low[j], b.high[j])) }
        case .discrete(let n):
            action[0] = Float(g.nextInt(below: n))
        }
    }

    public var description: String {
        switch self {
        case .box(let b): return b.description
        case .discrete(let n): return "Discrete(\(n))"
        }
    }
}
