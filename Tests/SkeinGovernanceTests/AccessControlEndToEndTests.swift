import SkeinGovernance
import SkeinMetrics
import SkeinRPC
import SkeinThrift
import Testing

/// Two `example/c1` instances on loopback behind the access-control middleware, whose
/// allow-lists come live from the store's `/skein/access/…` keys, each counting its calls
/// (denials included) in its own metrics.
private struct GuardedMesh {
  let store = MemoryConfigStore()
  let rules: AccessRules
  let state: GovernanceState
  let registry: Registry
  let servers: [RPCServer<EchoService>]
  let services: [EchoService]
  let acls: [AccessControlMiddleware]
  let serverMetrics = MetricsAggregator()
  let running: [Task<Void, any Error>]

  init() async throws {
    rules = AccessRules(store: store)
    state = GovernanceState(store: store)
    registry = Registry(store: store)
    var servers: [RPCServer<EchoService>] = []
    var services: [EchoService] = []
    var acls: [AccessControlMiddleware] = []
    for tag in ["a", "b"] {
      let service = EchoService(tag: tag)
      let acl = AccessControlMiddleware(policy: rules)
      let server = try await RPCServer.bind(
        service,
        configuration: .init(
          port: 0,
          identity: ServiceIdentity(name: try ServiceName("example"), cluster: try Cluster("c1"))
        ),
        // Metrics outside access control, so the callee counts what it refused too.
        middleware: [
          MetricsMiddleware(side: .server, factory: serverMetrics, tasks: TaskGauge()), acl,
        ]
      )
      _ = try await registry.register(
        ServiceInstance(
          service: try ServiceName("example"),
          cluster: try Cluster("c1"),
          address: server.localAddress
        )
      )
      servers.append(server)
      services.append(service)
      acls.append(acl)
    }
    self.servers = servers
    self.services = services
    self.acls = acls
    // What these tests check is who is let in, not how fast: a generous timeout keeps a
    // stall of the shared machine (the whole suite starting at once) from reading as a verdict.
    try await store.put(
      GovernanceSwitch.config.key(for: try RoutePattern(path: "/*/*/example/*/*")),
      #"{"timeout_ms":10000}"#
    )
    let (rules, state) = (self.rules, self.state)
    running =
      servers.map { server in Task { try await server.run() } } + [
        Task { await rules.run() }, Task { await state.run() },
      ]
  }

  /// A governed client of `example` calling as `caller/c1`, its calls counted in `metrics`.
  func client(_ caller: String, metrics: MetricsAggregator) async throws -> GovernedClient {
    let client = GovernedClient(
      caller: ServiceIdentity(name: try ServiceName(caller), cluster: try Cluster("c1")),
      target: try ServiceName("example"),
      registry: registry,
      state: state,
      middleware: [MetricsMiddleware(side: .client, factory: metrics, tasks: TaskGauge())]
    )
    Task { await client.run() }
    let route = try FiveTuple(path: "/\(caller)/c1/example/c1/Echo")
    #expect(try await eventually { client.clusters.count == 1 })
    #expect(try await eventually { state.policy(for: route).timeout == .seconds(10) })
    return client
  }

  /// Sets the allow-list of `example`'s `Echo` (all clusters) and waits until it is in force.
  func allow(
    _ callers: [String],
    key: String = AccessRules.key(to: "example", toCluster: "*", method: "Echo")
  )
    async throws
  {
    let names = Set(try callers.map { try ServiceName($0) })
    try await store.put(key, AccessRules.value(callers: names))
    let route = try FiveTuple(path: "/x/c1/example/c1/Echo")
    #expect(try await eventually { rules.allowedCallers(for: route) == names })
  }

  /// Calls that reached a handler, on both instances.
  var handled: Int { services.map(\.calls).reduce(0, +) }
  /// Denials counted by the access-control middleware, on both instances.
  var denied: Int { acls.flatMap(\.deniedCalls.values).reduce(0, +) }

  func stop() {
    for task in running { task.cancel() }
  }
}

/// The calls `side`'s metrics counted as failed with `kind`, over every route.
private func errors(_ kind: String, in metrics: MetricsAggregator) -> Int64 {
  metrics.collect().counters.filter { key, _ in
    key.label == MetricsMiddleware.Label.errors
      && key.dimensions.contains { $0.name == RouteDimensions.kind && $0.value == kind }
  }.values.reduce(0, +)
}

/// The error an intruder's call ends with.
private func denial(_ client: any ThriftCallInvoker) async -> RPCError? {
  do {
    _ = try await echo(client)
    return nil
  } catch {
    return error as? RPCError
  }
}

@Suite("access control end to end, on real sockets", .timeLimit(.minutes(1)))
struct AccessControlEndToEndTests {
  @Test("a caller not on the list is denied on a direct call, and allowed ones pass")
  func directCall() async throws {
    let mesh = try await GuardedMesh()
    try await mesh.allow(["gateway"])
    let intruder = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("intruder"), cluster: try Cluster("c1")),
        target: ServiceIdentity(name: try ServiceName("example")),
        instances: [mesh.servers[0].localAddress],
        timeout: .seconds(10),
        retries: 3
      )
    )
    let error = await denial(intruder)
    #expect(error?.code == .denied)
    #expect(error?.message.contains("'intruder' may not call 'Echo'") == true)
    #expect(mesh.handled == 0 && mesh.denied == 1)
    #expect(errors("denied", in: mesh.serverMetrics) == 1)

    let gatewayMetrics = MetricsAggregator()
    let allowed = try await mesh.client("gateway", metrics: gatewayMetrics)
    #expect(["a", "b"].contains(try await echo(allowed)))
    #expect(mesh.handled == 1 && mesh.denied == 1)
    await intruder.shutdown()
    await allowed.shutdown()
    mesh.stop()
  }

  @Test("a governed client with retries does not carry a denial to the other instance")
  func deniedCallsAreNotRetried() async throws {
    let mesh = try await GuardedMesh()
    try await mesh.allow(["gateway"])
    // Retries are on for the route, and do work for errors that are safe to retry.
    try await mesh.store.put(
      GovernanceSwitch.config.key(for: try RoutePattern(path: "/*/*/example/*/*")),
      #"{"retries":2,"timeout_ms":10000}"#
    )
    let route = try FiveTuple(path: "/intruder/c1/example/c1/Echo")
    #expect(try await eventually { mesh.state.policy(for: route).retries == 2 })
    let metrics = MetricsAggregator()
    let intruder = try await mesh.client("intruder", metrics: metrics)
    for _ in 0..<10 {
      let error = await denial(intruder)
      #expect(error?.code == .denied)
    }
    // One try per call, never a second instance: ten calls, ten denials, no handler ran.
    #expect(mesh.denied == 10)
    #expect(mesh.handled == 0)
    #expect(errors("denied", in: metrics) == 10)
    #expect(errors("denied", in: mesh.serverMetrics) == 10)
    await intruder.shutdown()
    mesh.stop()
  }

  @Test(
    "a change of the allow-list applies to the next call, both ways; a bad value changes nothing"
  )
  func afterAConfigChange() async throws {
    let mesh = try await GuardedMesh()
    let metrics = MetricsAggregator()
    let intruder = try await mesh.client("intruder", metrics: metrics)
    // No rule: the method is open.
    #expect(try await echo(intruder) != "")
    try await mesh.allow(["gateway"])
    #expect(await denial(intruder)?.code == .denied)
    try await mesh.allow(["gateway", "intruder"])
    #expect(try await echo(intruder) != "")
    try await mesh.allow(["gateway"])
    #expect(await denial(intruder)?.code == .denied)
    // A malformed value is ignored: the last good list stays in force.
    try await mesh.store.put(
      AccessRules.key(to: "example", toCluster: "*", method: "Echo"),
      #"{"callers":"intruder"}"#
    )
    try await Task.sleep(for: .milliseconds(100))
    #expect(await denial(intruder)?.code == .denied)
    // The most specific rule wins: a rule for c1 alone admits the intruder there.
    try await mesh.allow(
      ["intruder"],
      key: AccessRules.key(to: "example", toCluster: "c1", method: "Echo")
    )
    #expect(try await echo(intruder) != "")
    try await mesh.store.delete(AccessRules.key(to: "example", toCluster: "c1", method: "Echo"))
    try await mesh.store.delete(AccessRules.key(to: "example", toCluster: "*", method: "Echo"))
    let route = try FiveTuple(path: "/intruder/c1/example/c1/Echo")
    #expect(try await eventually { mesh.rules.allowedCallers(for: route) == nil })
    #expect(try await echo(intruder) != "")
    #expect(errors("denied", in: metrics) == 3)
    #expect(mesh.denied == 3 && mesh.handled == 4)
    await intruder.shutdown()
    mesh.stop()
  }
}
