import Agents
import Foundation
import NeuralNet
@testable import Training
import XCTest

/// Issue 26 part 3 in a run: `--dense-path timed` takes its layers' crossovers from this machine's cache, records
/// them in the run directory, and a resume goes by that record, not by the cache, so it continues exactly.
final class DensePathRunTests: XCTestCase {
    private var cacheDir = ""

    override func setUp() {
        cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-densepath-cache-\(getpid())").path
        try? FileManager.default.removeItem(atPath: cacheDir)
        setenv("SPARROW_CACHE_DIR", cacheDir, 1)
    }

    override func tearDown() {
        unsetenv("SPARROW_CACHE_DIR")
        try? FileManager.default.removeItem(atPath: cacheDir)
        DensePath.use(.rule)
    }

    /// Cache entries for `shapes` that send every layer to sgemm (`dense`) or keep every layer sparse.
    private func store(_ shapes: [LayerShape], batch: Int, dense: Bool) throws {
        try DensePathCache().store(shapes.map {
            DensePathTable.Entry(fanIn: $0.fanIn, fanOut: $0.fanOut, batch: batch, densities: [0.01, 1],
                                 sparseMilliseconds: [1, 1], denseMilliseconds: dense ? [0.5, 0.5] : [2, 2])
        })
    }

    private func sparseLayers(_ agent: any Agent) -> [SparseLayer] {
        agent.namedNetworks.flatMap { $0.network.layers.compactMap { $0 as? SparseLayer } }
    }

    func testATimedRunRecordsItsChoicesAndAResumeKeepsThemWhateverTheCacheSaysSince() throws {
        var config = try smallConfig("tows-sac", ["steps": 1500, "update-interval": 200])
        config.densePath = .timed
        let straight = temporaryRunDirectory("dpstraight"), resumed = temporaryRunDirectory("dpresumed"),
            probe = temporaryRunDirectory("dpprobe")
        defer { for d in [straight, resumed, probe] { try? FileManager.default.removeItem(atPath: d) } }

        // The run's layer shapes (an agent built under the rule), each sent to sgemm by the cache.
        var rule = config
        rule.densePath = .rule
        let shapes = sparseLayers(try OffPolicyTrainer(config: rule, runDirectory: probe, resume: false).trainedAgent).map(\.shape)
        XCTAssertFalse(shapes.isEmpty)
        try store(shapes, batch: config.agent.batchSize, dense: true)

        let a = try OffPolicyTrainer(config: config, runDirectory: straight, resume: false)
        XCTAssertTrue(sparseLayers(a.trainedAgent).allSatisfy(\.runsDense), "the cache sends every layer to sgemm")
        let recorded = try JSONDecoder().decode(DensePathTable.self, from: Data(contentsOf: URL(fileURLWithPath: straight + "/dense-path.json")))
        XCTAssertEqual(Set(recorded.entries.map { "\($0.fanIn)x\($0.fanOut)" }), Set(shapes.map { "\($0.fanIn)x\($0.fanOut)" }))
        let sa = try a.run()

        _ = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: false).run(stopAfter: 700, finalCheckpoint: true)
        try store(shapes, batch: config.agent.batchSize, dense: false)  // the machine's cache changes meanwhile
        XCTAssertFalse(sparseLayers(try OffPolicyTrainer(config: config, runDirectory: probe + "-new", resume: false).trainedAgent)
            .contains(where: \.runsDense), "a new run follows the changed cache")
        try? FileManager.default.removeItem(atPath: probe + "-new")
        let second = try OffPolicyTrainer(config: config, runDirectory: resumed, resume: true)
        XCTAssertEqual(second.step, 700)
        XCTAssertTrue(sparseLayers(second.trainedAgent).allSatisfy(\.runsDense), "the resume follows its record")
        let sb = try second.run()
        XCTAssertEqual(sa.evaluations, sb.evaluations)
        XCTAssertEqual(try deterministicMetrics(straight), try deterministicMetrics(resumed))

        // Without its record, a timed run does not resume (it would change its numbers).
        _ = try OffPolicyTrainer(config: config, runDirectory: probe + "-lost", resume: false).run(stopAfter: 600, finalCheckpoint: true)
        defer { try? FileManager.default.removeItem(atPath: probe + "-lost") }
        try FileManager.default.removeItem(atPath: probe + "-lost/dense-path.json")
        XCTAssertThrowsError(try OffPolicyTrainer(config: config, runDirectory: probe + "-lost", resume: true)) {
            XCTAssertTrue("\($0)".contains("dense-path.json is missing"), "\($0)")
        }
    }
}
