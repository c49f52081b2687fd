import ArgumentParser
import Foundation
import Training
import Yams

/// Every knob of `sparrow train` as a flag. Flags override a `--config` file, which overrides the preset.
///
/// The knob flags are not declared here one by one: they are `TrainConfig.knobs` (each knob's key is its flag),
/// parsed by `KnobArguments` and listed in `--help` by `KnobArguments.help`. Only the options that are not settings
/// of the run, or that choose where the settings start from, are ArgumentParser options.
struct TrainOptions: ParsableArguments {
    @Option(help: "Environment, e.g. Hopper-v5 (default Hopper-v5).") var env: String?
    @Option(help: "Preset: \(Presets.names.joined(separator: ", ")) (default tows-sac); a dense one with @SPARSITY, e.g. dense-sac@0.9, is shrunk to that sparsity's live parameters (--params-like).")
    var preset: String?
    @Option(help: "Config file (YAML or JSON) with the same keys as the setting flags.") var config: String?
    @Option(help: "Learning rate of actor, critics and α at once (then --actor-lr etc. override it).") var lr: Double?

    /// The setting flags (`--batch-size 128`, `--no-dense-output`, `--init=xavier`), parsed by `KnobArguments`.
    @Argument(parsing: .allUnrecognized, help: .hidden) var settings: [String] = []

    /// The flags that were given, as config keys and values.
    func overrides() throws -> [String: Any] {
        var d: [String: Any] = [:]
        if let lr {
            guard lr.isFinite else { throw CLIError("lr must be finite, got \(lr)") }
            for key in ["actor-lr", "critic-lr", "alpha-lr"] { d[key] = lr }
        }
        return d.merging(try KnobArguments.parse(settings)) { _, flag in flag }
    }

    /// The resolved config: preset ← config file ← flags.
    func resolve() throws -> TrainConfig {
        let file = try config.map(Self.readConfigFile)
        do {
            return try TrainConfig.resolve(preset: preset, env: env, file: file, flags: try overrides())
        } catch let e as CLIError { throw e } catch { throw CLIError(error) }
    }

    static func readConfigFile(_ path: String) throws -> [String: Any] {
        guard let dict = try SettingsFile.load(path, what: "config file", jsonValues: true) as? [String: Any] else {
            throw CLIError("config file \(path) must hold a mapping of keys to values")
        }
        return dict
    }
}
