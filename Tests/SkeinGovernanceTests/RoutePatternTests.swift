import SkeinGovernance
import SkeinRPC
import Testing

@Suite struct RoutePatternTests {
  let route = try! FiveTuple(path: "/gateway/c1/example/c2/Visit")

  @Test func matchingAndSpecificity() throws {
    var table = RouteTable<String>()
    table[try RoutePattern(path: "/*/*/*/*/*")] = "everything"
    #expect(table.value(for: route) == "everything")
    table[try RoutePattern(path: "/*/*/example/*/*")] = "callee"
    #expect(table.value(for: route) == "callee")
    table[try RoutePattern(path: "/gateway/*/*/*/*")] = "caller"
    #expect(table.value(for: route) == "caller", "equally specific: the caller segment wins")
    table[try RoutePattern(path: "/*/*/example/*/Visit")] = "method"
    #expect(table.value(for: route) == "method")
    table[RoutePattern(route)] = "exact"
    #expect(table.value(for: route) == "exact")
    #expect(table.value(for: try FiveTuple(path: "/other/c1/example/c2/Visit")) == "method")
    #expect(table.value(for: try FiveTuple(path: "/other/c1/other/c2/Ping")) == "everything")
  }

  @Test func keys() throws {
    let pattern = try RoutePattern(path: "/gateway/*/example/c2/*")
    let key = GovernanceSwitch.degrade.key(for: pattern)
    #expect(key == "/skein/governance/gateway/*/example/c2/*/degrade")
    let parsed = try #require(GovernanceSwitch.parse(key: key))
    #expect(parsed.0 == pattern && parsed.1 == .degrade)
    #expect(GovernanceSwitch.parse(key: "/skein/governance/a/b/c/d/e/nonsense") == nil)
    #expect(GovernanceSwitch.parse(key: "/skein/services/x") == nil)
  }

  @Test(arguments: [
    (
      "gateway/c1/example/c2/Visit",
      "invalid route pattern \"gateway/c1/example/c2/Visit\": must be /from/fromCluster/to/toCluster/method, any segment may be *"
    ),
    (
      "/Gateway/*/example/*/*",
      "invalid service name \"Gateway\": must match [a-z][a-z0-9_.-]* and be at most 128 characters"
    ),
    (
      "/a/*/b/*/9x",
      "invalid method \"9x\": must be a Thrift identifier ([A-Za-z_][A-Za-z0-9_]*), at most 128 characters"
    ),
  ])
  func badPatterns(path: String, message: String) {
    #expect(throws: NamingError.self) { try RoutePattern(path: path) }
    do {
      _ = try RoutePattern(path: path)
    } catch {
      #expect("\(error)" == message)
    }
  }
}
