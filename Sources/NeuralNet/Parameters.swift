import SparrowCore
/// How Adam treats the moments of absent connections in a masked-dense layer.
public enum MomentPolicy: String, Codable, Sendable, CaseIterable, NamedChoice {
    /// TowS / ANF `MaskAdam`: every step the gradient and both moments are zeroed at absent positions before
    /// the update, so an absent connection has no optimizer state and a grown one starts from zero moments.
    /// Equivalent to the truly sparse backend.
    case masked
    /// DS-TD3's code (reference a1 "New-weight value"): plain Adam on the whole dense matrix, so absent positions
    /// keep accumulating moments from their dense gradients; the weights are re-masked after each step.
    case unmasked
}

/// One trainable tensor with its gradient and its Adam state, stored side by side so a topology update can
/// keep, drop or create the optimizer state of a connection together with its value.
///
/// For a truly sparse layer the arrays hold live connections only (CSR order = ascending `Position`); for a dense
/// or masked layer they hold the full fanOut × fanIn matrix, row-major.
public final class ParameterTensor {
    public internal(set) var values: [Float]
    /// Gradient of the last backward pass (overwritten, not accumulated, by each backward pass).
    public var gradients: [Float]
    public internal(set) var firstMoment: [Float]
    public internal(set) var secondMoment: [Float]
    /// Adam steps taken by this tensor; bias correction uses it (see `Adam`).
    public internal(set) var step: Int
    /// 1 at live positions, 0 at absent ones (masked-dense backend only).
    public internal(set) var mask: [Float]? { didSet { cachedMaskCount = nil } }  // no oldValue: edits stay in place
    private var cachedMaskCount: Int?

    /// Sets the mask together with its known non-zero count (saves the recount after a target update).
    func setMask(_ newMask: [Float], liveCount: Int) {
        mask = newMask
        cachedMaskCount = liveCount
    }

    /// Non-zero mask entries (live connections of a masked layer), counted once per mask change: accounting reads
    /// it several times every update.
    var maskCount: Int? {
        guard let mask else { return nil }
        if let c = cachedMaskCount { return c }
        let c = mask.withUnsafeBufferPointer { m in (0..<m.count).reduce(0) { $0 + (m[$1] != 0 ? 1 : 0) } }
        cachedMaskCount = c
        return c
    }
    public internal(set) var momentPolicy: MomentPolicy

    public init(values: [Float], mask: [Float]? = nil, momentPolicy: MomentPolicy = .masked) {
        precondition(mask == nil || mask!.count == values.count)
        self.values = values
        gradients = [Float](repeating: 0, count: values.count)
        firstMoment = [Float](repeating: 0, count: values.count)
        secondMoment = [Float](repeating: 0, count: values.count)
        step = 0
        self.mask = mask
        self.momentPolicy = momentPolicy
    }

    public var count: Int { values.count }

    /// Replaces the values (same count); optimizer state is untouched.
    public func setValues(_ newValues: [Float]) {
        precondition(newValues.count == values.count, "expected \(values.count) values, got \(newValues.count)")
        values = newValues
    }

    /// Zero moments and, if their count changed, zero gradients for the current values (no mask): the contents
    /// `replace(values: values, firstMoment: zeros, secondMoment: zeros, mask: nil)` leaves, written into the
    /// existing storage (a target layer whose support changed, on most updates of a run that evolves a topology).
    func zeroMoments() {
        let n = values.count
        firstMoment.resize(to: n)
        firstMoment.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        secondMoment.resize(to: n)
        secondMoment.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        mask = nil
        if gradients.count != n {
            gradients.resize(to: n)
            gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
    }

    /// Replaces everything at once (used by topology updates, serialisation and target copies).
    func replace(values: [Float], firstMoment: [Float], secondMoment: [Float], mask: [Float]?) {
        precondition(firstMoment.count == values.count && secondMoment.count == values.count)
        self.values = values
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.mask = mask
        if gradients.count != values.count { gradients = [Float](repeating: 0, count: values.count) }
    }

    func restoreState(step: Int, momentPolicy: MomentPolicy) {
        self.step = step
        self.momentPolicy = momentPolicy
    }

    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
