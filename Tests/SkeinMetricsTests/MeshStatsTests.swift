import CoreMetrics
import Foundation
import SkeinRPC
import Testing

@testable import SkeinMetrics

@Suite("Merged mesh view", .timeLimit(.minutes(1)))
struct MeshStatsTests {
  private func route(
    _ side: MetricsMiddleware.Side,
    requests: Int64,
    errors: [String: Int64] = [:],
    qps: Double,
    p99: Double,
    breaker: String? = nil,
    method: String = "Get"
  ) -> RouteStats {
    RouteStats(
      side: side,
      from: "gateway",
      fromCluster: "c1",
      to: "feed",
      toCluster: "c2",
      method: method,
      requests: requests,
      successes: requests - errors.values.reduce(0, +),
      errors: errors,
      qps: qps,
      latencyMilliseconds: .init(p50: p99 / 2, p90: p99 / 1.5, p99: p99, p999: p99, max: p99),
      inflight: 1,
      breaker: breaker
    )
  }

  private func node(_ instance: String, _ routes: [RouteStats]) -> NodeSnapshot {
    NodeSnapshot(
      timeMilliseconds: 0,
      intervalSeconds: 1,
      node: NodeStats(
        service: "gateway",
        cluster: "c1",
        instance: instance,
        address: nil,
        tasks: 3,
        tasksPeak: 5,
        rssBytes: 1 << 20,
        cpuPercent: 10
      ),
      routes: routes
    )
  }

  @Test("callers' figures add up; percentiles take the largest; an open breaker shows")
  func mergesCallers() {
    let stats = MeshStats(
      snapshots: [
        node(
          "g1",
          [route(.client, requests: 10, errors: ["timeout": 2], qps: 5, p99: 3, breaker: "closed")]
        ),
        node(
          "g2",
          [
            route(
              .client,
              requests: 30,
              errors: ["timeout": 1, "remote": 4],
              qps: 15,
              p99: 9,
              breaker: "open"
            )
          ]
        ),
        node("f1", [route(.server, requests: 38, qps: 19, p99: 1)]),
      ]
    )
    #expect(stats.routes.count == 1)
    let merged = stats.routes[0]
    #expect(merged.side == .client)
    #expect(
      merged.requests == 40 && merged.errors == ["timeout": 3, "remote": 4]
        && merged.successes == 33
    )
    #expect(merged.qps == 20 && merged.inflight == 2)
    #expect(merged.latencyMilliseconds.p99 == 9)
    #expect(merged.breaker == "open")
    #expect(stats.nodes.map(\.instance) == ["f1", "g1", "g2"])
  }

  @Test("a merger kept across ticks merges as a fresh one does while routes come, go and move")
  func mergerAcrossTicks() {
    func at(_ method: String, _ side: MetricsMiddleware.Side, _ requests: Int64) -> RouteStats {
      route(side, requests: requests, qps: Double(requests), p99: 1, method: method)
    }
    let ticks: [[NodeSnapshot]] = [
      [node("g1", [at("A", .client, 1), at("B", .client, 2)]), node("f1", [at("A", .server, 1)])],
      // g1's routes swap places, f1 serves a new route, g2 arrives.
      [
        node("g1", [at("B", .client, 3), at("A", .client, 4)]),
        node("f1", [at("A", .server, 4), at("C", .server, 1)]),
        node("g2", [at("A", .client, 5)]),
      ],
      // g1 stops calling A; f1 no longer serves it.
      [
        node("g1", [at("B", .client, 6)]), node("f1", [at("C", .server, 2)]),
        node("g2", [at("A", .client, 7)]),
      ],
      // g2 leaves; g1 calls a new route.
      [node("g1", [at("B", .client, 8), at("D", .client, 1)]), node("f1", [at("C", .server, 3)])],
      [node("g1", [at("B", .client, 9), at("D", .client, 2)]), node("f1", [at("C", .server, 4)])],
    ]
    var merger = MeshStatsMerger()
    var methods: [[String]] = []
    for snapshots in ticks {
      let merged = merger.merge(snapshots, down: [])
      #expect(merged == MeshStats(snapshots: snapshots))
      methods.append(merged.routes.map(\.method))
    }
    #expect(
      methods == [
        ["A", "B"], ["A", "B", "C"], ["A", "B", "C"], ["B", "C", "D"], ["B", "C", "D"],
      ]
    )
    let last = merger.merge(ticks[4], down: [])
    #expect(last.routes.map(\.requests) == [9, 4, 2])
  }

  @Test("a route only its servers saw is shown from their side")
  func serverOnlyRoutes() {
    let stats = MeshStats(snapshots: [node("f1", [route(.server, requests: 7, qps: 1, p99: 2)])])
    #expect(stats.routes.map(\.side) == [.server])
    #expect(stats.routes.first?.requests == 7)
  }

  @Test("collect reads every node's admin endpoint; one that does not answer is down")
  func collectsFromNodes() async throws {
    var admins: [AdminServer] = []
    var tasks: [Task<Void, any Error>] = []
    for instance in ["g1", "g2"] {
      let aggregator = MetricsAggregator()
      Counter(
        label: MetricsMiddleware.Label.requests,
        dimensions: [
          ("side", "client"), ("from", "gateway"), ("from_cluster", "c1"), ("to", "feed"),
          ("to_cluster", "c2"), ("method", "Get"),
        ],
        factory: aggregator
      ).increment(by: 21)
      let admin = try await AdminServer.bind(
        snapshotter: Snapshotter(
          identity: .init(service: "gateway", cluster: "c1", instance: instance, address: nil),
          aggregator: aggregator,
          tasks: TaskGauge()
        ),
        configuration: .init(interval: .milliseconds(100))
      )
      admins.append(admin)
      tasks.append(Task { try await admin.run() })
    }
    defer { for task in tasks { task.cancel() } }
    let closed = try InstanceAddress(parsing: "127.0.0.1:1")
    let client = MeshStatsClient(timeout: .seconds(2))
    let stats = await client.collect(admins.map(\.localAddress) + [closed])
    #expect(stats.routes.first?.requests == 42)
    #expect(stats.nodes.filter(\.up).map(\.instance) == ["g1", "g2"])
    #expect(stats.nodes.filter { !$0.up }.map(\.address) == ["127.0.0.1:1"])

    // Watching: both nodes stream; when one stops, it shows as down and its figures leave.
    let updates = AsyncStream.makeStream(of: MeshStats.self)
    let nodes = AsyncStream.makeStream(of: [InstanceAddress].self)
    nodes.continuation.yield(admins.map(\.localAddress))
    let watching = Task {
      await client.watch(nodes.stream, every: .milliseconds(100)) { updates.continuation.yield($0) }
    }
    defer { watching.cancel() }
    var sawBoth = false
    var sawOneDown = false
    for await update in updates.stream {
      if !sawBoth, update.routes.first?.requests == 42, update.nodes.allSatisfy(\.up) {
        sawBoth = true
        tasks[1].cancel()
      } else if sawBoth, update.nodes.contains(where: { !$0.up && $0.instance == "g2" }) {
        #expect(update.routes.first?.requests == 21)
        sawOneDown = true
        break
      }
    }
    #expect(sawBoth && sawOneDown)
  }
}
