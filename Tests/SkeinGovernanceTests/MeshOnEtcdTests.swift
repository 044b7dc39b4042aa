import Foundation
import SkeinMesh
import SkeinMetrics
import SkeinRPC
import SkeinTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The default mesh as a user spreads it over processes: one `skein node` per instance on a
/// real etcd, driven by `skein load`, read with `skein stats --registry etcd://…`.
@Suite(
  "The demo mesh as separate processes on etcd",
  .enabled(if: IntegrationPeer.etcd.shouldRun, Comment(rawValue: IntegrationPeer.etcd.skipReason)),
  .timeLimit(.minutes(10))
)
struct MeshOnEtcdTests {
  @Test("skein node per instance and skein load: skein stats sees every route and node")
  func nodesOnEtcd() async throws {
    try await HeavyTests.run {
      let etcd = try await EtcdServer.start()
      let registry = "etcd://127.0.0.1:\(etcd.clientPort)"
      let processes = try await MeshProcesses.start(registry: registry)
      defer { processes.killAll() }
      let (skein, mesh, nodes) = (processes.skein, processes.mesh, processes.nodes)
      let load = try RunningProcess(
        skein,
        ["load", "--registry", registry, "--rate", "30", "--duration", "60", "--json"]
      )
      defer { load.signal(SIGKILL) }
      _ = try await load.waitForLine(containing: "skein load:")

      let expected = Set(mesh.routes.map(\.path))
      var stats = MeshStats(routes: [], nodes: [])
      let deadline = ContinuousClock.now + .seconds(60)
      while ContinuousClock.now < deadline {
        try await Task.sleep(for: .seconds(1))
        let run = try await ProcessResult.run(skein, ["stats", "--registry", registry, "--json"])
        guard let read = try? JSONDecoder().decode(MeshStats.self, from: Data(run.output.utf8))
        else { continue }
        stats = read
        let carried = Set(stats.routes.filter { $0.requests > 0 }.map(\.path))
        if carried.isSuperset(of: expected) { break }
      }
      let carried = Set(stats.routes.filter { $0.requests > 0 }.map(\.path))
      #expect(carried.isSuperset(of: expected), "no traffic on \(expected.subtracting(carried))")
      #expect(stats.nodes.count == mesh.instances.count + 1, "every node and the load")
      #expect(stats.nodes.allSatisfy { $0.up }, "\(stats.nodes.filter { !$0.up })")

      // SIGTERM: every node deregisters before it exits, and the load reports its counts.
      load.signal(SIGTERM)
      #expect(try await load.waitForExit() == 0, "\(load.printed)")
      let report = try #require(load.printed.split(separator: "\n").last { $0.hasPrefix("{") })
      let counts = try JSONDecoder().decode(LoadCounts.self, from: Data(report.utf8))
      #expect(counts.succeeded > 0 && counts.inFlight == 0)
      for node in nodes { node.signal(SIGTERM) }
      for node in nodes { #expect(try await node.waitForExit() == 0) }
      let left = try await ProcessResult.check(
        skein,
        ["ctl", "get", "/skein/services/", "--registry", registry]
      )
      #expect(left.output.contains("(0 keys"), "\(left.output)")
      await etcd.stop()
    }
  }
}
