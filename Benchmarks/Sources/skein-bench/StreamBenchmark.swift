import ArgumentParser
import Foundation
import SkeinDemoIDL
import SkeinMetrics
import SkeinRPC
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// `skein-bench stream`: what following a mesh's metrics stream costs the client (what
/// `skein stats --watch` and the dashboard run): many nodes, each with many routes, one
/// snapshot a second each.
struct StreamBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stream",
    abstract: "CPU of the stream client following N nodes × M routes at a 1 s interval.",
    discussion: """
      Starts a second process of this benchmark that serves --nodes admin endpoints on \
      loopback, each with --routes routes recorded by the metrics middleware, streaming one \
      snapshot per second. This process subscribes to all of them with MeshStatsClient.watch, \
      as skein stats --watch does, and measures its own CPU time over --seconds after a warm-up.
      Target: under 5% of one core for 200 nodes × 50 routes.
      """
  )

  @Option(help: "Nodes to follow.")
  var nodes = 200

  @Option(help: "Routes per node.")
  var routes = 50

  @Option(help: "Seconds measured, after 5 s of warm-up.")
  var seconds = 20

  func run() async throws {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).path
    let producer = Process()
    producer.executableURL = URL(fileURLWithPath: executable)
    producer.arguments = ["stream-nodes", "--nodes", String(nodes), "--routes", String(routes)]
    let output = Pipe()
    producer.standardOutput = output
    try producer.run()
    defer { producer.terminate() }
    // The producer's one line: every admin endpoint's address.
    // One read(2) at a time: FileHandle's readers wait for a count or the end of the pipe.
    var line = Data()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    let descriptor = output.fileHandleForReading.fileDescriptor
    while !line.contains(UInt8(ascii: "\n")) {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { throw PeerError("stream-nodes ended before listing its endpoints") }
      line.append(contentsOf: buffer[0..<count])
    }
    let addresses = try String(decoding: line, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
      .map { try InstanceAddress(parsing: String($0)) }
    print("Stream client: \(addresses.count) nodes × \(routes) routes, 1 s interval")
    let updates = Counter()
    let (list, feed) = AsyncStream.makeStream(of: [InstanceAddress].self)
    feed.yield(addresses)
    let expected = addresses.count * routes
    let watching = Task {
      await MeshStatsClient().watch(list, every: .seconds(1)) { stats in
        updates.add(complete: stats.routes.count == expected && stats.nodes.allSatisfy(\.up))
      }
    }
    try await Task.sleep(for: .seconds(5))
    let (cpuBefore, before) = (MetricsBenchmark.processCPUNanoseconds(), updates.value)
    let started = ContinuousClock.now
    try await Task.sleep(for: .seconds(seconds))
    let elapsed = Double((ContinuousClock.now - started).components.seconds)
    let cpu = Double(MetricsBenchmark.processCPUNanoseconds() - cpuBefore) / 1e9
    let after = updates.value
    watching.cancel()
    let percent = cpu / elapsed * 100
    print(
      "updates: \(after.total - before.total) in \(Int(elapsed)) s, "
        + "\(after.complete - before.complete) with all \(expected) routes and every node up"
    )
    print("client CPU: \(String(format: "%.2f", percent))% of one core")
    print("target: under 5% of one core: \(percent < 5 ? "PASS" : "MISS")")
  }

  /// Updates seen, and those that were complete.
  final class Counter: Sendable {
    private let state = Mutex((total: 0, complete: 0))

    func add(complete: Bool) {
      state.withLock {
        $0.total += 1
        $0.complete += complete ? 1 : 0
      }
    }

    var value: (total: Int, complete: Int) { state.withLock { $0 } }
  }
}

/// `skein-bench stream-nodes`: the producer side of `stream`, in a process of its own so the
/// client's CPU is measured alone.
struct StreamNodes: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stream-nodes",
    abstract: "Serve N admin endpoints with M routes each (the producer of `stream`).",
    shouldDisplay: false
  )

  @Option var nodes = 200
  @Option var routes = 50

  func run() async throws {
    var servers: [AdminServer] = []
    for node in 0..<nodes {
      let aggregator = MetricsAggregator()
      let chain = MiddlewareChain([
        MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())
      ])
      for route in 0..<routes {
        let context = CallContext(
          route: try FiveTuple(path: "/node\(node)/c1/service\(route)/c1/Visit"),
          logID: "bench",
          deadline: nil
        )
        for _ in 0..<10 {
          _ = try await chain.wrap(MetricsBenchmark.answering)(
            context,
            ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: "x"))
          )
        }
      }
      servers.append(
        try await AdminServer.bind(
          snapshotter: Snapshotter(
            identity: .init(service: "node\(node)", cluster: "c1", instance: "0", address: nil),
            aggregator: aggregator
          )
        )
      )
    }
    // Unbuffered: the client waits for this line.
    try FileHandle.standardOutput.write(
      contentsOf: Data((servers.map(\.localAddress.description).joined(separator: ",") + "\n").utf8)
    )
    try await withThrowingDiscardingTaskGroup { group in
      for server in servers { group.addTask { try await server.run() } }
    }
  }
}
