import Foundation
import SkeinMesh
import SkeinRPC
import Testing

/// A small valid mesh over the demo's IDL; each case below breaks one thing in it. Line numbers
/// in the expectations count from its first line.
let baseMesh = """
  name: test
  services:
    gateway:
      idl: {file: gateway.thrift, service: GatewayService}
      clusters: {c1: 1, c2: 1}
      methods:
        Home:
          latency: {p50_ms: 1, p99_ms: 4}
          calls:
            - to: user.GetUser
              timeout_ms: 100
    user:
      idl: {file: user.thrift, service: UserService}
      clusters: {c1: 2}
      methods:
        GetUser:
          latency: {p50_ms: 2, p99_ms: 8}
          error_rate: 0.01
          calls:
            - to: storage.Get
    storage:
      idl: {file: storage.thrift, service: StorageService}
      clusters: {c1: 1, c2: 1}
      methods:
        Get:
          latency: {p50_ms: 1, p99_ms: 2}
  load:
    rate: 10
    mix:
      - {to: gateway.Home, weight: 1}
  """

/// Loads `yaml` as `t.yaml` next to the demo's IDL and returns its errors as printed.
func problems(_ yaml: String, limits: MeshLimits = MeshLimits()) -> [String] {
  do {
    _ = try MeshLoader.load(
      yaml: yaml,
      file: "t.yaml",
      folder: packageRoot.appending(path: "demo").path,
      limits: limits
    )
    return []
  } catch {
    return error.errors.map(\.description)
  }
}

/// The base mesh with `old` replaced by `new`; `old` must occur exactly once.
func breaking(_ old: String, with new: String) -> String {
  precondition(baseMesh.components(separatedBy: old).count == 2, "'\(old)' is not unique")
  return baseMesh.replacingOccurrences(of: old, with: new)
}

/// Every validation rule names the file, line, column and field.
@Suite struct ValidationTests {
  @Test func theBaseMeshIsValid() throws {
    #expect(problems(baseMesh) == [])
    let mesh = try MeshLoader.load(
      yaml: baseMesh,
      file: "t.yaml",
      folder: packageRoot.appending(path: "demo").path
    )
    #expect(
      mesh.routes.map(\.path) == [
        "/edge/default/gateway/c1/Home", "/edge/default/gateway/c2/Home",
        "/gateway/c1/user/c1/GetUser", "/gateway/c2/user/c1/GetUser", "/user/c1/storage/c1/Get",
      ]
    )
    #expect(mesh.instances.count == 6)
    #expect(mesh.load.caller.rawValue == "edge")
    #expect(mesh.load.shape == .steady)
  }

  @Test func oneSplitPerRouteWhicheverCallSetsIt() throws {
    let yaml = breaking(
      "- to: storage.Get",
      with: "- to: storage.Get\n          - {to: storage.Get, traffic: {c2: 1}, balancer: p2c}"
    )
    let mesh = try MeshLoader.load(
      yaml: yaml,
      file: "t.yaml",
      folder: packageRoot.appending(path: "demo").path
    )
    #expect(
      mesh.routes.filter { $0.from.rawValue == "user" }.map(\.path) == ["/user/c1/storage/c2/Get"]
    )
    let policy = try #require(mesh.routePolicies.first)
    #expect(mesh.routePolicies.count == 1)
    #expect(policy.traffic == [try Cluster("c2"): 1])
    #expect(policy.balancer == "p2c")
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var old: String
    var new: String
    var expected: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "unknown service",
      old: "to: storage.Get",
      new: "to: storag.Get",
      expected:
        "t.yaml:20:17: services.user.methods.GetUser.calls[0].to: unknown service 'storag' (known: gateway, user, storage)"
    ),
    Case(
      name: "unknown method",
      old: "to: storage.Get",
      new: "to: storage.Gett",
      expected:
        "t.yaml:20:17: services.user.methods.GetUser.calls[0].to: unknown method 'Gett' of storage (known: Get)"
    ),
    Case(
      name: "call cycle",
      old: "latency: {p50_ms: 1, p99_ms: 2}",
      new: "latency: {p50_ms: 1, p99_ms: 2}\n        calls: [{to: user.GetUser}]",
      expected:
        "t.yaml:27:22: services.storage.methods.Get.calls[0].to: call cycle: user.GetUser → storage.Get → user.GetUser"
    ),
    Case(
      name: "p99 below p50",
      old: "p99_ms: 8",
      new: "p99_ms: 1",
      expected:
        "t.yaml:17:38: services.user.methods.GetUser.latency.p99_ms: p99_ms 1 is below p50_ms 2"
    ),
    Case(
      name: "rate outside 0...1",
      old: "error_rate: 0.01",
      new: "error_rate: 1.5",
      expected: "t.yaml:18:21: services.user.methods.GetUser.error_rate: 1.5 is out of range 0...1"
    ),
    Case(
      name: "non-positive instance count",
      old: "clusters: {c1: 2}",
      new: "clusters: {c1: 0}",
      expected: "t.yaml:14:20: services.user.clusters.c1: 0 is out of range 1...64"
    ),
    Case(
      name: "no clusters",
      old: "clusters: {c1: 2}",
      new: "clusters: {}",
      expected: "t.yaml:14:15: services.user.clusters: needs at least 1 clusters, has 0"
    ),
    Case(
      name: "unknown balancer",
      old: "timeout_ms: 100",
      new: "timeout_ms: 100\n            balancer: rr",
      expected:
        "t.yaml:12:23: services.gateway.methods.Home.calls[0].balancer: unknown balancer 'rr' (known: round_robin, random, p2c, consistent_hash)"
    ),
    Case(
      name: "traffic to a cluster the callee lacks",
      old: "timeout_ms: 100",
      new: "traffic: {c1: 50, c3: 50}",
      expected:
        "t.yaml:11:31: services.gateway.methods.Home.calls[0].traffic.c3: user has no cluster 'c3' (its clusters: c1)"
    ),
    Case(
      name: "traffic with nowhere to go",
      old: "timeout_ms: 100",
      new: "traffic: {c1: 0}",
      expected:
        "t.yaml:11:22: services.gateway.methods.Home.calls[0].traffic: the weights must not all be 0: the calls would have nowhere to go"
    ),
    Case(
      name: "two splits for one route",
      old: "timeout_ms: 100",
      new: "traffic: {c1: 2}\n          - {to: user.GetUser, traffic: {c1: 1}}",
      expected:
        "t.yaml:12:41: services.gateway.methods.Home.calls[1].traffic: differs from services.gateway.methods.Home.calls[0].traffic: a route from gateway to user.GetUser has one split"
    ),
    Case(
      name: "unknown key",
      old: "error_rate: 0.01",
      new: "eror_rate: 0.01",
      expected:
        "t.yaml:18:9: services.user.methods.GetUser.eror_rate: unknown key 'eror_rate' (known: latency, error_rate, cpu_us, calls)"
    ),
    Case(
      name: "missing required key",
      old: "latency: {p50_ms: 1, p99_ms: 2}",
      new: "error_rate: 0",
      expected: "t.yaml:26:9: services.storage.methods.Get.latency: required, but missing"
    ),
    Case(
      name: "duplicate service",
      old: "  storage:",
      new: "  user:",
      expected:
        "t.yaml:21:3: services.user: 'user' is given twice; each name may appear once (first at line 12)"
    ),
    Case(
      name: "invalid service name",
      old: "  storage:",
      new: "  Storage:",
      expected:
        "t.yaml:21:3: services.Storage: invalid service name \"Storage\": must match [a-z][a-z0-9_.-]* and be at most 128 characters"
    ),
    Case(
      name: "invalid cluster name",
      old: "clusters: {c1: 2}",
      new: "clusters: {C1: 2}",
      expected:
        "t.yaml:14:16: services.user.clusters.C1: invalid cluster \"C1\": must match [a-z][a-z0-9_.-]* and be at most 128 characters"
    ),
    Case(
      name: "method not in the IDL",
      old: "latency: {p50_ms: 1, p99_ms: 2}",
      new: "latency: {p50_ms: 1, p99_ms: 2}\n      Put:\n        latency: {p50_ms: 1, p99_ms: 2}",
      expected:
        "t.yaml:27:7: services.storage.methods.Put: StorageService in storage.thrift has no method 'Put' (it has: Get, MultiGet)"
    ),
    Case(
      name: "service not in the IDL file",
      old: "service: UserService",
      new: "service: UsersService",
      expected:
        "t.yaml:13:39: services.user.idl.service: user.thrift declares no service 'UsersService' (it declares: UserService)"
    ),
    Case(
      name: "edge caller named like a service",
      old: "  rate: 10",
      new: "  caller: user\n  rate: 10",
      expected:
        "t.yaml:28:11: load.caller: 'user' is a service of the mesh; the edge caller needs a name of its own"
    ),
    Case(
      name: "a method twice in the load mix",
      old: "    - {to: gateway.Home, weight: 1}",
      new: "    - {to: gateway.Home, weight: 1}\n    - {to: gateway.Home, weight: 2}",
      expected:
        "t.yaml:31:12: load.mix[1].to: gateway.Home is already in the mix at load.mix[0]; give it one weight"
    ),
    Case(
      name: "unknown load shape",
      old: "  rate: 10",
      new: "  rate: 10\n  shape: burst",
      expected: "t.yaml:29:10: load.shape: unknown shape 'burst' (known: steady, ramp, spike)"
    ),
    Case(
      name: "a shape setting of another shape",
      old: "  rate: 10",
      new: "  rate: 10\n  shape: {kind: ramp, factor: 2}",
      expected: "t.yaml:29:31: load.shape.factor: 'factor' does not apply to shape 'ramp'"
    ),
    Case(
      name: "a list where text belongs",
      old: "to: storage.Get",
      new: "to: [storage.Get]",
      expected:
        "t.yaml:20:17: services.user.methods.GetUser.calls[0].to: expected text, found a list"
    ),
  ]

  @Test(arguments: cases)
  func reportsTheExactPlace(_ test: Case) {
    #expect(problems(breaking(test.old, with: test.new)) == [test.expected])
  }

  @Test func reportsEveryProblemAtOnce() {
    let yaml = breaking("error_rate: 0.01", with: "error_rate: 2")
      .replacingOccurrences(of: "clusters: {c1: 2}", with: "clusters: {c1: -1}")
    #expect(
      problems(yaml) == [
        "t.yaml:14:20: services.user.clusters.c1: -1 is out of range 1...64",
        "t.yaml:18:21: services.user.methods.GetUser.error_rate: 2 is out of range 0...1",
      ]
    )
  }

  @Test func limitsHaveNamesInTheirErrors() {
    var limits = MeshLimits()
    limits.maxFanOut = 0
    #expect(
      problems(baseMesh, limits: limits).first
        == "t.yaml:10:11: services.gateway.methods.Home.calls: 1 calls, more than max_fan_out (0)"
    )
    limits = MeshLimits()
    limits.maxCallDepth = 1
    #expect(
      problems(baseMesh, limits: limits)
        == [
          "t.yaml:7:7: services.gateway.methods.Home: its calls go 2 hops deep, more than max_call_depth (1)"
        ]
    )
    limits = MeshLimits()
    limits.maxInstances = 5
    #expect(
      problems(baseMesh, limits: limits)
        == ["t.yaml:3:3: services: 6 instances in all, more than max_instances (5)"]
    )
  }

  @Test func yamlSyntaxErrorsArePlaced() {
    let found = problems(breaking("  rate: 10", with: "  rate: [10"))
    #expect(found.count == 1)
    #expect(found.first?.hasPrefix("t.yaml:") == true)
    #expect(found.first?.contains("YAML syntax") == true, "\(found)")
  }

  @Test func aMissingIDLFileIsPlacedAtItsField() {
    let found = problems(breaking("file: user.thrift", with: "file: users.thrift"))
    #expect(found.count == 1)
    #expect(
      found.first?.hasPrefix("t.yaml:13:17: services.user.idl.file: the IDL does not load") == true
    )
  }

  @Test func anUnreadableFileIsNamed() {
    #expect(throws: MeshValidationError.self) {
      try MeshLoader.load(contentsOf: "/nonexistent/mesh.yaml")
    }
  }
}
