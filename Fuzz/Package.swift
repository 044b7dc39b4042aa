// swift-tools-version:6.1
// libFuzzer targets for Skein's untrusted-input surfaces, kept out of the main package so
// `swift test` stays light. Each target is an executable whose entry point is libFuzzer's
// `LLVMFuzzerTestOneInput`; it only links when built with the fuzzer sanitizer:
//
//   Fuzz/run                   # builds both and runs each for 60 s on its seed corpus
//   Fuzz/run thrift 300        # one target, for 300 s
//
// fuzz-thrift: the frame decoder and the binary protocol reader (headers, generated structs,
//              skipping) under tight ThriftLimits.
// fuzz-idl:    the Thrift IDL lexer, parser, resolver and Swift generator.

import PackageDescription

let package = Package(
  name: "skein-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    // Named explicitly: the checkout folder (and so the default identity) varies.
    .package(name: "skein", path: "../"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
  ],
  targets: [
    .executableTarget(
      name: "fuzz-thrift",
      dependencies: [
        .product(name: "SkeinThrift", package: "skein"),
        .product(name: "SkeinDemoIDL", package: "skein"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ]
    ),
    .executableTarget(
      name: "fuzz-idl",
      dependencies: [.product(name: "SkeinIDL", package: "skein")]
    ),
  ]
)
