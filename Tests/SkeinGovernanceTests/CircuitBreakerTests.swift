import SkeinGovernance
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
