// Sparsity mathematics, part 6: target networks that stay as sparse as their online networks.

import CKernels

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
    if blendKeepingSupport(targetPositions: targetPositions, targetValues: &targetValues,
                           onlinePositions: onlinePositions, onlineValues: onlineValues, tau: tau) {
        return false
    }
    let result = softUpdateMaintainingSparsity(target: (targetPositions, targetValues),
                                               online: (onlinePositions, onlineValues), tau: tau)
    let changed = result.positions != targetPositions
    targetPositions = result.positions
    targetValues = result.values
    return changed
}

/// The steady state after a topology change, without allocating: the online network has connections the target
/// lacks, and they enter the union at τ·o — usually smaller than every target weight, so the exact rule drops
/// exactly them and the target keeps its support with blended values. When that holds (no blended target value is
/// 0, the target has as many entries as the online network has non-zeros, and every non-zero newcomer is strictly
/// smaller in magnitude than every target value) this writes those values in place and returns true; otherwise it
/// changes nothing and returns false, and the caller applies the general rule. Same arithmetic as the general rule.
func blendKeepingSupport(targetPositions: [Position], targetValues: inout [Float], onlinePositions: [Position],
                         onlineValues: [Float], tau: Float) -> Bool {
    let keepTau = 1 - tau
    let nt = targetPositions.count, no = onlinePositions.count
    return targetPositions.withUnsafeBufferPointer { tp in
        onlinePositions.withUnsafeBufferPointer { op in
            onlineValues.withUnsafeBufferPointer { ov in
                targetValues.withUnsafeMutableBufferPointer { tv in
                    // Pass 1, read-only: the smallest kept magnitude, the largest newcomer, online non-zeros.
                    var t = 0, o = 0, onlineNonZero = 0
                    var smallestKept = Float.infinity, largestNewcomer: Float = 0
                    while t < nt {
                        while o < no && op[o] < tp[t] {  // online only: a newcomer
                            let v = tau * ov[o]
                            if ov[o] != 0 { onlineNonZero += 1 }
                            if v != 0 { largestNewcomer = max(largestNewcomer, abs(v)) }
                            o += 1
                        }
                        let v: Float
                        if o < no && op[o] == tp[t] {
                            v = tau * ov[o] + keepTau * tv[t]
                            if ov[o] != 0 { onlineNonZero += 1 }
                            o += 1
                        } else {
                            v = keepTau * tv[t]
                        }
                        if v == 0 { return false }
                        smallestKept = min(smallestKept, abs(v))
                        t += 1
                    }
                    while o < no {
                        let v = tau * ov[o]
                        if ov[o] != 0 { onlineNonZero += 1 }
                        if v != 0 { largestNewcomer = max(largestNewcomer, abs(v)) }
                        o += 1
                    }
                    guard onlineNonZero == nt, largestNewcomer < smallestKept else { return false }
                    // Pass 2: write the blended target values.
                    o = 0
                    for t in 0..<nt {
                        while o < no && op[o] < tp[t] { o += 1 }
                        if o < no && op[o] == tp[t] { tv[t] = tau * ov[o] + keepTau * tv[t]; o += 1 } else { tv[t] = keepTau * tv[t] }
                    }
                    return true
                }
            }
        }
    }
}

/// Removes exact zeros, then keeps the `count` largest |value| (lower position kept on ties), ascending.
///
/// Runs every training update once a target's support trails its online network's, so the `excess` entries to
/// drop (the smallest under (|v|, higher position first)) are found by selection, O(n), instead of sorting all n;
/// `pruneToLargestBySorting` is the plain twin the tests compare it with.
func pruneToLargest(positions: [Position], values: [Float], count: Int) -> ([Position], [Float]) {
    let nonZero = values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    // The excess-th smallest drop key is the threshold; exactly the entries at or below it go. Keys of non-zero
    // values are ≥ 2³², so a threshold of 0 keeps every non-zero (and ranking by the unfiltered index orders ties
    // as the positions do).
    var threshold: UInt64 = 0
    if nonZero > count {
        threshold = values.withUnsafeBufferPointer { v in
            var keys = [UInt64](unsafeUninitializedCapacity: v.count) { k, n in n = sk_drop_keys(v.count, v.baseAddress, k.baseAddress) }
            return keys.withUnsafeMutableBufferPointer { selectSmallest($0, rank: nonZero - count - 1) }
        }
    }
    var kp = [Position](), kv = [Float]()
    kp.reserveCapacity(min(nonZero, count)); kv.reserveCapacity(min(nonZero, count))
    for i in values.indices where values[i] != 0 && dropKey(values[i], index: i) > threshold {
        kp.append(positions[i])
        kv.append(values[i])
    }
    return (kp, kv)
}

/// A key whose ascending order is the drop order: |v| first (the bit pattern of a non-negative float orders like
/// its value), then the higher index first. Keys of distinct indices differ, so a threshold picks an exact count.
/// `sk_drop_keys` (CKernels) computes the same key; the selection tests hold the two paths to one rule.
@inline(__always) func dropKey(_ v: Float, index: Int) -> UInt64 {
    UInt64(abs(v).bitPattern) << 32 | UInt64(UInt32.max - UInt32(truncatingIfNeeded: index))
}

/// The key of the given rank (0 = smallest) among distinct keys, by quickselect (Hoare partition, median-of-three
/// pivot): O(n) on average, where a bounded heap costs O(n log k). Reorders `keys`.
func selectSmallest(_ keys: UnsafeMutableBufferPointer<UInt64>, rank: Int) -> UInt64 {
    precondition(rank >= 0 && rank < keys.count)
    var lo = 0, hi = keys.count - 1
    while lo < hi {
        let mid = lo + (hi - lo) / 2
        // Median of three as the pivot.
        if keys[mid] < keys[lo] { keys.swapAt(mid, lo) }
        if keys[hi] < keys[lo] { keys.swapAt(hi, lo) }
        if keys[hi] < keys[mid] { keys.swapAt(hi, mid) }
        let pivot = keys[mid]
        var i = lo, j = hi
        while i <= j {
            while keys[i] < pivot { i += 1 }
            while keys[j] > pivot { j -= 1 }
            if i <= j { keys.swapAt(i, j); i += 1; j -= 1 }
        }
        // Now keys[lo...j] ≤ pivot ≤ keys[i...hi], and anything strictly between j and i equals the pivot.
        if rank <= j { hi = j } else if rank >= i { lo = i } else { return pivot }
    }
    return keys[lo]
}

/// Masked-dense form of `softUpdateMaintainingSparsity`, in place on fanOut × fanIn arrays: absent entries are 0
/// in both `target` and `online`, so blending every entry is blending on the union of supports; then the excess
/// smallest non-zeros are zeroed (same tie rule) and `mask` becomes (target ≠ 0). Allocates only when it prunes.
/// Returns the live count afterwards.
@discardableResult
public func softUpdateMaintainingSparsityInPlace(target: inout [Float], mask: inout [Float], online: [Float], tau: Float) -> Int {
    var scratch = [UInt64]()
    return softUpdateMaintainingSparsityInPlace(target: &target, mask: &mask, online: online, tau: tau, keys: &scratch)
}

/// The same with caller-owned scratch for the drop keys (grown to `target.count` once, then reused), so the
/// update does not allocate — half a megabyte per 256×256 layer otherwise, on every update while supports differ.
@discardableResult
public func softUpdateMaintainingSparsityInPlace(target: inout [Float], mask: inout [Float], online: [Float], tau: Float,
                                                 keys scratch: inout [UInt64]) -> Int {
    precondition(target.count == online.count && mask.count == target.count)
    let n = target.count
    return target.withUnsafeMutableBufferPointer { t in
        var onlineNonZero = 0
        let nonZero = online.withUnsafeBufferPointer { o in sk_blend_count(n, t.baseAddress, o.baseAddress, tau, &onlineNonZero) }
        let excess = nonZero - onlineNonZero
        var threshold: UInt64 = 0
        if excess > 0 {
            // Keys of the non-zeros (the dense index breaks ties, as the position does in the list form); the
            // excess-th smallest is the threshold, and the entries at or below it are exactly the `excess` to drop.
            if scratch.count < n { scratch = [UInt64](repeating: 0, count: n) }
            threshold = scratch.withUnsafeMutableBufferPointer { k in
                let live = sk_drop_keys(n, t.baseAddress, k.baseAddress)
                return selectSmallest(UnsafeMutableBufferPointer(rebasing: k[0..<live]), rank: excess - 1)
            }
        }
        mask.withUnsafeMutableBufferPointer { m in sk_prune_mask(n, t.baseAddress, excess > 0 ? 1 : 0, threshold, m.baseAddress) }
        return excess > 0 ? onlineNonZero : nonZero
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
