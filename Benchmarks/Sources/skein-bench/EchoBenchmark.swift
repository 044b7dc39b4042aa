import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP2
import NIOPosix
import SkeinThrift

/// Load test of servers answering ExampleService.Visit (`Resp = "hello, " + Name`), all driven
/// by the same closed-loop load client on one event loop thread, then Skein's ratios to the
/// others against the project's targets.
struct EchoBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "echo",
    abstract: "RPC load test: Skein vs plain SwiftNIO, Apache Thrift C++ and grpc-swift-2.",
    discussion: """
      Each server runs as its own process on a free loopback port. For each concurrency C \
      the client keeps C calls in flight over min(C, --max-connections) connections \
      (several per connection, pipelined, when C is larger), warms up, then measures for \
      --seconds. Server CPU is utime+stime from /proc/PID/stat over the timed window \
      (100% = one core), and per call in µs; RSS is VmRSS at its end. Client CPU is this \
      process over the same window; other CPU is what the rest of the machine used meanwhile \
      (noise).

      Build everything first, then run:
        cd Benchmarks && swift build -c release --scratch-path .build-bench
        .build-bench/release/skein-bench echo
        .build-bench/release/skein-bench echo --servers skein,nio --rounds 3

      The skein row needs ../.build/release/skein (swift build -c release --product skein \
      in the main package, or --build-skein); without it the row says why and the rest \
      goes on.
      """
  )

  @Option(
    help: """
      Servers, comma separated: skein, nio, thrift-cpp, grpc, and two variants for checks: \
      grpc-nio-executor (the gRPC server on NIO's executor), grpc-swift-client (the gRPC \
      server driven by grpc-swift-2's own client).
      """
  )
  var servers = "skein,nio,thrift-cpp,grpc"

  @Option(help: "Calls in flight, comma separated; one run per value.")
  var concurrency = "1,64,256"

  @Option(help: "Bytes of Name (of the gRPC message) per call.")
  var payload = 1024

  @Option(help: "Seconds of each timed run.")
  var seconds = 5.0

  @Option(help: "Seconds of warm-up before each timed run.")
  var warmup = 1.0

  @Option(help: "Timed runs per server and level; the tables show the median by QPS.")
  var rounds = 1

  @Option(help: "Most connections per run; calls beyond are pipelined on them.")
  var maxConnections = 64

  @Option(help: "The skein executable (default: ../.build/release/skein).")
  var skeinPath: String?

  @Flag(help: "Build skein first (swift build -c release --product skein in the main package).")
  var buildSkein = false

  @Option(help: "IO threads of the Apache Thrift C++ TNonblockingServer.")
  var thriftIOThreads = 2

  @Option(help: "Worker threads of the C++ server (0: process calls on the IO threads).")
  var thriftWorkers = 0

  @Option(help: "Event loop threads of the plain NIO server.")
  var nioThreads = 2

  @Flag(help: "Print one JSON object instead of the tables.")
  var json = false

  /// The parsed `--servers`.
  private func selectedServers() throws -> [EchoServer] {
    try servers.split(separator: ",").map {
      let name = $0.trimmingCharacters(in: .whitespaces)
      guard let server = EchoServer(rawValue: name) else {
        let known = EchoServer.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("unknown server '\(name)' (known: \(known))")
      }
      return server
    }
  }

  /// The parsed `--concurrency`.
  private func concurrencies() throws -> [Int] {
    try concurrency.split(separator: ",").map {
      guard let value = Int($0.trimmingCharacters(in: .whitespaces)), value > 0 else {
        throw ValidationError("bad concurrency '\($0)'")
      }
      return value
    }
  }

  func run() async throws {
    let servers = try selectedServers()
    let levels = try concurrencies()
    guard payload >= 0, seconds > 0, warmup >= 0, maxConnections > 0, rounds > 0 else {
      throw ValidationError(
        "--payload, --seconds, --warmup, --rounds and --max-connections must be positive"
      )
    }
    let settings = ServerSettings(
      skeinPath: skeinPath,
      buildSkein: buildSkein,
      thriftIOThreads: thriftIOThreads,
      thriftWorkers: thriftWorkers,
      nioThreads: nioThreads
    )
    let client = LoadClient(
      payload: payload,
      seconds: seconds,
      warmup: warmup,
      maxConnections: maxConnections
    )
    defer { client.shutdown() }

    // Every selected server is started first and runs stay interleaved (each level, each
    // round, each server in turn), so a noisy neighbour skews one server less than another.
    var outcomes = servers.map(ServerOutcome.init(server:))
    var running: [(index: Int, process: ServerProcess, port: Int)] = []
    defer { for entry in running { entry.process.stop() } }
    for (index, server) in servers.enumerated() {
      if let (process, port) = start(server, settings: settings, outcome: &outcomes[index]) {
        running.append((index, process, port))
      }
    }
    for level in levels {
      for round in 1...rounds {
        for entry in running {
          let name = outcomes[entry.index].server.rawValue
          guard entry.process.isRunning else {
            if outcomes[entry.index].stopped == nil {
              let reason =
                "exited (\(entry.process.exitDescription)) during the runs: "
                + entry.process.logTail()
              outcomes[entry.index].stopped = reason
              progress("\(name) \(reason)")
            }
            continue
          }
          progress("\(name): concurrency \(level), round \(round) of \(rounds)…")
          do {
            let result = try await client.run(
              wire: outcomes[entry.index].server.wire,
              port: entry.port,
              serverPID: entry.process.pid,
              concurrency: level
            )
            outcomes[entry.index].runs.append(result)
            progress("  \(fixed(result.qps, 0)) calls/s")
            if let error = result.firstError {
              progress("  errors: \(result.errors), first: \(error)")
            }
          } catch {
            outcomes[entry.index].runs.append(RunResult(failedAt: level, "\(error)"))
            progress("  failed: \(error)")
          }
        }
      }
    }
    let report = EchoReport(
      payload: payload,
      seconds: seconds,
      warmup: warmup,
      rounds: rounds,
      maxConnections: maxConnections,
      levels: levels,
      outcomes: outcomes,
      notes: notes(for: servers)
    )
    if json {
      print(try report.json())
    } else {
      report.printTables()
    }
  }

  /// How the selected servers and the client were configured, for the report.
  private func notes(for servers: [EchoServer]) -> [String] {
    var notes = ["load client: 1 event loop thread, calls pipelined per connection"]
    if servers.contains(.thriftCpp) {
      notes.append(
        "thrift-cpp: TNonblockingServer, \(thriftIOThreads) IO thread(s), "
          + "\(thriftWorkers) worker thread(s)"
      )
    }
    if servers.contains(.nio) { notes.append("nio: \(nioThreads) event loop thread(s)") }
    if servers.contains(where: { $0.wire == .grpc }) {
      notes.append(
        "grpc: grpc-swift-2 server on NIO's default event loops (one per core); the load "
          + "client speaks HTTP/2 itself, one stream per call"
      )
    }
    if servers.contains(.grpcSwiftClient) {
      notes.append(
        "grpc-swift-client: the grpc server driven by grpc-swift-2's GRPCClient instead "
          + "(one connection, one task per call in flight)"
      )
    }
    return notes
  }

  /// Starts `server` and waits until it listens; on failure, records why in `outcome`.
  private func start(
    _ server: EchoServer,
    settings: ServerSettings,
    outcome: inout ServerOutcome
  ) -> (ServerProcess, Int)? {
    let launch: ServerLaunch
    do {
      launch = try settings.launch(server)
    } catch {
      outcome.unavailable = "\(error)"
      progress("\(server.rawValue): not available: \(error)")
      return nil
    }
    outcome.command = launch.commandLine
    let process: ServerProcess
    let port: Int
    do {
      port = try freeLoopbackPort()
      process = try ServerProcess(
        name: server.rawValue,
        executable: launch.executable,
        arguments: launch.arguments(port: port)
      )
    } catch {
      outcome.unavailable = "could not start: \(error)"
      progress("\(server.rawValue): could not start: \(error)")
      return nil
    }
    do {
      try process.waitUntilListening(port: port, timeout: 20)
    } catch {
      process.stop()
      outcome.unavailable = "\(error)"
      progress("\(server.rawValue): \(error)")
      return nil
    }
    progress(
      "\(server.rawValue): \(launch.commandLine.replacingOccurrences(of: "{port}", with: String(port)))"
    )
    return (process, port)
  }
}

/// Writes a progress line to stderr, so `--json` output stays clean.
func progress(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// The figures of one timed run.
struct RunResult: Sendable {
  /// Calls in flight.
  var concurrency: Int
  /// Connections they were spread over.
  var connections = 0
  /// Calls completed per second in the timed window.
  var qps = 0.0
  /// Latency percentiles.
  var latency: LatencySummary?
  /// Length of the timed window, seconds.
  var windowSeconds = 0.0
  /// Calls that failed.
  var errors = 0
  /// Replies that overtook an earlier call on their connection (Thrift servers only).
  var overtaking = 0
  /// Why the first one failed, or why the run could not happen.
  var firstError: String?
  /// The server's CPU over the window, percent of one core.
  var serverCPU: Double?
  /// The server's resident memory at the end of the window, KiB.
  var serverRSSKiB: Int?
  /// The load client's CPU over the window, percent of one core.
  var clientCPU: Double?
  /// CPU the whole machine used over the window (all processes), percent of one core.
  var machineCPU: Double?

  /// CPU used by processes other than the server and the client: the noise of the run.
  var otherCPU: Double? {
    guard let machineCPU, let serverCPU, let clientCPU else { return nil }
    return max(0, machineCPU - serverCPU - clientCPU)
  }

  /// The server's CPU time per call, microseconds: what a call costs the server, which QPS
  /// hides where a run is bound by latency (c=1) or by the client rather than by the server.
  var serverMicrosecondsPerCall: Double? {
    guard let serverCPU, qps > 0 else { return nil }
    return serverCPU / 100 / qps * 1_000_000
  }

  /// A run that could not be done.
  init(failedAt concurrency: Int, _ reason: String) {
    self.concurrency = concurrency
    self.firstError = reason
  }

  /// A run that was done.
  init(concurrency: Int) {
    self.concurrency = concurrency
  }

  /// Whether the run produced figures.
  var measured: Bool { latency != nil }
}

/// What was measured of one server.
struct ServerOutcome: Sendable {
  /// Which server.
  var server: EchoServer
  /// Why it could not be measured at all, if so.
  var unavailable: String?
  /// Why it stopped answering part way, if it did.
  var stopped: String?
  /// How it was started.
  var command: String?
  /// Every run, each round of each concurrency level.
  var runs: [RunResult] = []

  /// Creates an outcome with nothing measured yet.
  init(server: EchoServer) {
    self.server = server
  }

  /// The measured runs at `concurrency`, by increasing QPS.
  func rounds(at concurrency: Int) -> [RunResult] {
    runs.filter { $0.concurrency == concurrency && $0.measured }.sorted { $0.qps < $1.qps }
  }

  /// The run at `concurrency` with the median QPS (the lower one of an even count), if any
  /// produced figures.
  func run(at concurrency: Int) -> RunResult? {
    let measured = rounds(at: concurrency)
    return measured.isEmpty ? nil : measured[(measured.count - 1) / 2]
  }
}

/// The load client: one event loop thread shared by every connection of every run.
final class LoadClient: Sendable {
  /// The client's only thread.
  private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  /// Bytes of `Name` per call.
  let payload: Int
  /// Seconds of each timed window.
  let seconds: Double
  /// Seconds of warm-up before it.
  let warmup: Double
  /// Most connections per run.
  let maxConnections: Int

  /// Creates the client and its thread.
  init(payload: Int, seconds: Double, warmup: Double, maxConnections: Int) {
    self.payload = payload
    self.seconds = seconds
    self.warmup = warmup
    self.maxConnections = maxConnections
  }

  /// Stops the client's thread.
  func shutdown() {
    try? group.syncShutdownGracefully()
  }

  /// Connects, warms up, measures for `seconds` and returns the figures.
  func run(
    wire: EchoServer.Wire,
    port: Int,
    serverPID: Int32,
    concurrency: Int
  ) async throws -> RunResult {
    if wire == .grpcSwiftClient {
      return try await GRPCSwiftClientLoad.run(
        port: port,
        serverPID: serverPID,
        concurrency: concurrency,
        payload: payload,
        warmup: warmup,
        seconds: seconds,
        eventLoopGroup: group
      )
    }
    let loop = group.next()
    let connections = min(concurrency, maxConnections)
    let depths = (0..<connections).map {
      concurrency / connections + ($0 < concurrency % connections ? 1 : 0)
    }
    let run = LoadRun(
      eventLoop: loop,
      serverPID: serverPID,
      expectedCalls: Int(seconds * 200_000)
    )
    let thriftRequest = wire == .thrift ? try ThriftVisitRequest(payload: payload) : nil
    let grpcRequest = wire == .grpc ? GRPCVisitRequest(port: port, payload: payload) : nil

    var channels: [any Channel] = []
    do {
      for depth in depths {
        let bootstrap = ClientBootstrap(group: loop)
          .channelOption(.socketOption(.tcp_nodelay), value: 1)
          .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
              let pipeline = channel.pipeline.syncOperations
              if let thriftRequest {
                try pipeline.addHandler(ByteToMessageHandler(ThriftFrameDecoder()))
                try pipeline.addHandler(
                  ThriftLoadHandler(run: run, request: thriftRequest, depth: depth)
                )
              } else if let grpcRequest {
                try pipeline.addHandler(NIOHTTP2Handler(mode: .client))
                try pipeline.addHandler(
                  GRPCLoadHandler(run: run, request: grpcRequest, depth: depth)
                )
              }
            }
          }
        channels.append(try await bootstrap.connect(host: "127.0.0.1", port: port).get())
      }
    } catch {
      for channel in channels { try? await channel.close() }
      _ = try? await loop.submit { run.giveUpDraining(after: 0) }.get()
      throw error
    }
    let started = channels
    try await loop.submit { run.start(started) }.get()
    try await Task.sleep(for: .seconds(warmup))
    try await loop.submit { run.beginMeasuring() }.get()
    try await Task.sleep(for: .seconds(seconds))
    let rss = try await loop.submit {
      run.endMeasuring()
      return ProcessStats.residentKiB(String(serverPID))
    }.get()
    let grace = 3.0
    loop.scheduleTask(in: .seconds(Int64(grace))) { run.giveUpDraining(after: grace) }
    try await run.drained.futureResult.get()
    for channel in channels { try? await channel.close() }

    return try await loop.submit {
      var result = RunResult(concurrency: concurrency)
      result.connections = connections
      result.windowSeconds = Double(run.windowEnd &- run.windowStart) / 1e9
      result.qps = Double(run.latencies.count) / max(result.windowSeconds, 1e-9)
      result.latency = LatencySummary(sorting: &run.latencies)
      result.errors = run.errors
      result.overtaking = run.overtaking
      result.firstError = run.firstError
      if let start = run.serverCPUStart, let end = run.serverCPUEnd {
        result.serverCPU = (end - start) / result.windowSeconds * 100
      }
      if let start = run.clientCPUStart, let end = run.clientCPUEnd {
        result.clientCPU = (end - start) / result.windowSeconds * 100
      }
      if let start = run.machineCPUStart, let end = run.machineCPUEnd {
        result.machineCPU = (end - start) / result.windowSeconds * 100
      }
      result.serverRSSKiB = rss
      return result
    }.get()
  }
}
