import Foundation
import NeuralNet
import SparrowCore

/// What a run ran on, written under `machine` in its `config.json`, so a number can be traced to a CPU and a BLAS
/// kernel family. Not part of the run's settings: a config file or a resume ignores it (`TrainConfig.metadataKey`).
public struct MachineMetadata: Codable, Equatable, Sendable {
    public var cpu: String
    public var cpuFamily: Int
    public var cpuModel: Int
    public var cpuFeatures: [String]
    public var blasCore: String
    public var blasCoreDetected: String
    public var blasCoreChanged: Bool
    public var host: String
    /// Threads a training step may use (`--threads`; results do not depend on it).
    public var threads: Int

    enum CodingKeys: String, CodingKey {
        case cpu, host, threads
        case cpuFamily = "cpu_family", cpuModel = "cpu_model", cpuFeatures = "cpu_features"
        case blasCore = "blas_core", blasCoreDetected = "blas_core_detected", blasCoreChanged = "blas_core_changed"
    }

    public static var current: MachineMetadata {
        let cpu = CPUInfo.current, core = BLASCore.current
        return MachineMetadata(cpu: cpu.brand, cpuFamily: cpu.family, cpuModel: cpu.model, cpuFeatures: cpu.features,
                               blasCore: core.inUse, blasCoreDetected: core.detected, blasCoreChanged: core.changed,
                               host: ProcessInfo.processInfo.hostName, threads: Parallel.threads)
    }
}

extension TrainConfig {
    /// The `config.json` key that holds `MachineMetadata`.
    public static let metadataKey = "machine"

    /// `config.json`: the resolved settings (as `json()`) plus the machine they ran on.
    public func json(machine: MachineMetadata) throws -> String {
        struct File: Encodable {
            let config: TrainConfig, machine: MachineMetadata
            struct Key: CodingKey {
                var stringValue: String
                init(stringValue: String) { self.stringValue = stringValue }
                var intValue: Int? { nil }
                init?(intValue: Int) { nil }
            }
            func encode(to encoder: Encoder) throws {
                try config.encode(to: encoder)
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(machine, forKey: Key(stringValue: TrainConfig.metadataKey))
            }
        }
        return try PrettyJSON.string(File(config: self, machine: machine))
    }
}
