import Foundation
import NeuralNet
import SparrowCore

/// What one gradient update reports (for the metrics file).
public struct UpdateMetrics: Equatable, Sendable {
    public var criticLoss: Double = .nan
    public var actorLoss: Double = .nan
    public var alpha: Double = .nan
    public var alphaLoss: Double = .nan
    public var meanQ: Double = .nan
    /// DQN's TD loss (also in `criticLoss`, the column it always filled).
    public var tdLoss: Double = .nan
    /// PPO's value loss (also in `criticLoss`), and CleanRL's diagnostics of its policy step: the approximate KL
    /// divergence mean((ρ − 1) − log ρ) and the fraction of samples whose ratio ρ was clipped.
    public var valueLoss: Double = .nan
    public var approxKL: Double = .nan
    public var clipFraction: Double = .nan
    public init() {}
}

/// A loss turned NaN or infinite: training must stop; the last good checkpoint stays as it was.
public struct NonFiniteLossError: Error, CustomStringConvertible, Equatable {
    public let update: Int
    public let network: String
    public let value: Double
    public var description: String {
        "the \(network) loss became \(value) at training update \(update); stopping (the last checkpoint is intact)"
    }
}
