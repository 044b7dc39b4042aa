import SkeinGovernance
import SkeinRPC
import Synchronization
import Testing

/// Two `example` clusters on loopback, a store, and a governed `gateway/c1` client of them.
struct Mesh {
  let store: MemoryConfigStore
  let state: GovernanceState
  let events: EventLog
  let c1: EchoServer
  let c2: EchoServer
  let client: GovernedClient
  let running: [Task<Void, Never>]

  static func start(seed: UInt64 = 11, registerBoth: Bool = true) async throws -> Mesh {
    try await Mesh(seed: seed, registerBoth: registerBoth)
  }

  private init(seed: UInt64, registerBoth: Bool) async throws {
    let events = EventLog()
    let store = MemoryConfigStore()
    self.events = events
    self.store = store
    state = GovernanceState(store: store) { event in events.events.withLock { $0.append(event) } }
    c1 = try await EchoServer.start(tag: "c1", cluster: "c1")
    c2 = try await EchoServer.start(tag: "c2", cluster: "c2")
    let registry = Registry(store: store)
    for (server, cluster) in [(c1, "c1"), (c2, "c2")] where registerBoth || cluster == "c1" {
      _ = try await registry.register(Mesh.instance(server.address, cluster))
    }
    client = GovernedClient(
      caller: gateway,
      target: try ServiceName("example"),
      registry: registry,
      state: state,
      random: SeededRandom(seed: seed),
      onEvent: { event in events.events.withLock { $0.append(event) } }
    )
    let state = self.state
    let client = self.client
    running = [Task { await state.run() }, Task { await client.run() }]
    let expected = registerBoth ? 2 : 1
    _ = try await eventually { client.clusters.count == expected }
  }

  static func instance(_ address: InstanceAddress, _ cluster: String) throws -> ServiceInstance {
    ServiceInstance(
      service: try ServiceName("example"),
      cluster: try Cluster(cluster),
      address: address
    )
  }

  /// Puts a switch for the gateway's `Echo` calls, the callee cluster as given.
  func put(_ kind: GovernanceSwitch, _ value: String, toCluster: String = "*") async throws {
    let pattern = try RoutePattern(path: "/gateway/c1/example/\(toCluster)/Echo")
    try await store.put(kind.key(for: pattern), value)
  }

  /// The split in force for the gateway's `Echo` calls.
  var weights: [String: Int]? {
    state.trafficWeights(from: gateway, to: try! ServiceName("example"), method: "Echo")
  }

  /// How many of `count` calls each cluster answered.
  func split(_ count: Int) async throws -> [String: Int] {
    var answers: [String: Int] = [:]
    for _ in 0..<count { answers[try await echo(client), default: 0] += 1 }
    return answers
  }

  func stop() async {
    for task in running { task.cancel() }
    await client.shutdown()
    await c1.stop()
    await c2.stop()
  }
}

@Suite(
  "Governed client: traffic split, discovery, the chain on the concrete route",
  .timeLimit(.minutes(1))
)
struct GovernedClientTests {
  @Test("1,000 calls split 80/20 within 5%, and a new split applies to the next calls")
  func trafficSplit() async throws {
    let mesh = try await Mesh.start()
    try await mesh.put(.traffic, #"{"c1":80,"c2":20}"#)
    #expect(try await eventually { mesh.weights != nil })
    let split = try await mesh.split(1000)
    #expect(abs(Double(split["c1", default: 0]) / 1000 - 0.8) < 0.05, "\(split)")
    #expect(abs(Double(split["c2", default: 0]) / 1000 - 0.2) < 0.05, "\(split)")
    try await mesh.put(.traffic, #"{"c1":0,"c2":100}"#)
    #expect(try await eventually { mesh.weights?["c2"] == 100 })
    #expect(try await mesh.split(50) == ["c2": 50], "weight 0 gets nothing")
    await mesh.stop()
  }

  @Test("a malformed split is reported and the last good one stays in force")
  func malformedSplit() async throws {
    let mesh = try await Mesh.start()
    try await mesh.put(.traffic, #"{"c2":100}"#)
    #expect(try await eventually { mesh.weights != nil })
    try await mesh.put(.traffic, #"{"c1":"most"}"#)
    #expect(
      try await eventually {
        mesh.events.events.withLock { $0.contains { $0.message.contains("malformed") } }
      }
    )
    #expect(try await mesh.split(50) == ["c2": 50])
    await mesh.stop()
  }

  @Test("without a split calls stay in the caller's cluster, or spread when it has no instances")
  func defaultSplit() async throws {
    let mesh = try await Mesh.start()
    #expect(try await mesh.split(50) == ["c1": 50], "gateway is in c1 and example has c1")
    // Only c2 left: with the caller's own cluster gone, calls go where instances are.
    await mesh.client.setInstances([try Mesh.instance(mesh.c2.address, "c2")])
    #expect(try await mesh.split(20) == ["c2": 20])
    // Two clusters, neither the caller's: spread evenly.
    let c3 = try await EchoServer.start(tag: "c3", cluster: "c3")
    await mesh.client.setInstances([
      try Mesh.instance(mesh.c2.address, "c2"), try Mesh.instance(c3.address, "c3"),
    ])
    let spread = try await mesh.split(200)
    #expect(abs(spread["c2", default: 0] - spread["c3", default: 0]) < 50, "\(spread)")
    await c3.stop()
    await mesh.stop()
  }

  @Test("a weight naming a cluster without instances is skipped and reported, never a crash")
  func weightWithoutInstances() async throws {
    let mesh = try await Mesh.start(registerBoth: false)
    try await mesh.put(.traffic, #"{"c1":50,"c9":50}"#)
    #expect(try await eventually { mesh.weights != nil })
    #expect(try await mesh.split(20) == ["c1": 20])
    let skips = mesh.events.events.withLock { $0.filter { $0.message.contains("c9") } }
    #expect(skips.count == 1, "reported once: \(skips)")
    try await mesh.put(.traffic, #"{"c9":100}"#)
    #expect(try await eventually { mesh.weights?["c1"] == nil })
    let error = await #expect(throws: RPCError.self) { try await echo(mesh.client) }
    #expect(error?.code == .noInstance)
    await mesh.stop()
  }

  @Test("registry changes add and remove instances and clusters without a restart")
  func followsTheRegistry() async throws {
    let mesh = try await Mesh.start(registerBoth: false)
    let registry = Registry(store: mesh.store)
    #expect(try await mesh.split(10) == ["c1": 10])
    let extra = try await EchoServer.start(tag: "c1-extra", cluster: "c1")
    let registration = try await registry.register(Mesh.instance(extra.address, "c1"))
    #expect(try await eventually { mesh.client.clusters[try! Cluster("c1")]?.instances.count == 2 })
    let both = try await mesh.split(10)
    #expect(both == ["c1": 5, "c1-extra": 5], "\(both)")
    try await registration.deregister()
    #expect(try await eventually { mesh.client.clusters[try! Cluster("c1")]?.instances.count == 1 })
    #expect(try await mesh.split(10) == ["c1": 10])
    // A new cluster appears, takes traffic by the split, and disappears again.
    try await mesh.put(.traffic, #"{"c1":50,"c2":50}"#)
    let c2 = try await registry.register(Mesh.instance(mesh.c2.address, "c2"))
    #expect(try await eventually { mesh.client.clusters.count == 2 && mesh.weights != nil })
    #expect(try await mesh.split(20)["c2", default: 0] > 0)
    try await c2.deregister()
    #expect(try await eventually { mesh.client.clusters.count == 1 })
    #expect(try await mesh.split(10) == ["c1": 10])
    await extra.stop()
    await mesh.stop()
  }

  @Test("degrade and the route breaker act on the concrete route, after the cluster is chosen")
  func chainOnTheConcreteRoute() async throws {
    let mesh = try await Mesh.start()
    try await mesh.put(.traffic, #"{"c1":50,"c2":50}"#)
    try await mesh.put(.degrade, #"{"on":true}"#, toCluster: "c2")
    let c2Route = try FiveTuple(path: "/gateway/c1/example/c2/Echo")
    #expect(try await eventually { mesh.state.isDegraded(c2Route) })
    #expect(try await eventually { mesh.weights != nil })
    var answers: [String: Int] = [:]
    for _ in 0..<100 {
      do {
        answers[try await echo(mesh.client), default: 0] += 1
      } catch let error as RPCError {
        answers[error.code.name, default: 0] += 1
      }
    }
    #expect(answers["c2"] == nil && answers["degraded", default: 0] > 20, "\(answers)")
    #expect(mesh.c2.calls == 0, "a degraded call never reaches the network")
    // The route breaker, with thresholds from the route's config, opens for c2's route only.
    try await mesh.put(.degrade, #"{"on":false}"#, toCluster: "c2")
    try await mesh.put(.config, #"{"breaker":{"minimum_calls":3,"failure_rate":0.5}}"#)
    #expect(try await eventually { mesh.state.config(c2Route).breaker?.minimumCalls == 3 })
    #expect(try await eventually { !mesh.state.isDegraded(c2Route) })
    mesh.c2.setFailing(true)
    for _ in 0..<40 { _ = try? await echo(mesh.client) }
    #expect(mesh.client.routeBreaker.states[c2Route] == .open)
    #expect(
      mesh.client.routeBreaker.states[try FiveTuple(path: "/gateway/c1/example/c1/Echo")] == .closed
    )
    #expect(mesh.events.events.withLock { $0.contains { $0.key == c2Route.path } })
    await mesh.stop()
  }
}

/// A memory store that can be made unreachable: listing fails and open watches break.
final class FlakyStore: ConfigStore {
  let inner = MemoryConfigStore()
  private let down = Mutex(false)
  private let watches = Mutex<[AsyncThrowingStream<ConfigChange, any Error>.Continuation]>([])

  /// Makes the store unreachable (breaking every watch) or reachable again.
  func setDown(_ isDown: Bool) {
    down.withLock { $0 = isDown }
    guard isDown else { return }
    let broken = watches.withLock { watches in
      defer { watches.removeAll() }
      return watches
    }
    for watch in broken { watch.finish(throwing: ConfigStoreError(.unavailable, "down")) }
  }

  private func checkUp() throws {
    if down.withLock({ $0 }) { throw ConfigStoreError(.unavailable, "down") }
  }

  func get(_ key: String) async throws -> ConfigEntry? {
    try checkUp()
    return try await inner.get(key)
  }

  func put(_ key: String, _ value: String, lease: LeaseID?) async throws -> ConfigRevision {
    try await inner.put(key, value, lease: lease)
  }

  func delete(_ key: String) async throws -> Bool { try await inner.delete(key) }

  func list(prefix: String) async throws -> (entries: [ConfigEntry], revision: ConfigRevision) {
    try checkUp()
    return try await inner.list(prefix: prefix)
  }

  func watch(prefix: String, after revision: ConfigRevision?) -> AsyncThrowingStream<
    ConfigChange, any Error
  > {
    let inner = self.inner
    return AsyncThrowingStream { continuation in
      watches.withLock { $0.append(continuation) }
      let task = Task {
        do {
          for try await change in inner.watch(prefix: prefix, after: revision) {
            continuation.yield(change)
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  func grantLease(ttl: Duration) async throws -> LeaseID { try await inner.grantLease(ttl: ttl) }
  func keepAlive(_ lease: LeaseID) async throws { try await inner.keepAlive(lease) }
  func revokeLease(_ lease: LeaseID) async throws { try await inner.revokeLease(lease) }
}

@Suite("Governed client when the store is unreachable", .timeLimit(.minutes(1)))
struct GovernedClientOutageTests {
  @Test("the last known instances stay in use until the registry answers again")
  func keepsTheLastKnownInstances() async throws {
    let store = FlakyStore()
    let events = EventLog()
    let server = try await EchoServer.start(tag: "c1")
    let registry = Registry(store: store)
    _ = try await registry.register(Mesh.instance(server.address, "c1"))
    let client = GovernedClient(
      caller: gateway,
      target: try ServiceName("example"),
      registry: registry,
      state: GovernanceState(store: store.inner),
      onEvent: { event in events.events.withLock { $0.append(event) } }
    )
    let running = Task { await client.run() }
    #expect(try await eventually { client.clusters.count == 1 })
    store.setDown(true)
    #expect(
      try await eventually {
        events.events.withLock { $0.contains { $0.message.contains("keeping the 1 instances") } }
      }
    )
    #expect(try await echo(client) == "c1", "calls go on to the instance known before")
    // Back up: the watch starts again and follows changes.
    let second = try await EchoServer.start(tag: "c2")
    _ = try await registry.register(Mesh.instance(second.address, "c2"))
    store.setDown(false)
    #expect(try await eventually { client.clusters.count == 2 })
    running.cancel()
    await client.shutdown()
    await server.stop()
    await second.stop()
  }
}
