import Foundation
import SparrowCore
import XCTest
@testable import Environments

/// `--noise-features F` (Grooten et al.'s ANF): the wrapped observation is the environment's own, then i.i.d.
/// N(0, 1) features, fresh every step, seeded, and part of the checkpointed state.
final class NoiseFeaturesTests: XCTestCase {
    func testCountsRealFeaturesUntouchedAndNoiseIsStandardNormalAndIndependent() throws {
        XCTAssertEqual(NoiseFeaturesEnvironment.count(realFeatures: 11, fraction: 0.9), 99)   // nine per real one
        XCTAssertEqual(NoiseFeaturesEnvironment.count(realFeatures: 17, fraction: 0.5), 17)
        XCTAssertEqual(NoiseFeaturesEnvironment.count(realFeatures: 11, fraction: 0), 0)
        let plain = try makeTrainingEnvironment("Hopper-v5", seed: 3)
        let noisy = NoiseFeaturesEnvironment(try makeTrainingEnvironment("Hopper-v5", seed: 3), fraction: 0.8, seed: 3)
        XCTAssertEqual(noisy.noiseFeatures, 44)
        XCTAssertEqual(noisy.observationSpace.dimension, 55)
        XCTAssertEqual(noisy.actions, plain.actions)

        var g = Generator(seed: 8)
        var noise: [[Double]] = []
        var a = try plain.reset(seed: 5).observation, b = try noisy.reset(seed: 5).observation
        for t in 0..<3000 {
            XCTAssertEqual(Array(b.prefix(11)), a, "step \(t): the real features are the environment's")
            noise.append(Array(b.dropFirst(11)))
            let action = plain.actions.box!.low.indices.map { _ in g.uniform(-1, 1) }
            let ra = try plain.step(action), rb = try noisy.step(action)
            XCTAssertEqual(ra.reward, rb.reward); XCTAssertEqual(ra.terminated, rb.terminated)
            if ra.terminated || ra.truncated {
                a = try plain.reset(seed: nil).observation; b = try noisy.reset(seed: nil).observation
            } else {
                a = ra.observation; b = rb.observation
            }
        }
        // 3000 × 44 draws: mean 0 and variance 1 within 5 standard errors, per feature and over all.
        let n = Double(noise.count), all = noise.flatMap { $0 }
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(all.count)
        XCTAssertEqual(mean, 0, accuracy: 5 / Double(all.count).squareRoot())
        XCTAssertEqual(variance, 1, accuracy: 5 * (2 / Double(all.count)).squareRoot())
        for j in 0..<44 {
            let column = noise.map { $0[j] }
            XCTAssertEqual(column.reduce(0, +) / n, 0, accuracy: 5 / n.squareRoot(), "feature \(j)")
        }
        // Fresh every step and independent across features: lag-1 and neighbour correlations near 0.
        func correlation(_ x: [Double], _ y: [Double]) -> Double {
            let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
            let sxy = zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
            let sxx = x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +), syy = y.map { ($0 - my) * ($0 - my) }.reduce(0, +)
            return sxy / (sxx * syy).squareRoot()
        }
        let f0 = noise.map { $0[0] }, f1 = noise.map { $0[1] }
        XCTAssertEqual(correlation(Array(f0.dropLast()), Array(f0.dropFirst())), 0, accuracy: 5 / n.squareRoot(), "over time")
        XCTAssertEqual(correlation(f0, f1), 0, accuracy: 5 / n.squareRoot(), "across features")
        XCTAssertNotEqual(noise[0], noise[1])
    }

    func testSeededAndItsStateContinuesTheStream() throws {
        func make() throws -> NoiseFeaturesEnvironment {
            NoiseFeaturesEnvironment(try makeTrainingEnvironment("CartPole-v1", seed: 1), fraction: 0.9, seed: 1)
        }
        let x = try make(), y = try make()
        XCTAssertEqual(try x.reset(seed: 7).observation, try y.reset(seed: 7).observation)
        XCTAssertNotEqual(try x.reset(seed: 7).observation, try make().reset(seed: 8).observation)
        _ = try x.step([1]); _ = try x.step([0])
        var w = ByteWriter()
        x.encodeState(into: &w)
        let after = try (0..<5).map { _ in try x.step([1]).observation }
        let z = try make()
        var r = ByteReader(w.bytes)
        try z.decodeState(from: &r)
        XCTAssertEqual(try (0..<5).map { _ in try z.step([1]).observation }, after, "a restored state draws the same noise")
    }
}
