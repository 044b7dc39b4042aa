import Foundation
import SkeinGovernance
import SkeinMesh
import SkeinMetrics
import SkeinRPC
import SkeinTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The default mesh as 22 `skein node` processes on a real etcd, at steady load from
/// `skein load`, while things go wrong the way they do in production.
@Suite(
  "Chaos: the demo mesh under faults at steady load",
  .enabled(if: IntegrationPeer.etcd.shouldRun, Comment(rawValue: IntegrationPeer.etcd.skipReason)),
  .timeLimit(.minutes(10))
)
struct ChaosTests {
  @Test(
    """
    a node killed with SIGKILL, a node paused with SIGSTOP, 2 s of latency on an instance, etcd \
    stopped and restarted: breakers open and close as configured, callers keep their instances \
    and switches while etcd is down, the mesh recovers on its own, every call ends in time and \
    counted
    """
  )
  func survivesFaults() async throws {
    try await HeavyTests.run {
      let etcd = try await EtcdServer.start()
      let url = "etcd://127.0.0.1:\(etcd.clientPort)"
      let processes = try await MeshProcesses.start(registry: url)
      defer { processes.killAll() }
      let skein = processes.skein
      let mesh = processes.mesh
      let registry = Registry(store: EtcdConfigStore(endpoint: etcd.endpoint))
      // Breakers that trip at this test's light load (each caller node sends each storage
      // instance about two calls a second): 5 calls instead of 20; a failure rate above the
      // half of a route's calls that one bad instance of two fails, so the route's own breaker
      // stays closed while the instance's opens; a 2 s cool-down. The routes above tolerate up
      // to 90% failures: at the default 50%, the edge's own route breakers would open first
      // when a storage instance hangs, and starve it of the calls that trip its breaker.
      for (route, breaker) in [
        ("/*/*/*/*/*", #"{"failure_rate":0.9}"#),
        ("/user/*/storage/*/Get", #"{"minimum_calls":5,"failure_rate":0.6,"cool_down_ms":2000}"#),
      ] {
        try await ProcessResult.check(
          skein,
          ["ctl", "config", route, #"{"breaker":"# + breaker + "}", "--registry", url]
        )
      }
      let load = try RunningProcess(skein, ["load", "--registry", url, "--rate", "40", "--json"])
      defer { load.signal(SIGKILL) }
      _ = try await load.waitForLine(containing: "skein load:")
      let expected = Set(mesh.routes.map(\.path))
      let carried = try await waitUntil(timeout: .seconds(60)) {
        let stats = await collect(try await registry.allInstances())
        return Set(stats.routes.filter { $0.requests > 0 }.map(\.path)).isSuperset(of: expected)
      }
      #expect(carried, "every route carries traffic before the faults")

      let storage = try ServiceName("storage")
      let (c1, c2) = (try Cluster("c1"), try Cluster("c2"))
      let getC1 = "/user/c1/storage/c1/Get"
      let getC2 = "/user/c2/storage/c2/Get"
      func instance(_ cluster: Cluster, _ index: Int) async throws -> ServiceInstance {
        var found: ServiceInstance?
        _ = try await waitUntil(timeout: .seconds(15)) {
          found = try await registry.instances(of: storage)
            .first { $0.cluster == cluster.rawValue && $0.id == String(index) }
          return found != nil
        }
        return try #require(found, "storage/\(cluster)/\(index) is not registered")
      }
      // Asks the route's callers only: a paused node would hold every poll up until the stats
      // client gave up on it.
      func breaker(_ address: InstanceAddress, on route: String) async throws -> String? {
        let caller = try FiveTuple(path: route).from
        let stats = await collect(try await registry.instances(of: caller))
        return stats.routes.first { $0.path == route }?.instances?
          .first { $0.address == address.description }?.breaker
      }

      // SIGKILL storage/c1/0: its callers' connections are refused, its breaker opens, their
      // calls go to storage/c1/1; started again, it registers and serves.
      let killed = MeshInstance(service: storage, cluster: c1, index: 0, weight: 100)
      let killedAddress = try await instance(c1, 0).address
      try #require(processes.node(killed)).signal(SIGKILL)
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          try await breaker(killedAddress, on: getC1) == "open"
        },
        "the killed instance's breaker opens"
      )
      let before = try await routeStats(registry, getC1)
      try await Task.sleep(for: .seconds(3))
      let after = try await routeStats(registry, getC1)
      let (succeeded, failed) = (
        after.successes - before.successes, after.errorCount - before.errorCount
      )
      #expect(succeeded > 0 && failed * 10 <= succeeded, "\(failed) failed beside \(succeeded)")
      // Until its killed self's lease lapses, the registry may still list that one.
      _ = try await processes.start(killed)
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          guard let admin = try await instance(c1, 0).adminAddress else { return false }
          return await callsServed(at: admin, route: getC1) > 0
        },
        "the restarted instance serves again"
      )

      // SIGSTOP storage/c2/0: it takes calls and answers none, as behind a dead link; its
      // callers' 50 ms timeouts open its breaker. SIGCONT: it answers the half-open breaker's
      // probes, which close it (or, had its lease lapsed, it registers afresh).
      let paused = MeshInstance(service: storage, cluster: c2, index: 0, weight: 100)
      let pausedInstance = try await instance(c2, 0)
      try #require(processes.node(paused)).signal(SIGSTOP)
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          try await breaker(pausedInstance.address, on: getC2) == "open"
        },
        "the paused instance's breaker opens"
      )
      try #require(processes.node(paused)).signal(SIGCONT)
      var seen: String?
      var listed: RouteStats?
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          seen = try await breaker(pausedInstance.address, on: getC2)
          listed = await collect(try await registry.instances(of: try ServiceName("user")))
            .routes.first { $0.path == getC2 }
          return seen == "closed"
        },
        "the resumed instance's breaker closes: \(seen ?? "not listed") in \(String(describing: listed))"
      )
      let pausedAdmin = try #require(pausedInstance.adminAddress)
      let servedAtResume = await callsServed(at: pausedAdmin, route: getC2)
      #expect(
        try await waitUntil(timeout: .seconds(15)) {
          await callsServed(at: pausedAdmin, route: getC2) > servedAtResume
        },
        "the resumed instance serves new calls"
      )

      // 2 s of latency on storage/c1/1: every call to it outlives its caller's 50 ms; its
      // breaker opens; cleared, it closes again.
      let slowAddress = try await instance(c1, 1).address
      try await ProcessResult.check(
        skein,
        ["ctl", "fault", "storage/c1/1", "--latency-ms", "2000", "--registry", url]
      )
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          try await breaker(slowAddress, on: getC1) == "open"
        },
        "the slow instance's breaker opens"
      )
      try await ProcessResult.check(
        skein,
        ["ctl", "fault", "storage/c1/1", "--clear", "--registry", url]
      )
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          try await breaker(slowAddress, on: getC1) == "closed"
        },
        "the instance's breaker closes once the latency is gone"
      )

      // etcd stops for 8 s: callers keep the instances and switches they last saw, so the
      // edge's calls go on succeeding. Started again, it has every node registered and a switch
      // flipped then reaches the callers: nobody was restarted.
      let known = try await registry.allInstances()
      // First the mesh settles from the faults before: the edge's calls succeed again.
      var edgeBefore = edgeTotals(await collect(known), caller: mesh.load.caller)
      let settled = try await waitUntil(timeout: .seconds(30), every: .seconds(2)) {
        let now = edgeTotals(await collect(known), caller: mesh.load.caller)
        defer { edgeBefore = now }
        let ok = now.successes - edgeBefore.successes
        return ok > 0 && (now.errors - edgeBefore.errors) * 10 <= ok
      }
      #expect(settled, "the edge's calls succeed again after the instance faults")
      await etcd.halt()
      try await Task.sleep(for: .seconds(8))
      let edgeDuring = edgeTotals(await collect(known), caller: mesh.load.caller)
      let (okDuring, failedDuring) = (
        edgeDuring.successes - edgeBefore.successes, edgeDuring.errors - edgeBefore.errors
      )
      #expect(
        okDuring > 0 && failedDuring * 10 <= okDuring,
        "with etcd down: \(okDuring) edge calls succeeded, \(failedDuring) failed: \(edgeDuring.kinds) against \(edgeBefore.kinds)"
      )
      try await etcd.launch()
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          (try? await registry.allInstances().count) == mesh.instances.count + 1
        },
        "every node and the load registered after etcd's restart"
      )
      let degraded = "/gateway/c1/ad/c1/GetAds"
      try await ProcessResult.check(skein, ["ctl", "degrade", degraded, "on", "--registry", url])
      // 30 s: after the restart, 23 processes re-establish their watches and leases at once,
      // and in the full suite the machine is loaded besides.
      var lastSeen = "no reading"
      #expect(
        try await waitUntil(timeout: .seconds(30)) {
          let stats = await collect(try await registry.allInstances())
          let route = stats.routes.first { $0.path == degraded }
          lastSeen =
            "\(stats.nodes.filter(\.up).count) of \(stats.nodes.count) nodes answered; "
            + (route.map { "the route: degraded \(String(describing: $0.degraded)), qps \($0.qps)" }
              ?? "no node reports the route")
          return route?.degraded == true
        },
        "a degrade switch flipped after etcd's restart reaches its callers: \(lastSeen)"
      )
      try await ProcessResult.check(skein, ["ctl", "degrade", degraded, "off", "--registry", url])

      // Every call the edge started ended, in time, as a success or a counted error.
      load.signal(SIGTERM)
      #expect(try await load.waitForExit() == 0, "\(load.printed)")
      let line = try #require(load.printed.split(separator: "\n").last { $0.hasPrefix("{") })
      let counts = try JSONDecoder().decode(LoadCounts.self, from: Data(line.utf8))
      print("chaos: edge \(counts.summary)")
      #expect(counts.succeeded > 0 && counts.inFlight == 0, "\(counts.summary)")
      // The edge's timeout is 1 s; the margin is for a loaded machine's timers, far below what
      // a call hanging on a paused node or a stopped etcd would take.
      #expect(counts.slowestMilliseconds < 1_750, "\(counts.summary)")
      for node in processes.nodes { node.signal(SIGTERM) }
      for node in processes.nodes { #expect(try await node.waitForExit() == 0) }
      await etcd.stop()
    }
  }
}

/// The merged stats of `instances`' nodes.
private func collect(_ instances: [ServiceInstance]) async -> MeshStats {
  await MeshStatsClient().collect(registered: instances)
}

/// The merged stats of `route`; the test fails when no node reports it.
private func routeStats(_ registry: Registry, _ route: String) async throws -> RouteStats {
  let stats = await collect(try await registry.allInstances())
  return try #require(stats.routes.first { $0.path == route }, "no node reports \(route)")
}

/// How many calls of `route` the node at `admin` served; -1 when it does not answer.
private func callsServed(at admin: InstanceAddress, route: String) async -> Int64 {
  guard let snapshot = try? await MeshStatsClient().snapshot(of: admin) else { return -1 }
  return snapshot.routes.first { $0.side == .server && $0.path == route }?.requests ?? 0
}

/// The edge's successes and errors so far, over all its routes.
private func edgeTotals(_ stats: MeshStats, caller: ServiceName) -> (
  successes: Int64, errors: Int64, kinds: [String: Int64]
) {
  let edge = stats.routes.filter { $0.from == caller.rawValue }
  return (
    edge.reduce(0) { $0 + $1.successes }, edge.reduce(0) { $0 + $1.errorCount },
    edge.reduce(into: [:]) { kinds, route in kinds.merge(route.errors, uniquingKeysWith: +) }
  )
}
