// swift-tools-version:6.0
import PackageDescription

// Hot numeric code is compiled without overflow/exclusivity checks in release builds; these targets keep
// their inner loops in a few files that tests hold against plain reference implementations.
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

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
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo", providers: [.apt(["libmujoco-dev"])]),
        .systemLibrary(name: "CGLFW", path: "Sources/CGLFW", pkgConfig: "glfw3", providers: [.apt(["libglfw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

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
        .target(name: "Environments", dependencies: ["MuJoCo", "SparrowCore"], swiftSettings: fastMath),
        // The few hot sparse kernels, in C with AVX2/FMA (any x86-64 CPU from 2013 on); each has a plain twin in tests.
        // Linux x86-64 builds need a CPU with AVX2/FMA (Haswell / Zen 1 or newer); other platforms use the C fallback.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma"], .when(platforms: [.linux]))]),
        // Dense and truly sparse layers, masked-moment Adam, sparsity distributions, topology updates.
        .target(name: "NeuralNet", dependencies: ["COpenBLAS", "CKernels", "CPlatform", "SparrowCore"], swiftSettings: fastMath),
        // SAC and TD3 over sparse networks: replay buffer, config, network construction, updates.
        .target(name: "Agents", dependencies: ["NeuralNet", "SparrowCore"], swiftSettings: fastMath),
        // The training loop, evaluation, metrics, checkpoints and presets.
        .target(name: "Training", dependencies: ["Agents", "Environments", "NeuralNet", "SparrowCore"]),
        // The interactive GLFW window and offscreen recording of policies (issue 5).
        .target(name: "Viewer", dependencies: ["MuJoCo", "CGLFW", "CMuJoCo", "Environments", "Training", "Agents", "SparrowCore"]),
        // Sweeps (local, SLURM) and paper-style reports: IQM, bootstrap intervals, tables, plots (issue 6).
        .target(name: "Experiments", dependencies: ["Training", "Agents", "SparrowCore"]),
        // Command implementations (a library so tests can drive them in-process too).
        .target(name: "SparrowCLI", dependencies: [
            "MuJoCo", "Environments", "NeuralNet", "Agents", "Training", "Viewer", "Experiments", "SparrowCore",
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
        .testTarget(name: "SparrowCoreTests", dependencies: ["SparrowCore"]),
        .testTarget(name: "MuJoCoTests", dependencies: ["MuJoCo", "CPlatform"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments", "SparrowCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Environments"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Agents", "Environments", "NeuralNet", "SparrowCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ViewerTests", dependencies: ["Viewer", "Environments", "Training", "SparrowCore", "SparrowTestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Training", "SparrowCore"]),
        .testTarget(name: "CLITests", dependencies: ["SparrowCLI", "sparrow", "sparrow-alloc-probe", "SparrowTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
