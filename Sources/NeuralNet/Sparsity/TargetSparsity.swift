// Sparsity mathematics, part 6: target networks that stay as sparse as their online networks.

/// Sokar/ANF "maintain sparsity" soft update of one sparse weight matrix (SOK DS_TD3.py:218-241,
/// ANF anf_td3.py:401-423):
///
/// 1. `target ← τ·online + (1−τ)·target` on the union of both supports (absent = 0), in Float.
/// 2. Entries that are exactly 0 afterwards are absent (Sokar's dense tensors cannot tell them apart).
/// 3. If more than `nnz(online)` entries remain — `nnz` counts **non-zero values**, so a live online weight that is
///    exactly 0 does not count, as in `(param != 0).sum()` — keep only the `nnz(online)` largest |value|.
///
/// Ties: Sokar zeroes entries strictly below the `(difference)`-th smallest non-zero |value| (0-based), so entries
/// tied with that threshold all survive and it can keep a few more than `nnz(online)`. Here the count is exact:
/// among equal |value| the lower position is kept. Sokar's 1e7 sentinel for zeros only matters for |w| ≥ 1e7.
///
/// The result's positions are ascending and its topology may differ from the online one (targets trail the online
/// network's topology changes). Hard updates (τ = 1, Sokar DS-SAC) give exactly the online non-zeros.
public func softUpdateMaintainingSparsity(target: (positions: [Position], values: [Float]),
                                          online: (positions: [Position], values: [Float]),
                                          tau: Float) -> (positions: [Position], values: [Float]) {
    precondition(target.positions.count == target.values.count, "target positions and values differ in length")
    precondition(online.positions.count == online.values.count, "online positions and values differ in length")
    assert(sparsityPositionsAreAscending(target.positions) && sparsityPositionsAreAscending(online.positions),
           "positions must be strictly ascending")
    let keepTau = 1 - tau
    var positions = [Position](), values = [Float]()
    positions.reserveCapacity(max(target.positions.count, online.positions.count) + 16)
    values.reserveCapacity(positions.capacity)
    var t = 0, o = 0
    let nt = target.positions.count, no = online.positions.count
    var onlineNonZero = 0
    while t < nt || o < no {
        let p: Position
        let v: Float
        if o == no || (t < nt && target.positions[t] < online.positions[o]) {
            p = target.positions[t]
            v = keepTau * target.values[t]
            t += 1
        } else if t == nt || online.positions[o] < target.positions[t] {
            p = online.positions[o]
            v = tau * online.values[o]
            if online.values[o] != 0 { onlineNonZero += 1 }
            o += 1
        } else {
            p = online.positions[o]
            v = tau * online.values[o] + keepTau * target.values[t]
            if online.values[o] != 0 { onlineNonZero += 1 }
            t += 1
            o += 1
        }
        if v != 0 {
            positions.append(p)
            values.append(v)
        }
    }
    return pruneToLargest(positions: positions, values: values, count: onlineNonZero)
}

/// In-place form for the training loop: when the supports are equal and nothing needs pruning — the case on every
/// step between topology changes — it updates `targetValues` in place without allocating; otherwise it falls back
/// to `softUpdateMaintainingSparsity` and replaces both arrays. Returns whether the target topology changed.
@discardableResult
public func softUpdateMaintainingSparsity(targetPositions: inout [Position], targetValues: inout [Float],
                                          onlinePositions: [Position], onlineValues: [Float], tau: Float) -> Bool {
    precondition(targetPositions.count == targetValues.count, "target positions and values differ in length")
    precondition(onlinePositions.count == onlineValues.count, "online positions and values differ in length")
    if targetPositions == onlinePositions {
        let keepTau = 1 - tau
        var anyZero = false
        targetValues.withUnsafeMutableBufferPointer { tv in
            onlineValues.withUnsafeBufferPointer { ov in
                for i in 0..<tv.count {
                    let v = tau * ov[i] + keepTau * tv[i]
                    tv[i] = v
                    if v == 0 || ov[i] == 0 { anyZero = true }
                }
            }
        }
        // Without zeros, nnz(target) == nnz(online) == count: nothing to prune, support unchanged.
        if !anyZero { return false }
        // Rare: a zero appeared; finish steps 2–3 on the updated values.
        let onlineNonZero = onlineValues.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        let (p, v) = pruneToLargest(positions: targetPositions, values: targetValues, count: onlineNonZero)
        let changed = p != targetPositions
        targetPositions = p
        targetValues = v
        return changed
    }
    let result = softUpdateMaintainingSparsity(target: (targetPositions, targetValues),
                                               online: (onlinePositions, onlineValues), tau: tau)
    let changed = result.positions != targetPositions
    targetPositions = result.positions
    targetValues = result.values
    return changed
}

/// Removes exact zeros, then keeps the `count` largest |value| (lower position kept on ties), ascending.
///
/// Runs every training update once a target's support trails its online network's, so the `excess` entries to
/// drop (the smallest under (|v|, higher position first)) are found with a bounded max-heap, O(n log excess),
/// instead of sorting all n; `pruneToLargestBySorting` is the plain twin the tests compare it with.
func pruneToLargest(positions: [Position], values: [Float], count: Int) -> ([Position], [Float]) {
    var p = [Position](), v = [Float]()
    p.reserveCapacity(positions.count); v.reserveCapacity(positions.count)
    for i in 0..<positions.count where values[i] != 0 {
        p.append(positions[i])
        v.append(values[i])
    }
    let excess = p.count - count
    if excess <= 0 { return (p, v) }
    let heap = smallestMagnitudes(count: p.count, excess: excess) { v[$0] }
    var keep = [Bool](repeating: true, count: p.count)
    for i in heap { keep[i] = false }
    var kp = [Position](), kv = [Float]()
    kp.reserveCapacity(count); kv.reserveCapacity(count)
    for i in 0..<p.count where keep[i] {
        kp.append(p[i])
        kv.append(v[i])
    }
    return (kp, kv)
}

/// The `excess` indices in 0..<count that drop first: smallest |value|, and on equal |value| the higher index
/// first (so the lower position is kept). A bounded max-heap: O(count · log excess).
func smallestMagnitudes(count: Int, excess: Int, _ value: (Int) -> Float) -> [Int] {
    @inline(__always) func dropsBefore(_ a: Int, _ b: Int) -> Bool {
        let ma = abs(value(a)), mb = abs(value(b))
        return ma != mb ? ma < mb : a > b
    }
    // heap[0] is the chosen entry that would be dropped last.
    var heap = [Int]()
    heap.reserveCapacity(excess)
    for i in 0..<count {
        if heap.count < excess {
            heap.append(i)
            var c = heap.count - 1
            while c > 0 {
                let parent = (c - 1) / 2
                guard dropsBefore(heap[parent], heap[c]) else { break }
                heap.swapAt(parent, c)
                c = parent
            }
        } else if excess > 0 && dropsBefore(i, heap[0]) {
            heap[0] = i
            var j = 0
            while true {
                let l = 2 * j + 1, r = l + 1
                var top = j
                if l < heap.count && dropsBefore(heap[top], heap[l]) { top = l }
                if r < heap.count && dropsBefore(heap[top], heap[r]) { top = r }
                if top == j { break }
                heap.swapAt(j, top)
                j = top
            }
        }
    }
    return heap
}

/// Masked-dense form of `softUpdateMaintainingSparsity`, in place on fanOut × fanIn arrays: absent entries are 0
/// in both `target` and `online`, so blending every entry is blending on the union of supports; then the excess
/// smallest non-zeros are zeroed (same tie rule) and `mask` becomes (target ≠ 0). Allocates only when it prunes.
public func softUpdateMaintainingSparsityInPlace(target: inout [Float], mask: inout [Float], online: [Float], tau: Float) {
    precondition(target.count == online.count && mask.count == target.count)
    let keep = 1 - tau
    var nonZero = 0, onlineNonZero = 0
    target.withUnsafeMutableBufferPointer { t in
        online.withUnsafeBufferPointer { o in
            for i in 0..<t.count {
                let v = tau * o[i] + keep * t[i]
                t[i] = v
                if v != 0 { nonZero += 1 }
                if o[i] != 0 { onlineNonZero += 1 }
            }
        }
    }
    let excess = nonZero - onlineNonZero
    if excess > 0 {
        var live = [Int]()
        live.reserveCapacity(nonZero)
        for i in target.indices where target[i] != 0 { live.append(i) }
        for k in smallestMagnitudes(count: live.count, excess: excess, { target[live[$0]] }) { target[live[k]] = 0 }
    }
    target.withUnsafeBufferPointer { t in
        mask.withUnsafeMutableBufferPointer { m in for i in 0..<t.count { m[i] = t[i] != 0 ? 1 : 0 } }
    }
}

/// Reference twin of `pruneToLargest`: sorts everything.
func pruneToLargestBySorting(positions: [Position], values: [Float], count: Int) -> ([Position], [Float]) {
    var p = [Position](), v = [Float]()
    for i in 0..<positions.count where values[i] != 0 {
        p.append(positions[i])
        v.append(values[i])
    }
    let excess = p.count - count
    if excess <= 0 { return (p, v) }
    var order = Array(0..<p.count)
    order.sort { a, b in
        let ma = abs(v[a]), mb = abs(v[b])
        return ma != mb ? ma < mb : a > b
    }
    var keep = [Bool](repeating: true, count: p.count)
    for i in order[0..<excess] { keep[i] = false }
    var kp = [Position](), kv = [Float]()
    for i in 0..<p.count where keep[i] {
        kp.append(p[i])
        kv.append(v[i])
    }
    return (kp, kv)
}

private func sparsityPositionsAreAscending(_ p: [Position]) -> Bool {
    for i in p.indices.dropFirst() where p[i - 1] >= p[i] { return false }
    return true
}
