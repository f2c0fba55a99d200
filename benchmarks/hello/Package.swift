// swift-tools-version:6.1
// The framework's ceiling for benchmarks/run: a bare Hummingbird 2 `GET /hello` from the same
// package set as the service, with nothing else (no middleware, no logging). Its own package, so
// the service's build never compiles it.
import PackageDescription

let package = Package(
    name: "hello",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1")],
    targets: [.executableTarget(name: "hello", dependencies: [.product(name: "Hummingbird", package: "hummingbird")])]
)
