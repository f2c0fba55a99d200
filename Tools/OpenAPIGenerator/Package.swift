// swift-tools-version:6.2
// The OpenAPI generator, in a package of its own so that the main build never compiles it: its
// build plugin would cost minutes on every clean CI build. `scripts/generate-client` runs it to
// regenerate Sources/CancelflowClient/GeneratedSources from openapi.yaml; the generated code is
// committed, and `scripts/generate-client --check` fails when it is stale.
import PackageDescription

let package = Package(
    name: "cancelflow-openapi-generator",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3")
    ],
    targets: []
)
