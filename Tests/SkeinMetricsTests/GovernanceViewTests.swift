import SkeinDemoIDL
import SkeinGovernance
import SkeinMetrics
import SkeinRPC
import Testing

@Suite("Governance state in a node's snapshot", .timeLimit(.minutes(1)))
struct GovernanceViewTests {
  @Test("a caller's route shows its breaker, degrade flag, traffic split and instances")
  func governanceInSnapshot() async throws {
    let store = MemoryConfigStore()
    let state = GovernanceState(store: store)
    let following = Task { await state.run() }
    defer { following.cancel() }
    let example = try ServiceName("example")
    let c1 = try Cluster("c1")
    var servers: [RPCServer<ExampleServiceProcessor<Answer>>] = []
    var serving: [Task<Void, any Error>] = []
    for _ in 0..<2 {
      let server = try await RPCServer.bind(
        ExampleServiceProcessor(Answer()),
        configuration: .init(
          port: 0,
          identity: ServiceIdentity(name: example, cluster: c1)
        )
      )
      servers.append(server)
      serving.append(Task { try await server.run() })
    }
    defer { for task in serving { task.cancel() } }
    let caller = ServiceIdentity(name: try ServiceName("gateway"), cluster: try Cluster("c1"))
    let aggregator = MetricsAggregator()
    let client = GovernedClient(
      caller: caller,
      target: example,
      registry: Registry(store: store),
      state: state,
      middleware: [MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())],
      // Nothing here is about time: the default 1 s ran out once, for a first call that had
      // 262 ms left when its request went out, while the whole suite was starting on 2 cores.
      tuning: { $0.timeout = .seconds(10) }
    )
    await client.setInstances(
      servers.map {
        ServiceInstance(
          service: example,
          cluster: c1,
          address: $0.localAddress,
          weight: 30
        )
      }
    )
    _ = try await store.put("/skein/governance/gateway/c1/example/*/Visit/traffic", #"{"c1":100}"#)
    while state.trafficWeights(from: caller, to: example, method: "Visit") == nil {
      try await Task.sleep(for: .milliseconds(5))
    }
    for _ in 0..<4 {
      _ = try await ExampleServiceClient(client).visit(req: ExampleRequest(name: "x"))
    }

    let snapshotter = Snapshotter(
      identity: .init(service: "gateway", cluster: "c1", instance: "g1", address: nil),
      aggregator: aggregator,
      tasks: TaskGauge(),
      governance: GovernanceView(state: state, clients: [client]).view
    )
    let route = try #require(snapshotter.take().routes.first)
    #expect(route.requests == 4)
    #expect(route.breaker == "closed" && route.degraded == false && route.traffic == ["c1": 100])
    let instances = try #require(route.instances)
    #expect(Set(instances.map(\.address)) == Set(servers.map(\.localAddress.description)))
    #expect(instances.allSatisfy { $0.weight == 30 && $0.inflight == 0 && $0.breaker == "closed" })
    await client.shutdown()
  }

  private struct Answer: ExampleService {
    func visit(req: ExampleRequest) async throws -> ExampleResponse {
      ExampleResponse(resp: "hello, " + req.name)
    }
  }
}
