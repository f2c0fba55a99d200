// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "cancelflow-server",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cancelflow", targets: ["cancelflow"]),
        // For the micro-benchmarks package in Benchmarks/, which measures the domain's hot paths.
        .library(name: "CancelflowCore", targets: ["CancelflowCore"]),
        // The Swift SDK: a client generated from openapi.yaml, a hand-written façade over it, and
        // a webhook verifier. It depends on none of the server's targets.
        .library(name: "CancelflowClient", targets: ["CancelflowClient"]),
        .executable(name: "cancel-link-example", targets: ["cancel-link-example"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CancelflowCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CancelflowAPI", swiftSettings: swiftSettings),
        // The system's libsqlite3, driven directly by the store's SQLite layer (see
        // docs/ARCHITECTURE.md for why not sqlite-nio's connection or GRDB).
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        // The C-level SQLite connection, apart from CancelflowStore because that target sees
        // sqlite-nio's bundled SQLite header, which clashes with the system's.
        .target(name: "CancelflowSQLite", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        .target(
            name: "CancelflowStore",
            dependencies: [
                "CancelflowCore",
                "CancelflowSQLite",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Stripe and Paddle adapters: Core's BillingProvider over each provider's REST API.
        .target(
            name: "CancelflowBilling",
            dependencies: [
                "CancelflowCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CancelflowApp",
            dependencies: [
                "CancelflowCore",
                "CancelflowBilling",
                "CancelflowAPI",
                "CancelflowStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // GeneratedSources/ is written by scripts/generate-client and committed (the generator's
        // build plugin would cost minutes on every clean build); the rest is hand-written.
        .target(
            name: "CancelflowClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // examples/swift: a "Cancel subscription" backend on the SDK, built with the package so
        // that the examples test runs it without a second build of Hummingbird.
        .executableTarget(
            name: "cancel-link-example",
            dependencies: ["CancelflowClient", .product(name: "Hummingbird", package: "hummingbird")],
            path: "examples/swift",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cancelflow",
            dependencies: [
                "CancelflowApp",
                "CancelflowStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CancelflowTestSupport",
            dependencies: [
                "CancelflowApp",
                "CancelflowStore",
                "CancelflowCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/CancelflowTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CancelflowCoreTests",
            dependencies: ["CancelflowCore", "CancelflowAPI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CancelflowStoreTests",
            dependencies: ["CancelflowStore", "CancelflowSQLite", "CancelflowCore", "CancelflowTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CancelflowAppTests",
            dependencies: [
                "CancelflowApp",
                "CancelflowClient",
                "CancelflowAPI",
                "CancelflowTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
