// swift-tools-version:6.1
// Skein's benchmarks, kept out of the main package so `swift test` stays light. Peers (Apache
// Thrift C++, a plain SwiftNIO server, grpc-swift-2) are built here, never in the main package.
//
//   cd Benchmarks && swift build -c release --scratch-path .build-bench
//   .build-bench/release/skein-bench codec
//   .build-bench/release/skein-bench echo            # skein, nio, thrift-cpp, grpc; see --help
//   .build-bench/release/skein-bench propagation     # degrade switch to 10 callers: memory, etcd
//   .build-bench/release/skein-bench metrics         # metrics middleware cost per call
//   .build-bench/release/skein-bench stream          # the stream client on 200 nodes × 50 routes
//   .build-bench/release/skein-bench dashboard       # a 5,000-route frame; the dashboard's CPU
//
// `echo` starts its servers itself: nio-echo-server and grpc-echo-server from this build, the
// C++ peer through Peers/thrift-cpp/build.sh, and ../.build/release/skein (built in the main
// package with `swift build -c release --product skein`; --build-skein does it).

import PackageDescription

let package = Package(
  name: "skein-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    // Named explicitly: the checkout folder (and so the default identity) varies.
    .package(name: "skein", path: "../"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.42.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    // Only these versions are in the local mirror.
    .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
  ],
  targets: [
    .executableTarget(
      name: "skein-bench",
      dependencies: [
        .product(name: "SkeinThrift", package: "skein"),
        .product(name: "SkeinDemoIDL", package: "skein"),
        .product(name: "SkeinRPC", package: "skein"),
        .product(name: "SkeinGovernance", package: "skein"),
        .product(name: "SkeinMetrics", package: "skein"),
        .product(name: "SkeinDashboard", package: "skein"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        "GRPCEchoSupport",
      ]
    ),
    // The ceiling: a plain SwiftNIO server answering ExampleService.Visit, no framework.
    .executableTarget(
      name: "nio-echo-server",
      dependencies: [
        .product(name: "SkeinThrift", package: "skein"),
        .product(name: "SkeinDemoIDL", package: "skein"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // The gRPC echo method and its raw-bytes coders, shared by the server and the load client.
    .target(
      name: "GRPCEchoSupport",
      dependencies: [.product(name: "GRPCCore", package: "grpc-swift-2")],
      swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
    ),
    // grpc-swift-2's unary echo over its HTTP/2 NIO transport, with a raw-bytes serializer.
    .executableTarget(
      name: "grpc-echo-server",
      dependencies: [
        "GRPCEchoSupport",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
  ]
)
