extension MLP {
    /// Live connections of the first layer from each input feature (ANF's per-feature counts): how much of the
    /// network an input still reaches. A dense first layer gives every feature its full fan-out.
    public var inputConnections: [Int] {
        let first = layers[0], fanIn = first.shape.fanIn
        if first.liveConnections == fanIn * first.shape.fanOut { return [Int](repeating: first.shape.fanOut, count: fanIn) }
        return liveFans(shape: first.shape, positions: first.positions).fanOut
    }

    /// Mean of `inputConnections` over the input features in `features` (nil when there are none).
    public func meanInputConnections<Features: Collection>(_ features: Features) -> Double? where Features.Element == Int {
        guard !features.isEmpty else { return nil }
        let counts = inputConnections
        return Double(features.reduce(0) { $0 + counts[$1] }) / Double(features.count)
    }
}
