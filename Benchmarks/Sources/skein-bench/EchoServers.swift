import Foundation

/// The servers `skein-bench echo` can load-test, each a separate process it starts and stops.
enum EchoServer: String, CaseIterable, Sendable {
  /// Skein's own server: `skein example serve --port P` from the main package.
  case skein
  /// The plain SwiftNIO server (`nio-echo-server`): the ceiling for a Swift server.
  case nio
  /// Apache Thrift C++ `TNonblockingServer` (`Peers/thrift-cpp/echo_server.cpp`).
  case thriftCpp = "thrift-cpp"
  /// grpc-swift-2's unary echo (`grpc-echo-server`), Swift concurrency on its default executor.
  case grpc
  /// The same gRPC server with NIO's event loops installed as Swift's global executor.
  case grpcNIOExecutor = "grpc-nio-executor"
  /// The `grpc` server driven by grpc-swift-2's own client (one connection, a task per call)
  /// instead of the load client: a cross-check of the gRPC figures.
  case grpcSwiftClient = "grpc-swift-client"

  /// The wire protocol the load client speaks to this server.
  var wire: Wire {
    switch self {
    case .skein, .nio, .thriftCpp: .thrift
    case .grpc, .grpcNIOExecutor: .grpc
    case .grpcSwiftClient: .grpcSwiftClient
    }
  }

  /// The load client's two protocols.
  enum Wire: Sendable {
    /// Framed transport, binary protocol, ExampleService.Visit.
    case thrift
    /// gRPC over HTTP/2 (plaintext), unary `/skein.bench.Echo/Visit`.
    case grpc
    /// The same calls made through grpc-swift-2's `GRPCClient`.
    case grpcSwiftClient
  }
}

/// How to start one server on a given port.
struct ServerLaunch: Sendable {
  /// The program.
  var executable: String
  /// Its arguments before the port is known; `{port}` stands for the port.
  var arguments: [String]

  /// The arguments for a server on `port`.
  func arguments(port: Int) -> [String] {
    arguments.map { $0.replacingOccurrences(of: "{port}", with: String(port)) }
  }

  /// The command line, for the results.
  var commandLine: String {
    ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
  }
}

/// Settings that decide how each server is started.
struct ServerSettings: Sendable {
  /// The `skein` executable (default: the main package's release build).
  var skeinPath: String?
  /// Build it first with `swift build -c release --product skein` in the main package.
  var buildSkein: Bool
  /// Libevent IO threads of the C++ `TNonblockingServer`.
  var thriftIOThreads: Int
  /// Worker threads of the C++ server (0: calls are processed on the IO threads).
  var thriftWorkers: Int
  /// Event loop threads of the plain NIO server.
  var nioThreads: Int

  /// The folder the benchmark executables were built into (this program's own folder).
  static var productsFolder: URL {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
  }

  /// How to start `server`, or an error that says why it cannot be started.
  func launch(_ server: EchoServer) throws -> ServerLaunch {
    switch server {
    case .skein:
      return try skeinLaunch()
    case .nio:
      return ServerLaunch(
        executable: try sibling("nio-echo-server"),
        arguments: ["--port", "{port}", "--threads", String(nioThreads)]
      )
    case .thriftCpp:
      let folder = try PeerProcess.buildThriftPeers()
      return ServerLaunch(
        executable: folder.appendingPathComponent("thrift-echo-server").path,
        arguments: ["{port}", String(thriftIOThreads), String(thriftWorkers)]
      )
    case .grpc, .grpcSwiftClient:
      return ServerLaunch(
        executable: try sibling("grpc-echo-server"),
        arguments: ["--port", "{port}"]
      )
    case .grpcNIOExecutor:
      return ServerLaunch(
        executable: try sibling("grpc-echo-server"),
        arguments: ["--port", "{port}", "--nio-executor"]
      )
    }
  }

  /// An executable built next to `skein-bench`.
  private func sibling(_ name: String) throws -> String {
    let path = Self.productsFolder.appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw PeerError(
        "\(path) not found: build all products with "
          + "`swift build -c release --scratch-path .build-bench` in Benchmarks"
      )
    }
    return path
  }

  /// Finds (and optionally builds) the `skein` executable and checks it has `example serve`.
  private func skeinLaunch() throws -> ServerLaunch {
    let mainPackage = PeerProcess.benchmarksFolder.deletingLastPathComponent()
    if buildSkein {
      _ = try PeerProcess.run(
        "/usr/bin/env",
        [
          "swift", "build", "-c", "release", "--product", "skein", "--package-path",
          mainPackage.path,
        ]
      )
    }
    let path = skeinPath ?? mainPackage.appendingPathComponent(".build/release/skein").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw PeerError(
        "\(path) not found (build it with `swift build -c release --product skein` in "
          + "\(mainPackage.path), or pass --skein-path or --build-skein)"
      )
    }
    do {
      _ = try PeerProcess.run(path, ["example", "serve", "--help"])
    } catch {
      let reason = "\(error)".split(whereSeparator: \.isNewline).prefix(2).joined(separator: " ")
      throw PeerError("\(path) has no working `example serve` command: \(reason)")
    }
    return ServerLaunch(executable: path, arguments: ["example", "serve", "--port", "{port}"])
  }
}
