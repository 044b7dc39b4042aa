import SkeinGovernance
import SkeinRPC
import SkeinThrift
import Synchronization
import Testing

@Suite struct CircuitBreakerTests {
  let configuration = BreakerConfiguration(
    window: .seconds(10),
    buckets: 10,
    minimumCalls: 10,
    failureRate: 0.5,
    coolDown: .seconds(5),
    halfOpenProbes: 2
  )

  func breaker(_ time: ManualTime, _ log: TransitionLog = TransitionLog()) -> CircuitBreaker {
    CircuitBreaker(configuration: configuration, now: { time.now }) { from, to in
      log.lines.withLock { $0.append("\(from.rawValue)->\(to.rawValue)") }
    }
  }

  @Test func staysClosedBelowTheMinimumAndTheRate() {
    let time = ManualTime()
    let log = TransitionLog()
    let breaker = breaker(time, log)
    for _ in 0..<9 { breaker.record(success: false) }
    #expect(breaker.current == .closed, "9 calls are below the minimum of 10")
    let steady = self.breaker(time, log)
    for _ in 0..<20 { steady.record(success: true) }
    for _ in 0..<10 { steady.record(success: false) }
    #expect(steady.current == .closed, "10 failures in 30 calls is below 50%")
    #expect(log.lines.withLock { $0 }.isEmpty)
  }

  @Test func everyTransition() {
    let time = ManualTime()
    let log = TransitionLog()
    let breaker = breaker(time, log)
    for _ in 0..<5 { breaker.record(success: true) }
    for _ in 0..<5 { breaker.record(success: false) }
    #expect(breaker.current == .open)
    #expect(!breaker.allow())
    time.advance(by: .seconds(4))
    #expect(!breaker.allow(), "still cooling down")
    time.advance(by: .seconds(1))
    #expect(breaker.allow() && breaker.allow(), "two probes admitted")
    #expect(!breaker.allow(), "no third probe")
    #expect(breaker.current == .halfOpen)
    breaker.record(success: true)
    breaker.record(success: false)
    #expect(breaker.current == .open, "a failed probe reopens")
    time.advance(by: .seconds(5))
    #expect(breaker.allow() && breaker.allow())
    breaker.record(success: true)
    breaker.record(success: true)
    #expect(breaker.current == .closed)
    #expect(breaker.allow())
    #expect(
      log.lines.withLock { $0 } == [
        "closed->open", "open->half_open", "half_open->open", "open->half_open",
        "half_open->closed",
      ]
    )
  }

  @Test func oldFailuresRollOutOfTheWindow() {
    let time = ManualTime()
    let breaker = breaker(time)
    for _ in 0..<9 { breaker.record(success: false) }
    time.advance(by: .seconds(11))
    // The nine failures are outside the window now: one more is one call of one failure.
    breaker.record(success: false)
    #expect(breaker.current == .closed)
    for _ in 0..<9 { breaker.record(success: false) }
    #expect(breaker.current == .open)
  }
}

/// The transitions a breaker reported, in order.
final class TransitionLog: Sendable {
  let lines = Mutex<[String]>([])
}

@Suite struct BreakerMiddlewareTests {
  @Test("a failing route opens its breaker; calls are then refused without reaching it")
  func opensAndRefuses() async throws {
    let time = ManualTime()
    let log = TransitionLog()
    let middleware = BreakerMiddleware(
      configuration: { _ in
        BreakerConfiguration(
          minimumCalls: 4,
          failureRate: 0.5,
          coolDown: .seconds(5),
          halfOpenProbes: 1
        )
      },
      now: { time.now },
      onTransition: { route, from, to in
        log.lines.withLock { $0.append("\(route) \(from.rawValue)->\(to.rawValue)") }
      }
    )
    let route = try FiveTuple(path: "/gateway/c1/example/c2/Visit")
    let reached = Mutex(0)
    let failing = Mutex(true)
    let endpoint = MiddlewareChain([middleware]).wrap(
      Endpoint<ProbeMethod> { _, _ in
        reached.withLock { $0 += 1 }
        if failing.withLock({ $0 }) { throw RPCError(.timeout, "slow") }
        return ThriftOnewayResult()
      }
    )
    let context = CallContext(route: route, logID: "x")
    for _ in 0..<4 { _ = try? await endpoint(context, ProbeArgs()) }
    #expect(middleware.states[route] == .open)
    do {
      _ = try await endpoint(context, ProbeArgs())
    } catch let error as RPCError {
      #expect(error.code == .breakerOpen)
    }
    #expect(reached.withLock { $0 } == 4, "the refused call never reached the endpoint")
    time.advance(by: .seconds(5))
    failing.withLock { $0 = false }
    _ = try await endpoint(context, ProbeArgs())
    #expect(middleware.states[route] == .closed)
    #expect(
      log.lines.withLock { $0 } == [
        "\(route) closed->open", "\(route) open->half_open", "\(route) half_open->closed",
      ]
    )
  }
}
