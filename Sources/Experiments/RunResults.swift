import Agents
import Foundation
import Training

/// One run directory as the report reads it.
public struct RunResult: Sendable {
    public var name: String
    public var directory: String
    public var env: String
    public var preset: String
    public var algorithm: String
    public var method: String
    public var sparsity: Double
    public var seed: Int
    public var steps: Int
    /// Has summary.json (only finished runs enter the final-score statistics).
    public var finished: Bool
    public var evaluations: [EvaluationPoint]
    /// Mean of the last 10% of evaluations (summary.json's final_score).
    public var finalScore: Double?
    public var liveParameters: Double?
    public var trainingFLOPs: Double?
    /// FLOPs of one action of the deterministic policy: 2 × the actor's live weights (forward, batch 1).
    public var inferenceFLOPs: Double?

    public init(name: String, directory: String = "", env: String, preset: String = "", algorithm: String, method: String,
                sparsity: Double, seed: Int, steps: Int = 0, finished: Bool = true, evaluations: [EvaluationPoint] = [],
                finalScore: Double?, liveParameters: Double? = nil, trainingFLOPs: Double? = nil, inferenceFLOPs: Double? = nil) {
        self.name = name; self.directory = directory; self.env = env; self.preset = preset; self.algorithm = algorithm
        self.method = method; self.sparsity = sparsity; self.seed = seed; self.steps = steps; self.finished = finished
        self.evaluations = evaluations; self.finalScore = finalScore; self.liveParameters = liveParameters
        self.trainingFLOPs = trainingFLOPs; self.inferenceFLOPs = inferenceFLOPs
    }

    /// Reads config.json, evaluations.csv, summary.json and (for inference FLOPs) checkpoint.sparrow.
    public init(directory: String) throws {
        let file = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        func object(_ name: String) -> [String: Any]? {
            FileManager.default.contents(atPath: file(name)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        guard let config = object("config.json") else { throw SweepError("\(directory): no readable config.json") }
        func number(_ o: [String: Any]?, _ key: String) -> Double? { (o?[key] as? NSNumber)?.doubleValue }
        name = (directory as NSString).lastPathComponent
        self.directory = directory
        env = config["env"] as? String ?? "?"
        preset = config["preset"] as? String ?? "?"
        algorithm = config["algorithm"] as? String ?? "?"
        method = config["method"] as? String ?? "?"
        sparsity = number(config, "sparsity") ?? 0
        seed = Int(number(config, "seed") ?? 0)
        steps = Int(number(config, "steps") ?? 0)
        evaluations = Self.readEvaluations(file("evaluations.csv"))
        let summary = object("summary.json")
        finished = summary != nil
        finalScore = number(summary, "final_score") ?? (finished ? EvaluationPoint.finalScore(evaluations) : nil)
        liveParameters = number(summary, "live_params")
        trainingFLOPs = number(summary, "training_flops")
        if finished, FileManager.default.fileExists(atPath: file("checkpoint.sparrow")),
           let (_, agent) = try? TrainingCheckpoint.loadAgent(checkpoint: file("checkpoint.sparrow")) {
            inferenceFLOPs = 2 * Double(agent.policyNetwork.cost.liveWeights)
        }
    }

    static func readEvaluations(_ path: String) -> [EvaluationPoint] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 4, let step = Int(f[0]), let mean = Double(f[1]) else { return nil }
            return EvaluationPoint(step: step, meanReturn: mean)
        }
    }
}

public enum RunResults {
    /// Directories under `root` (up to three levels down) that hold a run's config.json, sorted by path.
    public static func runDirectories(root: String) -> [String] {
        var found: [String] = []
        func visit(_ dir: String, depth: Int) {
            if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) {
                found.append(dir); return
            }
            guard depth < 3, let items = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for item in items.sorted() {
                var isDir: ObjCBool = false
                let path = (dir as NSString).appendingPathComponent(item)
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { visit(path, depth: depth + 1) }
            }
        }
        visit(root, depth: 0)
        return found
    }

    public static func load(root: String) throws -> [RunResult] {
        try runDirectories(root: root).map { try RunResult(directory: $0) }
    }
}

/// One row of evaluations.csv: the step and the mean return of its evaluation episodes.
public struct EvaluationPoint: Equatable, Sendable {
    public var step: Int
    public var meanReturn: Double
    public init(step: Int, meanReturn: Double) { self.step = step; self.meanReturn = meanReturn }

    /// The papers' final score, as `Training.Evaluation.finalScore`: the mean of the last 10% of evaluations
    /// (at least one).
    public static func finalScore(_ evaluations: [EvaluationPoint]) -> Double? {
        guard !evaluations.isEmpty else { return nil }
        let n = max(1, Int((Double(evaluations.count) * 0.1).rounded(.up)))
        let tail = evaluations.suffix(n)
        return tail.reduce(0) { $0 + $1.meanReturn } / Double(tail.count)
    }
}
