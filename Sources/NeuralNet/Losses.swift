import Foundation

/// The index of the largest of n values, the first on ties (as `np.argmax`, `tf.argmax`); `stride` steps between
/// them (a feature-major network output: one sample's values are `stride` = batch apart).
public func argmax(_ values: UnsafePointer<Float>, count n: Int, stride: Int = 1) -> Int {
    var best = 0, bestValue = values[0]
    for j in 1..<n where values[j * stride] > bestValue { best = j; bestValue = values[j * stride] }
    return best
}

/// Huber loss with δ = 1 (TF-Agents' `element_wise_huber_loss`, PyTorch `F.smooth_l1_loss`): ½d² for |d| ≤ 1,
/// |d| − ½ beyond; d = prediction − target. Returns the loss of one element; its derivative is clamp(d, −1, 1).
@inline(__always)
public func huber(_ d: Float) -> (loss: Float, gradient: Float) {
    let a = abs(d)
    return a <= 1 ? (0.5 * d * d, d) : (a - 0.5, d > 0 ? 1 : -1)
}

/// Mean squared error as PyTorch `F.mse_loss` (mean of squared differences) over n predictions (e.g. a
/// 1 × batch critic output); writes ∂loss/∂prediction and returns the loss.
public func meanSquaredError(prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count n: Int,
                             gradient: UnsafeMutablePointer<Float>) -> Float {
    var loss: Double = 0
    for i in 0..<n {
        let d = prediction[i] - target[i]
        loss += Double(d * d)
        gradient[i] = 2 * d / Float(n)
    }
    return Float(loss / Double(n))
}
