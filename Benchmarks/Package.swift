// swift-tools-version:6.1
// Micro-benchmarks of the hot paths, in a package of their own so that the benchmark library and
// its malloc interposer never slow down or change the service's own build. Run with
// `swift package --package-path Benchmarks benchmark` (see the README's performance section).
import PackageDescription

let package = Package(
    name: "cancelflow-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "cancelflow-server", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CancelflowCore", package: "cancelflow-server"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
