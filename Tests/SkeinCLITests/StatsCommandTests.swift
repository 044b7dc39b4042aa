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

    let none = try await ProcessResult.run(skein, ["stats"])
    #expect(none.status != 0 && none.errorOutput.contains("--nodes"))
  }
}
