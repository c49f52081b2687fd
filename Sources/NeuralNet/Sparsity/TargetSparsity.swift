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

/// Reusable storage of one target layer's maintain-sparsity update (`softUpdateMaintainingSparsity(targetPositions:
/// targetValues:onlinePositions:onlineValues:tau:into:)`): the union of both supports and its drop keys, grown to the
/// largest union seen (with some slack) and then reused. Scratch, not state: checkpoints never hold it, and a fresh
/// one gives the same results.
public struct MaintainSparsityScratch {
    var positions: [Position] = []
    var values: [Float] = []
    var keys: [UInt64] = []
    /// |value| bits a little above the last update's cut, where the next cut is looked for first (the supports and
    /// values move little between updates). Only a hint: any value selects the same entries, a poor one more slowly.
    var cutGuess: UInt32 = 0
    public init() {}

    /// Room for a union of `n` entries. The arrays trade places with a target layer's (which keep their capacity),
    /// so they are lengthened within their capacity when they can be; a new one is an eighth longer than asked, so
    /// a support that drifts by a few entries does not reallocate every update.
    mutating func reserve(_ n: Int) {
        Self.lengthen(&positions, to: n)
        Self.lengthen(&values, to: n)
    }

    static func lengthen<T: Numeric>(_ a: inout [T], to n: Int) {
        guard a.count < n else { return }
        if a.capacity >= n { a.resize(to: n) } else { a = [T](repeating: 0, count: n + n / 8) }
    }

    /// The guess after a cut at |value| bits `bits`: about 1.5× that magnitude (2²² is half an exponent step).
    static func guess(above bits: UInt32) -> UInt32 { bits > UInt32.max - 0x40_0000 ? .max : bits + 0x40_0000 }
}

/// `softUpdateMaintainingSparsity(target:online:tau:)` — its plain twin, which the tests hold it to bit for bit —
/// written into `scratch`, without allocating once the scratch has grown. It runs on every update while a target's
/// support trails its online network's (most updates of a run that evolves a topology: a newcomer outgrows a
/// decaying weight now and then), so it is linear, makes no arrays and sorts nothing:
/// 1. one merge pass writes the union's non-zeros (same arithmetic, same order as the twin) and counts nnz(online);
///    runs of shared positions, most of a trailing support, go through a tight loop without branches on values;
/// 2. if more than nnz(online) remain, the `excess` to drop are
///    - the non-zero newcomers (online-only entries) when there are exactly `excess` of them and each is smaller in
///      magnitude than every entry the target had — the step right after a topology change, when grown weights
///      enter at τ·o — with no selection at all;
///    - otherwise the `excess` smallest drop keys. Keys order by |value| first, so the keys at or below a magnitude
///      are a prefix of the drop order: when at least `excess` entries lie at or below `scratch.cutGuess` (counted
///      in the merge), the cut is selected among those few (`selectSmallest`) and is the same; else among all;
/// 3. the kept entries are compacted in place.
/// Magnitudes are compared as the bit patterns of |v|, which order like the drop keys (NaN included).
/// Returns the result's count n: it is `scratch.positions[..<n]` and `scratch.values[..<n]`.
func softUpdateMaintainingSparsity(targetPositions tp: UnsafeBufferPointer<Position>,
                                   targetValues tv: UnsafeBufferPointer<Float>,
                                   onlinePositions op: UnsafeBufferPointer<Position>,
                                   onlineValues ov: UnsafeBufferPointer<Float>, tau: Float,
                                   into scratch: inout MaintainSparsityScratch) -> Int {
    precondition(tp.count == tv.count, "target positions and values differ in length")
    precondition(op.count == ov.count, "online positions and values differ in length")
    let keepTau = 1 - tau
    let nt = tp.count, no = op.count
    let guess = scratch.cutGuess
    scratch.reserve(nt + no)
    return scratch.positions.withUnsafeMutableBufferPointer { up in
        scratch.values.withUnsafeMutableBufferPointer { uv in
            // 1. The union's non-zeros.
            var t = 0, o = 0, n = 0, onlineNonZero = 0, newcomers = 0, atMostGuess = 0
            var largestNewcomer: UInt32 = 0, smallestOld = UInt32.max
            while t < nt || o < no {
                // Shared positions: written unconditionally, counted only when non-zero.
                while t < nt && o < no && tp[t] == op[o] {
                    let v = tau * ov[o] + keepTau * tv[t]
                    up[n] = op[o]; uv[n] = v
                    let live = v != 0, magnitude = abs(v).bitPattern
                    n += live ? 1 : 0
                    onlineNonZero += ov[o] != 0 ? 1 : 0
                    atMostGuess += live && magnitude <= guess ? 1 : 0
                    smallestOld = min(smallestOld, live ? magnitude : .max)
                    t += 1; o += 1
                }
                guard t < nt || o < no else { break }
                let p: Position
                let v: Float
                let newcomer: Bool
                if o == no || (t < nt && tp[t] < op[o]) {
                    p = tp[t]; v = keepTau * tv[t]; newcomer = false
                    t += 1
                } else {
                    p = op[o]; v = tau * ov[o]; newcomer = true
                    if ov[o] != 0 { onlineNonZero += 1 }
                    o += 1
                }
                if v != 0 {
                    up[n] = p; uv[n] = v; n += 1
                    let magnitude = abs(v).bitPattern
                    if magnitude <= guess { atMostGuess += 1 }
                    if newcomer {
                        newcomers += 1
                        largestNewcomer = max(largestNewcomer, magnitude)
                    } else {
                        smallestOld = min(smallestOld, magnitude)
                    }
                }
            }
            let excess = n - onlineNonZero
            guard excess > 0 else { return n }
            // 2. What to drop: the newcomers when they are exactly the excess smallest, else by selection.
            if excess == newcomers && largestNewcomer < smallestOld {
                scratch.cutGuess = MaintainSparsityScratch.guess(above: largestNewcomer)
                var kept = 0
                for i in 0..<n {
                    up[kept] = up[i]; uv[kept] = uv[i]
                    kept += abs(uv[i]).bitPattern > largestNewcomer ? 1 : 0
                }
                return kept
            }
            if scratch.keys.count < n { scratch.keys = [UInt64](repeating: 0, count: up.count) }
            let cut = scratch.keys.withUnsafeMutableBufferPointer { k -> UInt64 in
                if atMostGuess >= excess {
                    var c = 0
                    for i in 0..<n where abs(uv[i]).bitPattern <= guess { k[c] = dropKey(uv[i], index: i); c += 1 }
                    return selectSmallest(UnsafeMutableBufferPointer(rebasing: k[0..<c]), rank: excess - 1)
                }
                let live = sk_drop_keys(n, uv.baseAddress, k.baseAddress)
                return selectSmallest(UnsafeMutableBufferPointer(rebasing: k[0..<live]), rank: excess - 1)
            }
            scratch.cutGuess = MaintainSparsityScratch.guess(above: UInt32(cut >> 32))
            // 3. Keep the keys above the cut (the twin's `pruneToLargest` filter).
            var kept = 0
            for i in 0..<n {
                up[kept] = up[i]; uv[kept] = uv[i]
                kept += dropKey(uv[i], index: i) > cut ? 1 : 0
            }
            return kept
        }
    }
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
        guard blendEqualSupports(targetValues: &targetValues, onlineValues: onlineValues, tau: tau) else { return false }
        return pruneEqualSupports(positions: &targetPositions, values: &targetValues, onlineValues: onlineValues)
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

/// Equal supports, step 1 in place: t ← τ·o + (1 − τ)·t. Returns whether a zero appeared (a blended value or an
/// online one); without one nnz(target) = nnz(online) = count, so nothing needs pruning and the support stays.
func blendEqualSupports(targetValues: inout [Float], onlineValues: [Float], tau: Float) -> Bool {
    precondition(targetValues.count == onlineValues.count)
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
    return anyZero
}

/// Equal supports after `blendEqualSupports` found a zero (rare): steps 2–3 on the blended values. Returns whether
/// the support changed.
func pruneEqualSupports(positions: inout [Position], values: inout [Float], onlineValues: [Float]) -> Bool {
    let onlineNonZero = onlineValues.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    let (p, v) = pruneToLargest(positions: positions, values: values, count: onlineNonZero)
    let changed = p != positions
    positions = p
    values = v
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
/// The `excess` entries to drop (the smallest under (|v|, higher position first)) are found by selection, O(n),
/// instead of sorting all n; `pruneToLargestBySorting` is the plain twin the tests compare it with. (A truly sparse
/// target layer's update runs the scratch form above, which selects the same way without allocating.)
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
                                                 keys: inout [UInt64]) -> Int {
    var scratch = MaintainSparsityScratch()
    swap(&scratch.keys, &keys)
    defer { swap(&scratch.keys, &keys) }
    return softUpdateMaintainingSparsityInPlace(target: &target, mask: &mask, online: online, tau: tau, scratch: &scratch)
}

/// The same with a layer's own scratch (`MaintainSparsityScratch`: the keys and the last update's cut). When at
/// least `excess` non-zeros lie at or below `scratch.cutGuess`, the cut is selected among those few — a prefix of
/// the drop order, so the same cut — instead of keying and selecting among all live entries (a masked 365×256
/// layer at 45% density: 42k). Otherwise, or without a guess, every non-zero is keyed (`sk_drop_keys`).
@discardableResult
func softUpdateMaintainingSparsityInPlace(target: inout [Float], mask: inout [Float], online: [Float], tau: Float,
                                          scratch: inout MaintainSparsityScratch) -> Int {
    precondition(target.count == online.count && mask.count == target.count)
    let n = target.count
    let guess = scratch.cutGuess
    return target.withUnsafeMutableBufferPointer { t in
        var onlineNonZero = 0
        let nonZero = online.withUnsafeBufferPointer { o in sk_blend_count(n, t.baseAddress, o.baseAddress, tau, &onlineNonZero) }
        let excess = nonZero - onlineNonZero
        var threshold: UInt64 = 0
        if excess > 0 {
            // Keys of the non-zeros (the dense index breaks ties, as the position does in the list form); the
            // excess-th smallest is the threshold, and the entries at or below it are exactly the `excess` to drop.
            if scratch.keys.count < n { scratch.keys = [UInt64](repeating: 0, count: n) }
            threshold = scratch.keys.withUnsafeMutableBufferPointer { k in
                if guess > 0 {
                    // 0 < |v| ≤ guess as one unsigned compare (|0| − 1 wraps to the top): a branch that is rarely
                    // taken, where testing v ≠ 0 first mispredicts on every other entry of a 45%-dense layer.
                    var c = 0
                    for i in 0..<n where abs(t[i]).bitPattern &- 1 < guess {
                        k[c] = dropKey(t[i], index: i)
                        c += 1
                    }
                    if c >= excess { return selectSmallest(UnsafeMutableBufferPointer(rebasing: k[0..<c]), rank: excess - 1) }
                }
                let live = sk_drop_keys(n, t.baseAddress, k.baseAddress)
                return selectSmallest(UnsafeMutableBufferPointer(rebasing: k[0..<live]), rank: excess - 1)
            }
            scratch.cutGuess = MaintainSparsityScratch.guess(above: UInt32(threshold >> 32))
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
