import ArgumentParser
import Foundation
import SkeinGovernance
import SkeinMetrics
import SkeinRPC

/// `skein stats`: the merged figures of a mesh's nodes, as a table or as JSON.
struct StatsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "Print a mesh's routes and nodes, merged from the nodes' admin endpoints.",
    discussion: """
      Each node serves its figures on its admin endpoint (GET /snapshot, /stream, /metrics) \
      and registers it in the config store; name the nodes with --nodes, or let the registry \
      (--registry) list them, and follow nodes as they come and go with --watch. \
      Routes are shown as their callers saw them, summed over caller instances; counts are \
      since each node started, QPS and latency over the last interval (latency percentiles \
      are the largest among the callers). A node that does not answer is listed as down.

      Examples:
        skein stats --registry memory://127.0.0.1:2380
        skein stats --registry etcd://127.0.0.1:2379 --watch
        skein stats --nodes 127.0.0.1:9101,127.0.0.1:9102
        skein stats --nodes 127.0.0.1:9101 --json
        skein stats --nodes 127.0.0.1:9101 --watch
        SKEIN_ETCD_PASSWORD=… skein stats --registry etcd://viewer@10.0.0.5:2379

      Reading needs no token from an embedded store and only read rights on /skein/ from an \
      etcd with authentication (--etcd-user or etcd://USER@HOST:PORT, $SKEIN_ETCD_PASSWORD).
      """
  )

  @Option(
    help: "Admin endpoints to read, comma separated HOST:PORT.",
    transform: { list in
      try list.split(separator: ",").map { item in
        do { return try InstanceAddress(parsing: String(item)) } catch {
          throw ValidationError("--nodes: '\(item)' is not HOST:PORT")
        }
      }
    }
  )
  var nodes: [InstanceAddress] = []

  @OptionGroup var store: ControlCommand.StoreOptions
  @OptionGroup var adminToken: AdminTokenOptions

  @Flag(help: "Print JSON (one object; with --watch one per line) instead of the table.")
  var json = false

  @Flag(help: "Keep printing, once per interval, until Ctrl-C.")
  var watch = false

  @Option(help: "Seconds between two prints with --watch.")
  var interval = 1.0

  func validate() throws {
    guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1.") }
  }

  func run() async throws {
    guard nodes.isEmpty else {
      let (list, feed) = AsyncStream.makeStream(of: [InstanceAddress].self)
      feed.yield(nodes)
      try await show(list)
      return
    }
    try await store.withStore { store in
      let registry = Registry(store: store)
      guard watch else {
        // Registered instances that do not answer are listed down under their names.
        let instances = try await registry.allInstances()
        guard instances.contains(where: { $0.adminAddress != nil }) else { throw Self.noNodes }
        try print(
          await MeshStatsClient(token: try adminToken.token()).collect(registered: instances)
        )
        return
      }
      // Registered instances that serve an admin endpoint, as the registry lists them.
      let admins = registry.watchAll().map { instances in
        Array(Set(instances.compactMap(\.adminAddress))).sorted { $0.description < $1.description }
      }
      try await show(admins)
    }
  }

  /// Prints the merged view of the nodes `lists` names: once (from its first list), or with
  /// --watch every interval as the list changes.
  private func show<Lists: AsyncSequence & Sendable>(_ lists: Lists) async throws
  where Lists.Element == [InstanceAddress] {
    let client = MeshStatsClient(token: try adminToken.token())
    guard watch else {
      var iterator = lists.makeAsyncIterator()
      guard let nodes = try await iterator.next(), !nodes.isEmpty else { throw Self.noNodes }
      try print(await client.collect(nodes))
      return
    }
    let json = self.json
    await client.watch(lists, every: .milliseconds(Int64(interval * 1000))) { stats in
      let text = json ? ((try? Self.json(stats)) ?? "") : Self.table(stats) + "\n"
      printNow(text, terminator: "")
    }
  }

  private static let noNodes = ValidationError(
    "No nodes: the registry lists no admin endpoint; name them with --nodes."
  )

  /// Prints the view once; the exit code is 1 when no node answered.
  private func print(_ stats: MeshStats) throws {
    Swift.print(json ? try Self.json(stats) : Self.table(stats), terminator: "")
    if stats.nodes.allSatisfy({ !$0.up }) { throw ExitCode(1) }
  }

  /// The stats as one line of JSON.
  static func json(_ stats: MeshStats) throws -> String {
    String(decoding: try MetricsJSON.line(stats), as: UTF8.self)
  }

  /// The stats as the tables a person reads.
  static func table(_ stats: MeshStats) -> String {
    var routes = [
      ["ROUTE", "QPS", "ERR%", "P50 MS", "P99 MS", "INFLIGHT", "BREAKER", "DEGRADED", "TRAFFIC"]
    ]
    for route in stats.routes {
      let errors = route.errorCount
      let ended = route.successes + errors
      let errorRate =
        ended == 0 ? 0 : Double(errors) / Double(ended) * 100
      routes.append([
        "\(route.from)/\(route.fromCluster) -> \(route.to)/\(route.toCluster).\(route.method)",
        String(format: "%.1f", route.qps),
        String(format: "%.1f", errorRate),
        String(format: "%.2f", route.latencyMilliseconds.p50),
        String(format: "%.2f", route.latencyMilliseconds.p99),
        String(route.inflight),
        route.breaker ?? "-",
        route.degraded.map { $0 ? "yes" : "no" } ?? "-",
        route.traffic.map {
          $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
          ?? "-",
      ])
    }
    var nodes = [["NODE", "ADDRESS", "TASKS", "PEAK", "RSS MIB", "CPU%", "UP"]]
    for node in stats.nodes {
      nodes.append([
        "\(node.service)/\(node.cluster)/\(node.instance)",
        node.address ?? "-",
        String(node.tasks),
        String(node.tasksPeak),
        String(format: "%.1f", Double(node.rssBytes) / 1_048_576),
        String(format: "%.1f", node.cpuPercent),
        node.up ? "yes" : "DOWN",
      ])
    }
    return align(routes) + "\n" + align(nodes)
  }

  /// Left-aligns the first column and right-aligns the others, two spaces apart.
  private static func align(_ rows: [[String]]) -> String {
    let widths = rows.reduce(into: [Int](repeating: 0, count: rows[0].count)) { widths, row in
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        let pad = String(repeating: " ", count: widths[index] - cell.count)
        return index == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
  }
}
