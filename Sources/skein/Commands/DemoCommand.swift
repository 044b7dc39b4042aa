import ArgumentParser
import Foundation
import SkeinDemoIDL
import SkeinExample
import SkeinRPC
import SkeinThrift
import Synchronization

/// `skein demo`: a small mesh of real RPC nodes on loopback and a live view of its routes.
///
/// Today the view is a line per route per interval on the terminal; the ncurses dashboard,
/// the config store and the metrics stream replace it as they land.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run a demo mesh of real RPC nodes on loopback and show its routes live.",
    discussion: """
      Starts `example` servers in two clusters (c1, c2) on free loopback ports and a `gateway` \
      that calls them through Skein's client, then prints each route's QPS, latency \
      percentiles and errors every interval until Ctrl-C (or --seconds).

      Examples:
        skein demo
        skein demo --instances 3 --concurrency 32 --seconds 10
      """
  )

  @Option(help: "Servers per cluster.")
  var instances = 2

  @Option(help: "Calls the gateway keeps in flight per cluster.")
  var concurrency = 8

  @Option(help: "Milliseconds each server call takes (simulated work).")
  var delayMs = 1

  @Option(help: "Stop after this many seconds (0: run until Ctrl-C).")
  var seconds = 0

  @Option(help: "Seconds between two lines of figures.")
  var interval = 1.0

  func validate() throws {
    guard (1...16).contains(instances) else { throw ValidationError("--instances must be 1-16.") }
    guard (1...1024).contains(concurrency) else {
      throw ValidationError("--concurrency must be 1-1024.")
    }
    guard delayMs >= 0 else { throw ValidationError("--delay-ms cannot be negative.") }
    guard seconds >= 0 else { throw ValidationError("--seconds cannot be negative.") }
    guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1.") }
  }

  func run() async throws {
    let example = try ServiceName("example")
    let gateway = ServiceIdentity(name: try ServiceName("gateway"))
    var servers: [(Cluster, RPCServer<ExampleServiceProcessor<ExampleHandler>>)] = []
    for cluster in [try Cluster("c1"), try Cluster("c2")] {
      for _ in 0..<instances {
        let server = try await RPCServer.bind(
          ExampleServiceProcessor(ExampleHandler(delay: .milliseconds(delayMs))),
          configuration: .init(port: 0, identity: ServiceIdentity(name: example, cluster: cluster))
        )
        servers.append((cluster, server))
      }
    }
    let stats = RouteStats()
    let clients = Dictionary(grouping: servers, by: \.0).map { cluster, members in
      RPCClient(
        configuration: .init(
          caller: gateway,
          target: ServiceIdentity(name: example, cluster: cluster),
          instances: members.map(\.1.localAddress)
        ),
        middleware: [stats]
      )
    }
    print(
      "skein demo: \(servers.count) example servers in c1 and c2, gateway calling with \(concurrency) in flight per cluster"
    )
    for (cluster, server) in servers { print("  example/\(cluster) on \(server.localAddress)") }
    print("Ctrl-C stops. The ncurses dashboard comes with a later release; this is its data.\n")
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (_, server) in servers { group.addTask { try await server.run() } }
      for client in clients {
        let service = ExampleServiceClient(client)
        for worker in 0..<concurrency {
          group.addTask {
            let request = ExampleRequest(name: "demo-\(worker)", id64: Int64(worker), id32: 1)
            while !Task.isCancelled {
              _ = try? await service.visit(req: request)
            }
          }
        }
      }
      group.addTask {
        let started = ContinuousClock.now
        while seconds == 0 || ContinuousClock.now - started < .seconds(seconds) {
          try await Task.sleep(for: .seconds(interval))
          for line in stats.report(interval: interval) { print(line) }
          print("")
        }
      }
      // The reporter ends the demo when --seconds is given; Ctrl-C ends the process.
      try await group.next()
      group.cancelAll()
    }
    for client in clients { await client.shutdown() }
  }
}

/// Counts calls per route and their latencies, one interval at a time. A stand-in for the
/// metrics stream, which will carry the same figures to the dashboard.
final class RouteStats: Middleware {
  private struct Interval {
    var latencies: [Double] = []
    var errors: [String: Int] = [:]
  }

  private let routes = Mutex<[FiveTuple: Interval]>([:])

  func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    let started = ContinuousClock.now
    do {
      let result = try await next(context, args)
      let milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
      routes.withLock { $0[context.route, default: Interval()].latencies.append(milliseconds) }
      return result
    } catch {
      let kind = (error as? RPCError)?.code.name ?? "other"
      routes.withLock { $0[context.route, default: Interval()].errors[kind, default: 0] += 1 }
      throw error
    }
  }

  /// One line per route for the interval just ended, and a fresh interval.
  func report(interval: Double) -> [String] {
    let taken = routes.withLock { routes in
      defer { routes.removeAll(keepingCapacity: true) }
      return routes
    }
    let header =
      "route".padding(toLength: 44, withPad: " ", startingAt: 0)
      + "     qps   p50 ms   p99 ms   errors"
    return [header]
      + taken.sorted(by: { $0.key < $1.key }).map { route, figures in
        let sorted = figures.latencies.sorted()
        let errors = figures.errors.values.reduce(0, +)
        return route.path.padding(toLength: 44, withPad: " ", startingAt: 0)
          + String(
            format: "%8.0f %8.3f %8.3f %8d",
            Double(sorted.count) / interval,
            nearestRank(sorted, percent: 50) ?? 0,
            nearestRank(sorted, percent: 99) ?? 0,
            errors
          )
      }
  }
}
