import SkeinGovernance
import SkeinRPC
import Synchronization
import Testing

/// A policy a test sets by hand.
final class FixedPolicy: RoutePolicyProvider {
  let current: Mutex<RoutePolicy>
  init(_ policy: RoutePolicy) { current = Mutex(policy) }
  func policy(for route: FiveTuple) -> RoutePolicy { current.withLock { $0 } }
}

@Suite("Retries and per-route policy", .timeLimit(.minutes(1)))
struct RetryAndPolicyTests {
  @Test("a connect failure is retried on another instance")
  func retriesConnectFailures() async throws {
    let live = try await EchoServer.start(tag: "live")
    let dead = try closedPort()
    let client = try exampleClient([dead, live.address], retries: 1)
    for _ in 0..<10 { #expect(try await echo(client) == "live") }
    #expect(live.calls == 10)
    // Without retries, the calls the balancer sends to the closed port fail.
    let plain = try exampleClient([dead, live.address])
    var failures = 0
    for _ in 0..<10 {
      do {
        _ = try await echo(plain)
      } catch let error as RPCError {
        #expect(error.code == .connectFailed)
        failures += 1
      }
    }
    #expect(failures == 5)
    await client.shutdown()
    await plain.shutdown()
    await live.stop()
  }

  @Test("an instance whose pool admits no more calls is passed over for another")
  func retriesOverload() async throws {
    let busy = try await EchoServer.start(tag: "busy")
    let spare = try await EchoServer.start(tag: "spare")
    let client = try exampleClient([busy.address], retries: 1, maxPending: 1)
    // Round robin at 100 to 1 sends the first calls to the busy instance.
    await client.setInstances([
      WeightedInstance(busy.address, weight: 100), WeightedInstance(spare.address, weight: 1),
    ])
    let slow = Task { try await echo(client, delayMs: 500) }
    #expect(try await eventually { busy.calls == 1 })
    #expect(try await echo(client) == "spare", "overloaded on busy, retried on spare")
    #expect(try await slow.value == "busy")
    await client.shutdown()
    await busy.stop()
    await spare.stop()
  }

  @Test("timeouts and remote exceptions are never retried: the handler may have run")
  func noRetryAfterTheHandler() async throws {
    let first = try await EchoServer.start(tag: "a")
    let second = try await EchoServer.start(tag: "b")
    // Generous times: under a loaded suite the request must reach the handler before the
    // timeout, or the test would prove nothing.
    let client = try exampleClient(
      [first.address, second.address],
      timeout: .milliseconds(500),
      retries: 2
    )
    // Connections to both first: opening one is no part of what is measured, and at the
    // suite's start the task that opens it can wait longer than the call's timeout (a
    // warm-up call may time out too, while its connection goes on opening).
    for _ in 0..<40 where first.calls == 0 || second.calls == 0 { _ = try? await echo(client) }
    try #require(first.calls > 0 && second.calls > 0)
    let warm = first.calls + second.calls
    let timeout = await #expect(throws: RPCError.self) { try await echo(client, delayMs: 1500) }
    #expect(timeout?.code == .timeout)
    #expect(try await eventually { first.calls + second.calls > warm })
    #expect(first.calls + second.calls == warm + 1)
    let patient = try exampleClient([first.address, second.address], retries: 2)
    let remote = await #expect(throws: RPCError.self) { try await echo(patient, fail: true) }
    #expect(remote?.code == .remote)
    #expect(first.calls + second.calls == warm + 2)
    await client.shutdown()
    await patient.shutdown()
    await first.stop()
    await second.stop()
  }

  @Test("with every instance unreachable the retries run out and the last error comes back")
  func retriesRunOut() async throws {
    let client = try exampleClient([try closedPort(), try closedPort()], retries: 5)
    let error = await #expect(throws: RPCError.self) { try await echo(client) }
    #expect(error?.code == .connectFailed)
    await client.shutdown()
  }

  @Test("the route's policy sets retries and the timeout, read on every call")
  func policyPerCall() async throws {
    let live = try await EchoServer.start(tag: "live")
    let dead = try closedPort()
    let policy = FixedPolicy(RoutePolicy(retries: 1))
    let client = try exampleClient([dead, live.address], policy: policy)
    for _ in 0..<4 { #expect(try await echo(client) == "live") }
    policy.current.withLock { $0 = RoutePolicy(timeout: .milliseconds(50), retries: 1) }
    let error = await #expect(throws: RPCError.self) { try await echo(client, delayMs: 300) }
    #expect(error?.code == .timeout, "the route's 50 ms beats the client's 5 s")
    // An inherited deadline still shortens the route's timeout.
    policy.current.withLock { $0 = RoutePolicy(timeout: .seconds(5), retries: 1) }
    let parent = CallContext(
      route: try FiveTuple(path: "/edge/c1/gateway/c1/Visit"),
      logID: "x",
      deadline: .now + .milliseconds(50)
    )
    let inherited = await #expect(throws: RPCError.self) {
      try await CallContext.$current.withValue(parent) { try await echo(client, delayMs: 300) }
    }
    #expect(inherited?.code == .timeout)
    await client.shutdown()
    await live.stop()
  }

  @Test("switching balancer kind takes effect on the next call; calls in flight finish")
  func switchBalancer() async throws {
    let first = try await EchoServer.start(tag: "a")
    let second = try await EchoServer.start(tag: "b")
    let policy = FixedPolicy(RoutePolicy())
    let client = try exampleClient([first.address, second.address], policy: policy)
    let instances = client.instances
    let slow = Task { try await echo(client, delayMs: 300) }
    while client.balancers["round_robin"]!.state(of: instances).values.allSatisfy({
      $0.inFlight == 0
    }) {
      try await Task.sleep(for: .milliseconds(5))
    }
    policy.current.withLock { $0 = RoutePolicy(balancer: "p2c") }
    for _ in 0..<20 { _ = try await echo(client) }
    let p2c = client.balancers["p2c"]!.state(of: instances)
    #expect(p2c.values.allSatisfy { $0.latencyMilliseconds > 0 }, "p2c measured both: \(p2c)")
    _ = try await slow.value
    let roundRobin = client.balancers["round_robin"]!.state(of: instances)
    #expect(
      roundRobin.values.allSatisfy { $0.inFlight == 0 },
      "the slow call finished where it began"
    )
    await client.shutdown()
    await first.stop()
    await second.stop()
  }
}
