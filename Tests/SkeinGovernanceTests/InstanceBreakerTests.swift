import SkeinGovernance
import SkeinRPC
import Synchronization
import Testing

@Suite(
  "Breakers: live thresholds, verdicts, instance breakers in the client",
  .timeLimit(.minutes(1))
)
struct InstanceBreakerTests {
  @Test("new thresholds apply to a running breaker; an open one reads as refusing until cooled")
  func reconfigureAndRefusing() {
    let time = ManualTime()
    let breaker = CircuitBreaker(
      configuration: BreakerConfiguration(minimumCalls: 10, coolDown: .seconds(5)),
      now: { time.now }
    )
    for _ in 0..<4 { breaker.record(success: false) }
    #expect(breaker.current == .closed, "4 calls are below the minimum of 10")
    // Lowering the minimum keeps the counts: the next failure opens it.
    #expect(
      breaker.allow(configuration: BreakerConfiguration(minimumCalls: 5, coolDown: .seconds(5)))
    )
    breaker.record(success: false)
    #expect(breaker.current == .open)
    #expect(breaker.isRefusing)
    breaker.reconfigure(BreakerConfiguration(minimumCalls: 5, coolDown: .seconds(1)))
    time.advance(by: .seconds(1))
    #expect(!breaker.isRefusing, "the shorter cool-down is in force")
    #expect(breaker.current == .halfOpen)
  }

  @Test("verdicts: failures, answers, and calls that judged nothing")
  func verdicts() {
    let time = ManualTime()
    let breaker = CircuitBreaker(
      configuration: BreakerConfiguration(
        minimumCalls: 2,
        coolDown: .seconds(1),
        halfOpenProbes: 1
      ),
      now: { time.now }
    )
    breaker.record(error: RPCError(.denied, "no"))
    breaker.record(error: EchoFailure())
    breaker.record(error: RPCError(.cancelled, "gone"))
    #expect(breaker.current == .closed, "a refusal and a declared exception are answers")
    breaker.record(error: RPCError(.timeout, "slow"))
    breaker.record(error: RPCError(.connectFailed, "down"))
    #expect(breaker.current == .open)
    time.advance(by: .seconds(1))
    #expect(breaker.allow())
    #expect(!breaker.allow(), "one probe at a time")
    breaker.record(error: CancellationError())
    #expect(breaker.allow(), "a cancelled probe gives its place back")
    breaker.record(success: true)
    #expect(breaker.current == .closed)
  }

  @Test("a failing instance's breaker opens, the balancer skips it, half-open probes close it")
  func clientSkipsOpenInstances() async throws {
    let time = ManualTime()
    let log = TransitionLog()
    let healthy = try await EchoServer.start(tag: "a")
    let sick = try await EchoServer.start(tag: "b")
    sick.setFailing(true)
    let client = try exampleClient(
      [healthy.address, sick.address],
      instanceBreaker: BreakerConfiguration(
        minimumCalls: 3,
        failureRate: 0.5,
        coolDown: .seconds(5),
        halfOpenProbes: 1
      ),
      time: time,
      log: log
    )
    // Round robin alternates: three calls reach the sick instance and fail.
    for _ in 0..<6 { _ = try? await echo(client) }
    #expect(sick.calls == 3)
    #expect(client.instanceBreakerStates[sick.address] == .open)
    #expect(client.instanceBreakerStates[healthy.address] == .closed)
    for _ in 0..<10 { #expect(try await echo(client) == "a") }
    #expect(sick.calls == 3, "the open instance got nothing")
    // After the cool-down the sick instance gets one probe; it fails and reopens.
    time.advance(by: .seconds(5))
    for _ in 0..<4 { _ = try? await echo(client) }
    #expect(sick.calls == 4)
    #expect(client.instanceBreakerStates[sick.address] == .open)
    // Healthy again: the next probe closes it and it takes its share.
    sick.setFailing(false)
    time.advance(by: .seconds(5))
    var answers: [String] = []
    for _ in 0..<6 { answers.append(try await echo(client)) }
    #expect(client.instanceBreakerStates[sick.address] == .closed)
    #expect(answers.filter { $0 == "b" }.count >= 2, "\(answers)")
    let port = sick.address.port
    #expect(
      log.lines.withLock { $0 } == [
        "\(port) closed->open", "\(port) open->half_open", "\(port) half_open->open",
        "\(port) open->half_open", "\(port) half_open->closed",
      ]
    )
    await client.shutdown()
    await healthy.stop()
    await sick.stop()
  }

  @Test("when every instance's breaker is open the call fails fast with breaker_open")
  func allOpen() async throws {
    let time = ManualTime()
    let sick = try await EchoServer.start(tag: "b")
    sick.setFailing(true)
    let client = try exampleClient(
      [sick.address],
      instanceBreaker: BreakerConfiguration(minimumCalls: 2, coolDown: .seconds(5)),
      time: time
    )
    for _ in 0..<2 { _ = try? await echo(client) }
    let error = await #expect(throws: RPCError.self) { try await echo(client) }
    #expect(error?.code == .breakerOpen)
    #expect(sick.calls == 2)
    await client.shutdown()
    await sick.stop()
  }
}

@Suite("Instance breakers follow the route's thresholds", .timeLimit(.minutes(1)))
struct InstanceBreakerPolicyTests {
  @Test("thresholds from the route's policy apply to the instance breakers on the next call")
  func thresholdsFromPolicy() async throws {
    let time = ManualTime()
    let sick = try await EchoServer.start(tag: "b")
    sick.setFailing(true)
    // The client's own thresholds would need 100 calls; the route's need 2.
    let policy = FixedPolicy(RoutePolicy())
    let client = try exampleClient(
      [sick.address],
      instanceBreaker: BreakerConfiguration(minimumCalls: 100),
      policy: policy,
      time: time
    )
    for _ in 0..<3 { _ = try? await echo(client) }
    #expect(client.instanceBreakerStates[sick.address] == .closed)
    policy.current.withLock {
      $0 = RoutePolicy(breaker: BreakerConfiguration(minimumCalls: 4, coolDown: .seconds(5)))
    }
    _ = try? await echo(client)
    #expect(client.instanceBreakerStates[sick.address] == .open, "the 3 earlier failures count")
    let error = await #expect(throws: RPCError.self) { try await echo(client) }
    #expect(error?.code == .breakerOpen)
    #expect(sick.calls == 4)
    await client.shutdown()
    await sick.stop()
  }
}
