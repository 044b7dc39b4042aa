// swift-tools-version:6.1
// Skein: a Thrift RPC framework for Swift and the terminal dashboard that steers a mesh built
// with it. The layers are described in docs/ARCHITECTURE.md; lower targets never import higher.

import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "skein",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "skein", targets: ["skein"]),
    .executable(name: "skein-gen", targets: ["skein-gen"]),
    .library(name: "SkeinThrift", targets: ["SkeinThrift"]),
    .library(name: "SkeinIDL", targets: ["SkeinIDL"]),
    .library(name: "SkeinRPC", targets: ["SkeinRPC"]),
    .library(name: "SkeinGovernance", targets: ["SkeinGovernance"]),
    .library(name: "SkeinMetrics", targets: ["SkeinMetrics"]),
    .library(name: "SkeinDashboard", targets: ["SkeinDashboard"]),
    // The demo IDL's generated code, for benchmarks and examples outside this package.
    .library(name: "SkeinDemoIDL", targets: ["SkeinDemoIDL"]),
    .plugin(name: "SkeinThriftPlugin", targets: ["SkeinThriftPlugin"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    // TLS to etcd; async-http-client brings it in already.
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
  ],
  targets: [
    // The wire: Thrift binary protocol, framed transport, limits, application exceptions.
    .target(
      name: "SkeinThrift",
      dependencies: [.product(name: "NIOCore", package: "swift-nio")],
      swiftSettings: strictSettings
    ),
    // The RPC runtime: naming, call context, middleware, server, client and pool.
    .target(
      name: "SkeinRPC",
      dependencies: [
        "SkeinThrift",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strictSettings
    ),
    // The small HTTP/1.1 server of the embedded config store and the nodes' admin endpoints.
    .target(
      name: "SkeinHTTP",
      dependencies: [
        "SkeinRPC",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    // Governance: the config store (memory and etcd), registry, balancers, breakers, switches.
    .target(
      name: "SkeinGovernance",
      dependencies: [
        "SkeinHTTP",
        "SkeinRPC",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: strictSettings
    ),
    // Metrics: per-route counts and latency histograms through swift-metrics, task gauge,
    // interval snapshots.
    .target(
      name: "SkeinMetrics",
      dependencies: [
        "SkeinGovernance",
        "SkeinHTTP",
        "SkeinRPC",
        "SkeinThrift",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ],
      swiftSettings: strictSettings
    ),
    // Thrift IDL parser and Swift code generator; no runtime dependencies.
    .target(name: "SkeinIDL", swiftSettings: strictSettings),
    // The `gen` command, shared by `skein gen` and the `skein-gen` tool the plugin runs.
    .target(
      name: "SkeinGenCommand",
      dependencies: [
        "SkeinIDL",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strictSettings
    ),
    // Code generated from demo/idl/*.thrift, committed and checked by a test.
    .target(
      name: "SkeinDemoIDL",
      dependencies: ["SkeinThrift"],
      swiftSettings: strictSettings
    ),
    // The seed service's handler, shared by `skein example` and the tests.
    .target(
      name: "SkeinExample",
      dependencies: ["SkeinDemoIDL", "SkeinRPC"],
      swiftSettings: strictSettings
    ),
    // The demo mesh: `demo/mesh.yaml` validated, and the nodes and load generator that run it.
    .target(
      name: "SkeinMesh",
      dependencies: [
        "SkeinIDL",
        "SkeinRPC",
        "SkeinThrift",
        "SkeinGovernance",
        "SkeinHTTP",
        "SkeinMetrics",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Yams", package: "Yams"),
      ],
      swiftSettings: strictSettings
    ),
    // ncurses (libncursesw) for the dashboard's terminal, through a shim Swift can import.
    .systemLibrary(name: "CNCurses", path: "Sources/CNCurses"),
    // The dashboard: state, keys and layout in pure Swift; the ncurses terminal behind them.
    .target(
      name: "SkeinDashboard",
      dependencies: [
        "CNCurses",
        "SkeinGovernance",
        "SkeinHTTP",
        "SkeinMesh",
        "SkeinMetrics",
        "SkeinRPC",
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "skein",
      dependencies: [
        "SkeinGenCommand",
        "SkeinGovernance",
        "SkeinDashboard",
        "SkeinHTTP",
        "SkeinMesh",
        "SkeinMetrics",
        "SkeinRPC",
        "SkeinDemoIDL",
        "SkeinExample",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strictSettings
    ),
    // A small tool with only the generator in it, so the build plugin stays quick to build.
    .executableTarget(
      name: "skein-gen",
      dependencies: [
        "SkeinGenCommand",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strictSettings
    ),
    .plugin(
      name: "SkeinThriftPlugin",
      capability: .buildTool(),
      dependencies: ["skein-gen"]
    ),
    // Helpers for tests that drive real peers (etcd, Apache Thrift); used by tests only.
    .target(name: "SkeinTestSupport", swiftSettings: strictSettings),

    .testTarget(
      name: "SkeinThriftTests",
      dependencies: [
        "SkeinThrift",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "SkeinIDLTests",
      dependencies: ["SkeinIDL"],
      swiftSettings: strictSettings
    ),
    // Code the plugin generates from the generator's hard cases, exercised end to end.
    .testTarget(
      name: "SkeinGeneratedCodeTests",
      dependencies: ["SkeinThrift", .product(name: "NIOCore", package: "swift-nio")],
      swiftSettings: strictSettings,
      plugins: ["SkeinThriftPlugin"]
    ),
    // The config store contract, run against every store.
    .testTarget(
      name: "SkeinGovernanceTests",
      dependencies: [
        "SkeinGovernance",
        "SkeinMesh",
        "SkeinMetrics",
        "SkeinRPC",
        "SkeinTestSupport",
        "SkeinThrift",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    // Metrics: known traffic through a real server and client, counted exactly.
    .testTarget(
      name: "SkeinMetricsTests",
      dependencies: [
        "SkeinMetrics",
        "SkeinGovernance",
        "SkeinRPC",
        "SkeinDemoIDL",
        "SkeinTestSupport",
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    // The RPC runtime on real loopback sockets.
    .testTarget(
      name: "SkeinRPCTests",
      dependencies: [
        "SkeinRPC",
        "SkeinTestSupport",
        "SkeinThrift",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strictSettings,
      plugins: ["SkeinThriftPlugin"]
    ),
    // The `skein` command as users run it, against Apache Thrift peers.
    .testTarget(
      name: "SkeinCLITests",
      dependencies: ["SkeinRPC", "SkeinDemoIDL", "SkeinMetrics", "SkeinTestSupport"],
      exclude: ["example_peer.py"],
      swiftSettings: strictSettings
    ),
    // The dashboard's state, keys, layout and themes, against an in-memory screen.
    .testTarget(
      name: "SkeinDashboardTests",
      dependencies: [
        "SkeinDashboard", "SkeinMetrics", "SkeinRPC", "SkeinGovernance", "SkeinTestSupport",
      ],
      swiftSettings: strictSettings
    ),
    // The mesh file: the default mesh, every validation error, and `skein mesh check`.
    .testTarget(
      name: "SkeinMeshTests",
      dependencies: [
        "SkeinMesh", "SkeinRPC", "SkeinGovernance", "SkeinMetrics", "SkeinThrift",
        "SkeinTestSupport",
      ],
      exclude: ["mesh_peer.py"],
      swiftSettings: strictSettings
    ),
    // Apache Thrift's Python library as the peer; the Swift side is generated by the plugin.
    .testTarget(
      name: "SkeinInteropTests",
      dependencies: [
        "SkeinThrift",
        "SkeinTestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      exclude: ["interop_peer.py"],
      swiftSettings: strictSettings,
      plugins: ["SkeinThriftPlugin"]
    ),
  ]
)
