import Foundation
import SkeinMetrics
import SkeinTestSupport
import Testing

/// `skein demo`, `skein node`, `skein load` and `skein ctl fault` as a user runs them.
@Suite("skein demo and the mesh commands", .timeLimit(.minutes(10)))
struct DemoCommandTests {
  @Test("skein demo --headless runs the default mesh and prints stats with every route")
  func headless() async throws {
    try await HeavyTests.run {
      let skein = try skeinExecutable()
      let check = try await ProcessResult.check(skein, ["mesh", "check", "--json"])
      let expected = try JSONDecoder().decode(
        [[String: String]].self,
        from: Data(check.output.utf8)
      )
      let paths = Set(expected.compactMap { $0["path"] })
      #expect(paths.count >= 15)
      let run = try await ProcessResult.check(
        skein,
        ["demo", "--headless", "--duration", "3", "--rate", "30", "--cpu-scale", "0", "--json"]
      )
      let lines = run.output.split(separator: "\n")
      #expect(lines.first?.hasPrefix("skein demo: config store memory://127.0.0.1:") == true)
      #expect(run.output.contains("instances up in"))
      let json = try #require(lines.last { $0.hasPrefix("{") }, "JSON in:\n\(run.output)")
      let stats = try JSONDecoder().decode(MeshStats.self, from: Data(json.utf8))
      let carried = Set(stats.routes.filter { $0.requests > 0 }.map(\.path))
      #expect(carried.isSuperset(of: paths), "no traffic on \(paths.subtracting(carried))")
      #expect(stats.nodes.count == 23, "22 instances and the edge")
      #expect(stats.nodes.allSatisfy { $0.up })
    }
  }

  @Test(
    "skein ctl shifts the running demo's traffic, kills an instance and denies a caller: nodes obey"
  )
  func steering() async throws {
    try await HeavyTests.run {
      let skein = try skeinExecutable()
      let demo = try RunningProcess(
        skein,
        ["demo", "--headless", "--rate", "30", "--cpu-scale", "0"]
      )
      defer { demo.signal() }
      let first = try await demo.waitForLine(containing: "config store memory://")
      let url = try #require(first.split(separator: " ").last.map(String.init))
      _ = try await demo.waitForLine(containing: "instances up in")
      // Feed's calls reach recommend/c1 first, or there would be no route to watch empty.
      try await eventually("feed calling recommend/c1") {
        try await Self.stats(url).routes.contains {
          $0.from == "feed" && $0.to == "recommend" && $0.toCluster == "c1" && $0.requests > 0
        }
      }
      let shifted = try await ProcessResult.run(
        skein,
        ["ctl", "traffic", "/feed/*/recommend/*/Rank", "c1=0,c2=100", "--registry", url]
      )
      #expect(shifted.status == 0, "\(shifted.errorOutput)")
      var seen = ""
      let obeyed = try await eventually("recommend/c1 stops getting feed's calls") {
        let toC1 = try await Self.stats(url).routes.filter {
          $0.from == "feed" && $0.to == "recommend" && $0.toCluster == "c1"
        }
        seen = toC1.map { "\($0.path) qps \($0.qps) traffic \($0.traffic ?? [:])" }
          .joined(separator: "; ")
        return !toC1.isEmpty && toC1.allSatisfy { $0.qps == 0 && $0.traffic?["c1"] == 0 }
      }
      if !obeyed { Issue.record("the last view of feed's calls to recommend/c1: \(seen)") }
      let killed = try await ProcessResult.run(
        skein,
        ["ctl", "fault", "storage/c2/1", "--down", "--registry", url]
      )
      #expect(killed.status == 0, "\(killed.errorOutput)\n\(demo.state)")
      #expect(killed.output.contains("/skein/faults/storage/c2/1"))
      try await eventually("storage/c2/1 is down in skein stats") {
        try await Self.stats(url).nodes.contains {
          $0.service == "storage" && $0.cluster == "c2" && $0.instance == "1" && !$0.up
        }
      }
      #expect(demo.isRunning, "the demo went away once an instance was killed: \(demo.state)")
      // Only feed may call storage's Get now: the demo's nodes refuse user's calls, counted
      // as denied on user's side.
      let ruled = try await ProcessResult.run(
        skein,
        ["ctl", "access", "storage/*/Get", "feed", "--registry", url]
      )
      #expect(ruled.status == 0, "\(ruled.errorOutput)\n\(demo.state)")
      try await eventually("user's calls to storage.Get are denied") {
        try await Self.stats(url).routes.contains {
          $0.from == "user" && $0.to == "storage" && $0.method == "Get"
            && ($0.errors["denied"] ?? 0) > 0
        }
      }
    }
  }

  @Test("bad input to the mesh commands gets a clear error")
  func badInput() async throws {
    let skein = try skeinExecutable()
    let noMesh = try await ProcessResult.run(skein, ["demo", "--mesh", "/nonexistent.yaml"])
    #expect(noMesh.status != 0)
    #expect(noMesh.errorOutput.contains("no mesh file at /nonexistent.yaml"))
    let badRate = try await ProcessResult.run(skein, ["demo", "--rate=-5"])
    #expect(badRate.errorOutput.contains("--rate must be"))
    let noInstance = try await ProcessResult.run(
      skein,
      [
        "node", "--service", "feed", "--cluster", "c9", "--instance", "0", "--registry",
        "memory://127.0.0.1:1",
      ]
    )
    #expect(noInstance.status != 0)
    #expect(noInstance.errorOutput.contains("has no instance feed/c9/0"))
    let badFault = try await ProcessResult.run(
      skein,
      ["ctl", "fault", "storage/c1", "--down", "--registry", "memory://127.0.0.1:1"]
    )
    #expect(badFault.errorOutput.contains("service/cluster/index"))
    let noFault = try await ProcessResult.run(
      skein,
      ["ctl", "fault", "storage/c1/0", "--registry", "memory://127.0.0.1:1"]
    )
    #expect(noFault.errorOutput.contains("give a fault"))
  }

  /// `skein stats --json` against the store at `url`.
  static func stats(_ url: String) async throws -> MeshStats {
    let run = try await ProcessResult.run(
      try skeinExecutable(),
      ["stats", "--registry", url, "--json"]
    )
    do {
      return try JSONDecoder().decode(MeshStats.self, from: Data(run.output.utf8))
    } catch {
      throw IntegrationError(
        message: "skein stats printed no stats (\(error)):\n\(run.output)\n\(run.errorOutput)"
      )
    }
  }
}

/// Checks `condition` every 300 ms until it holds, for at most 20 s; records an issue naming
/// `what` when it never does, and says whether it did.
@discardableResult
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws -> Bool {
  let held = try await waitUntil(timeout: .seconds(20), every: .milliseconds(300), condition)
  if !held { Issue.record("\(what): not within 20 s") }
  return held
}
