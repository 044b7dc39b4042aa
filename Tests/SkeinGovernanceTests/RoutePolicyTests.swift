import SkeinGovernance
import SkeinRPC
import Synchronization
import Testing

@Suite("Governance state as the clients' route policy", .timeLimit(.minutes(1)))
struct RoutePolicyTests {
  let route = try! FiveTuple(path: "/gateway/c1/example/c2/Echo")

  @Test("a route's config becomes its policy; changes apply, deletes restore the defaults")
  func configToPolicy() async throws {
    let store = MemoryConfigStore()
    let state = GovernanceState(store: store)
    let running = Task { await state.run() }
    #expect(state.policy(for: route) == RoutePolicy())
    let key = GovernanceSwitch.config.key(for: try RoutePattern(path: "/gateway/*/example/*/*"))
    try await store.put(
      key,
      #"{"timeout_ms":250,"retries":2,"balancer":"p2c","breaker":{"minimum_calls":4,"half_open_probes":1}}"#
    )
    #expect(try await eventually { state.policy(for: route).timeout == .milliseconds(250) })
    let policy = state.policy(for: route)
    #expect(policy.retries == 2 && policy.balancer == "p2c")
    #expect(policy.breaker?.minimumCalls == 4 && policy.breaker?.halfOpenProbes == 1)
    #expect(policy.breaker?.failureRate == BreakerConfiguration().failureRate, "defaults fill gaps")
    // A more specific key wins, and the cached answer follows it.
    try await store.put(
      GovernanceSwitch.config.key(for: RoutePattern(route)),
      #"{"balancer":"consistent_hash"}"#
    )
    #expect(try await eventually { state.policy(for: route).balancer == "consistent_hash" })
    #expect(state.policy(for: route).timeout == nil)
    try await store.delete(GovernanceSwitch.config.key(for: RoutePattern(route)))
    #expect(try await eventually { state.policy(for: route).balancer == "p2c" })
    running.cancel()
  }

  @Test(
    "config no client can use is malformed: reported, and the last good value stays",
    arguments: [
      #"{"balancer":"fastest"}"#, #"{"retries":-1}"#, #"{"retries":50}"#, #"{"timeout_ms":0}"#,
      #"{"breaker":{"failure_rate":1.5}}"#, #"{"breaker":{"window_ms":0}}"#,
    ]
  )
  func unusableConfig(_ value: String) async throws {
    let store = MemoryConfigStore()
    let log = EventLog()
    let state = GovernanceState(store: store) { event in log.events.withLock { $0.append(event) } }
    let running = Task { await state.run() }
    let key = GovernanceSwitch.config.key(for: RoutePattern(route))
    try await store.put(key, #"{"balancer":"random"}"#)
    #expect(try await eventually { state.policy(for: route).balancer == "random" })
    try await store.put(key, value)
    #expect(try await eventually { log.events.withLock { $0.count } == 1 })
    #expect(state.policy(for: route) == RoutePolicy(balancer: "random"))
    running.cancel()
  }

  @Test("the split is looked up with the callee cluster as *: only such keys apply")
  func splitLookup() async throws {
    let store = MemoryConfigStore()
    let state = GovernanceState(store: store)
    let running = Task { await state.run() }
    let gateway = ServiceIdentity(name: try ServiceName("gateway"), cluster: try Cluster("c1"))
    let example = try ServiceName("example")
    try await store.put(
      GovernanceSwitch.traffic.key(for: RoutePattern(route)),
      #"{"c2":100}"#
    )
    try await store.put(
      GovernanceSwitch.traffic.key(for: try RoutePattern(path: "/*/*/example/*/*")),
      #"{"c1":80,"c2":20}"#
    )
    #expect(
      try await eventually {
        state.trafficWeights(from: gateway, to: example, method: "Echo") == ["c1": 80, "c2": 20]
      },
      "the key naming callee cluster c2 cannot choose the cluster"
    )
    try await store.put(
      GovernanceSwitch.traffic.key(for: try RoutePattern(path: "/gateway/c1/example/*/Echo")),
      #"{"c1":10,"c2":90}"#
    )
    #expect(
      try await eventually {
        state.trafficWeights(from: gateway, to: example, method: "Echo") == ["c1": 10, "c2": 90]
      }
    )
    #expect(
      state.trafficWeights(from: gateway, to: example, method: "Other") == ["c1": 80, "c2": 20]
    )
    running.cancel()
  }
}
