// swift-tools-version:6.1
// Skein's benchmarks, kept out of the main package so `swift test` stays light. Peers (Apache
// Thrift C++, later grpc-swift-2) are built here, never in the main package.
//
//   cd Benchmarks && swift run -c release skein-bench codec

import PackageDescription

let package = Package(
  name: "skein-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    // Named explicitly: the checkout folder (and so the default identity) varies.
    .package(name: "skein", path: "../"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
  ],
  targets: [
    .executableTarget(
      name: "skein-bench",
      dependencies: [
        .product(name: "SkeinThrift", package: "skein"),
        .product(name: "SkeinDemoIDL", package: "skein"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    )
  ]
)
