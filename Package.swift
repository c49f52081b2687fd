// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The commit checked out where the manifest is evaluated (HEAD, following a branch ref into refs/ or packed-refs),
/// or nil without a .git (a source archive). SwiftPM evaluates the manifest again when Package.swift changes or
/// the build folder is new (a fresh clone, CI); an incremental build after a new commit keeps the old value.
func gitCommit() -> String? {
    let git = Context.packageDirectory + "/.git"
    func read(_ p: String) -> String? {
        (try? String(contentsOfFile: p, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    guard let head = read(git + "/HEAD") else { return nil }
    var commit = head
    if head.hasPrefix("ref: ") {
        let ref = String(head.dropFirst(5))
        if let c = read(git + "/" + ref) {
            commit = c
        } else if let packed = read(git + "/packed-refs"),
                  let line = packed.split(separator: "\n").first(where: { $0.hasSuffix(" " + ref) }) {
            commit = String(line.prefix { $0 != " " })
        } else { return nil }
    }
    return commit.count == 40 && commit.allSatisfy(\.isHexDigit) ? commit : nil
}

// No target has unsafe flags: release builds keep every precondition (sparse-index order, buffer bounds, sizes),
// and other packages can depend on the libraries by version (SwiftPM refuses unsafe flags in such dependencies).
// The hot loops live in `CKernels` (C, with AVX2 bodies chosen at run time) and in a few Swift files that work
// on unsafe buffer pointers; tests hold each against a plain twin.

let package = Package(
    name: "Sparrow",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sparrow", targets: ["sparrow"]),
        .library(name: "MuJoCo", targets: ["MuJoCo"]),
        .library(name: "Environments", targets: ["Environments"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Agents", targets: ["Agents"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // Counts heap allocations (LD_PRELOAD interposer) for the allocation-free hot-loop tests.
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        // Protocol buffers for TensorBoard event files and ONNX models (the runtime only: the message code is
        // generated once by tools/proto/generate.sh and committed, no plugin runs at build time).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo", providers: [.apt(["libmujoco-dev"])]),
        .systemLibrary(name: "CGLFW", path: "Sources/CGLFW", pkgConfig: "glfw3", providers: [.apt(["libglfw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        // The git commit of the build (`sparrow --version`, run.json): a C define computed by the manifest.
        .target(name: "CBuildInfo", cSettings: gitCommit().map { [.define("SPARROW_GIT_COMMIT", to: "\"\($0)\"")] } ?? []),
        // Shared basics with no dependencies: the seedable generator, atomic file writes.
        .target(name: "SparrowCore"),
        // CPU features, the floating-point environment, and the OpenBLAS kernel choice, in plain C (no -mavx2: it
        // decides what the rest may use). Its constructor fixes OpenBLAS's fallback core before `main`.
        .target(name: "CPlatform", linkerSettings: [.linkedLibrary("dl")]),
        // setjmp guards around MuJoCo calls so mju_error becomes a return code instead of exit(); physics runs
        // in IEEE mode (no flush-to-zero) whatever the caller set.
        .target(name: "CMuJoCoGuard", dependencies: ["CMuJoCo", "CPlatform"]),
        // A safe Swift layer over MuJoCo: model/data lifetimes, errors that throw, typed state access.
        .target(name: "MuJoCo", dependencies: ["CMuJoCo", "CMuJoCoGuard", "CPlatform"]),
        // Gymnasium-v5 locomotion environments on top of it.
        .target(name: "Environments", dependencies: ["MuJoCo", "SparrowCore"]),
        // The few hot sparse kernels, in C: AVX2 + FMA bodies (Haswell / Zen 1 and newer) and portable ones, picked
        // at load time from the CPU (no compiler flags; see kernels.c). Each has a plain Swift twin in tests.
        .target(name: "CKernels", dependencies: ["CPlatform"]),
        // Dense and truly sparse layers, masked-moment Adam, sparsity distributions, topology updates.
        .target(name: "NeuralNet", dependencies: ["COpenBLAS", "CKernels", "CPlatform", "SparrowCore"]),
        // SAC and TD3 over sparse networks: replay buffer, config, network construction, updates.
        .target(name: "Agents", dependencies: ["NeuralNet", "SparrowCore"]),
        // File formats other tools read: TensorBoard event files (TFRecord, CRC-32C) and policies as ONNX models
        // (over committed swift-protobuf code generated from the .proto subsets in tools/proto) and as C sources.
        .target(name: "Interop", dependencies: ["Agents", "NeuralNet", "SparrowCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The training loop, evaluation, metrics, checkpoints and presets.
        .target(name: "Training", dependencies: ["Agents", "Environments", "NeuralNet", "SparrowCore", "Interop", "MuJoCo",
                                                "CBuildInfo"]),
        // The interactive GLFW window and offscreen recording of policies (issue 5).
        .target(name: "Viewer", dependencies: ["MuJoCo", "CGLFW", "CMuJoCo", "Environments", "Training", "Agents", "SparrowCore"]),
        // Sweeps (local, SLURM) and paper-style reports: IQM, bootstrap intervals, tables, plots (issue 6).
        .target(name: "Experiments", dependencies: ["Training", "Agents", "Environments", "SparrowCore"]),
        // Command implementations (a library so tests can drive them in-process too).
        .target(name: "SparrowCLI", dependencies: [
            "MuJoCo", "Environments", "NeuralNet", "Agents", "Training", "Interop", "Viewer", "Experiments", "SparrowCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "sparrow", dependencies: ["SparrowCLI"]),

        // Counts allocations in the env step and training loop (run under the interposer by the allocation test).
        .executableTarget(name: "sparrow-alloc-probe", dependencies: [
            "Environments", "Agents", "Training", "SparrowCore",
            .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
        ], path: "Sources/AllocationProbe"),

        // Helpers shared by test targets (a reference PNG reader); not part of the product.
        .target(name: "SparrowTestSupport", dependencies: ["SparrowCore"]),
        .testTarget(name: "SparrowCoreTests", dependencies: ["SparrowCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MuJoCoTests", dependencies: ["MuJoCo", "CPlatform"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "SparrowCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Environments"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Agents", "Environments", "NeuralNet", "SparrowCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ViewerTests", dependencies: ["Viewer", "Environments", "Training", "SparrowCore", "SparrowTestSupport"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Training", "Agents", "NeuralNet", "SparrowCore"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Training", "Environments", "SparrowCore"]),
        .testTarget(name: "CLITests", dependencies: ["SparrowCLI", "sparrow", "sparrow-alloc-probe", "SparrowTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
