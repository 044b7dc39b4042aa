import Foundation
import SkeinTestSupport
import Testing

@Suite("skein stats against real nodes", .timeLimit(.minutes(2)))
struct StatsCommandTests {
  @Test("stats --json merges a node's counts; a node that is not there is listed down")
  func statsOfARealNode() async throws {
    let skein = try skeinExecutable()
    let server = try RunningProcess(
      skein,
      ["example", "serve", "--port", "0", "--admin-port", "0", "--cluster", "c1"]
    )
    defer { server.signal() }
    let line = try await server.waitForLine(containing: "admin on")
    // "… on 127.0.0.1:P, admin on 127.0.0.1:A"
    let ports = line.split(separator: ":").compactMap { Int($0.prefix { $0.isNumber }) }
    let (port, admin) = try #require(
      ports.count >= 2 ? (ports[ports.count - 2], ports[ports.count - 1]) : nil
    )
    let called = try await ProcessResult.run(
      skein,
      ["example", "call", "--port", String(port), "--name", "x", "--count", "37", "--json"]
    )
    #expect(called.status == 0, "\(called.errorOutput)")

    let stats = try await ProcessResult.run(
      skein,
      ["stats", "--nodes", "127.0.0.1:\(admin),127.0.0.1:1", "--json"]
    )
    #expect(stats.status == 0, "\(stats.errorOutput)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
    )
    let routes = try #require(json["routes"] as? [[String: Any]])
    #expect(routes.count == 1)
    #expect(
      routes.first?["to"] as? String == "example" && routes.first?["toCluster"] as? String == "c1"
    )
    #expect(routes.first?["requests"] as? Int == 37 && routes.first?["successes"] as? Int == 37)
    let nodes = try #require(json["nodes"] as? [[String: Any]])
    #expect(Set(nodes.compactMap { $0["up"] as? Bool }) == [false, true] && nodes.count == 2)

    let table = try await ProcessResult.run(skein, ["stats", "--nodes", "127.0.0.1:\(admin)"])
    #expect(table.output.contains("skein-cli/default -> example/c1.Visit"))

    let noStore = try await ProcessResult.run(skein, ["stats", "--registry", "etcd://127.0.0.1:1"])
    #expect(noStore.status != 0 && noStore.errorOutput.contains("unreachable"))
  }

  @Test("stats --registry finds nodes through the embedded store; SIGTERM deregisters a node")
  func statsThroughTheRegistry() async throws {
    let skein = try skeinExecutable()
    let store = try RunningProcess(skein, ["store", "serve", "--port", "0"])
    defer { store.signal() }
    let url = try await store.waitForLine(containing: "memory://")
      .split(separator: " ").first { $0.hasPrefix("memory://") }.map(String.init)
    let registry = try #require(url)
    var servers: [RunningProcess] = []
    defer { for server in servers { server.signal() } }
    for cluster in ["c1", "c2"] {
      let server = try RunningProcess(
        skein,
        [
          "example", "serve", "--port", "0", "--admin-port", "0", "--cluster", cluster,
          "--registry", registry,
        ]
      )
      servers.append(server)
      _ = try await server.waitForLine(containing: "registered in")
    }
    let stats = try await ProcessResult.run(skein, ["stats", "--registry", registry, "--json"])
    #expect(stats.status == 0, "\(stats.errorOutput)")
    let json = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
    let nodes = try #require(json?["nodes"] as? [[String: Any]])
    #expect(Set(nodes.compactMap { $0["cluster"] as? String }) == ["c1", "c2"])
    #expect(nodes.allSatisfy { $0["up"] as? Bool == true })

    // A graceful stop deregisters at once: the registry no longer lists the node.
    servers[1].signal()
    #expect(try await servers[1].waitForExit() == 0)
    let after = try await ProcessResult.run(skein, ["stats", "--registry", registry, "--json"])
    let remaining =
      (try JSONSerialization.jsonObject(with: Data(after.output.utf8)) as? [String: Any])?["nodes"]
      as? [[String: Any]]
    #expect(remaining?.compactMap { $0["cluster"] as? String } == ["c1"])
  }
}
