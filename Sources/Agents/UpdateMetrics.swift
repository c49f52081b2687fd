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
