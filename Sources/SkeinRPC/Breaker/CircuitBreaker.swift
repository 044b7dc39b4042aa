import Synchronization

/// A circuit breaker's thresholds; they come from a route's `/…/config` and may change while
/// the breaker runs (``CircuitBreaker/reconfigure(_:)``).
public struct BreakerConfiguration: Sendable, Hashable, Codable {
  /// The rolling window calls are counted over (default 10 s).
  public var window: Duration
  /// How many buckets the window is kept in; the window rolls one bucket at a time.
  public var buckets: Int
  /// Calls the window must hold before the rate means anything (default 20).
  public var minimumCalls: Int
  /// The failure rate that opens the breaker (default 0.5).
  public var failureRate: Double
  /// How long an open breaker refuses calls before it tries again (default 5 s).
  public var coolDown: Duration
  /// Probes a half-open breaker lets through; all must succeed to close it (default 3).
  public var halfOpenProbes: Int

  /// Creates a configuration; the defaults are sane for most routes.
  public init(
    window: Duration = .seconds(10),
    buckets: Int = 10,
    minimumCalls: Int = 20,
    failureRate: Double = 0.5,
    coolDown: Duration = .seconds(5),
    halfOpenProbes: Int = 3
  ) {
    // A window of zero would make its buckets zero wide.
    self.window = max(window, .milliseconds(1))
    self.buckets = max(1, buckets)
    self.minimumCalls = max(1, minimumCalls)
    self.failureRate = min(max(failureRate, 0), 1)
    self.coolDown = coolDown
    self.halfOpenProbes = max(1, halfOpenProbes)
  }
}

/// Where a breaker stands.
public enum BreakerState: String, Sendable, Hashable, Codable {
  /// Calls pass; failures are counted.
  case closed
  /// Calls are refused until the cool-down ends.
  case open
  /// A few probe calls pass; their results decide.
  case halfOpen = "half_open"
}

/// A circuit breaker for one route or one instance: closed → open when, over the rolling
/// window, at least ``BreakerConfiguration/minimumCalls`` calls were seen and the failure rate
/// reached the threshold; open → half-open after the cool-down; half-open → closed when every
/// probe succeeds, back to open at the first failure.
///
/// Time comes from `now`, so tests drive it with a manual clock and never sleep. The thresholds
/// can change while it runs, because they are governance data an operator edits live.
public final class CircuitBreaker: Sendable {
  /// A state change, for the event feed.
  public typealias Transition = @Sendable (_ from: BreakerState, _ to: BreakerState) -> Void

  private struct Bucket {
    var index: Int64
    var calls = 0
    var failures = 0
  }

  private struct State {
    var configuration: BreakerConfiguration
    var state: BreakerState = .closed
    var buckets: [Bucket] = []
    var openedAt: ContinuousClock.Instant?
    var probesAdmitted = 0
    var probesSucceeded = 0
  }

  private let now: @Sendable () -> ContinuousClock.Instant
  private let epoch: ContinuousClock.Instant
  private let onTransition: Transition?
  private let state: Mutex<State>
  /// When an open breaker's cool-down ends, in nanoseconds after `epoch`; `Int64.min` when it is
  /// not open. Written under `state`'s lock, read without it, so a balancer can skip open
  /// instances with one atomic load each; a stale read only costs one refused `allow()`.
  private let refusingUntil = Atomic<Int64>(.min)

  /// Creates a closed breaker.
  public init(
    configuration: BreakerConfiguration = BreakerConfiguration(),
    now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
    onTransition: Transition? = nil
  ) {
    self.state = Mutex(State(configuration: configuration))
    self.now = now
    self.epoch = now()
    self.onTransition = onTransition
  }

  /// The thresholds in force.
  public var configuration: BreakerConfiguration { state.withLock { $0.configuration } }

  /// Puts new thresholds in force. Counts are kept when only the thresholds change; they are
  /// dropped when the window's shape (length or buckets) changes, since old buckets would no
  /// longer line up. An open breaker's cool-down is measured with the new length.
  public func reconfigure(_ configuration: BreakerConfiguration) {
    state.withLock { state in apply(configuration, to: &state) }
  }

  /// The current state (an open breaker whose cool-down ended reads as half-open).
  public var current: BreakerState {
    let instant = now()
    let (state, change) = self.state.withLock { state in
      let change = coolIfDue(&state, at: instant)
      return (state.state, change)
    }
    if let change { onTransition?(change.0, change.1) }
    return state
  }

  /// Whether the breaker is open and still cooling down: what a balancer skips. A half-open
  /// breaker is not refusing; its probes go through ``allow(configuration:)``.
  public var isRefusing: Bool {
    let until = refusingUntil.load(ordering: .relaxed)
    return until != .min && (now() - epoch).nanoseconds < until
  }

  /// Whether a call may go ahead now; a half-open breaker admits its probes one by one.
  ///
  /// - Parameter configuration: Thresholds to put in force first, when they differ from the
  ///   current ones (a route's config read for this call); `nil` keeps them.
  public func allow(configuration: BreakerConfiguration? = nil) -> Bool {
    let instant = now()
    let (allowed, change) = state.withLock { state -> (Bool, (BreakerState, BreakerState)?) in
      if let configuration, configuration != state.configuration {
        apply(configuration, to: &state)
      }
      let change = coolIfDue(&state, at: instant)
      switch state.state {
      case .closed:
        return (true, change)
      case .open:
        return (false, change)
      case .halfOpen:
        guard state.probesAdmitted < state.configuration.halfOpenProbes else {
          return (false, change)
        }
        state.probesAdmitted += 1
        return (true, change)
      }
    }
    if let change { onTransition?(change.0, change.1) }
    return allowed
  }

  /// Records a call that ended with `error` by what the error says about the callee: a failure
  /// for timeouts, connect and transport failures, overload and remote errors; a success for a
  /// declared exception or an access refusal (the callee answered); no verdict at all for a
  /// cancellation, a degraded route or an open breaker below (the callee was not judged).
  public func record(error: any Error) {
    guard let error = error as? RPCError else {
      if error is CancellationError { release() } else { record(success: true) }
      return
    }
    switch error.code {
    case .cancelled, .degraded, .breakerOpen: release()
    case .denied: record(success: true)
    default: record(success: false)
    }
  }

  /// Forgets a call that was admitted and ended without a verdict: a half-open breaker gets
  /// the probe back, so a cancelled probe cannot leave it half-open for good.
  public func release() {
    state.withLock { state in
      if state.state == .halfOpen, state.probesAdmitted > state.probesSucceeded {
        state.probesAdmitted -= 1
      }
    }
  }

  /// Records a finished call (a timeout counts as a failure).
  public func record(success: Bool) {
    let instant = now()
    let change = state.withLock { state -> (BreakerState, BreakerState)? in
      let configuration = state.configuration
      switch state.state {
      case .closed:
        count(success: success, in: &state, at: instant)
        let (calls, failures) = totals(state, at: instant)
        guard calls >= configuration.minimumCalls,
          Double(failures) / Double(calls) >= configuration.failureRate
        else { return nil }
        open(&state, at: instant)
        return (.closed, .open)
      case .open:
        // A call admitted before the breaker opened: it no longer counts.
        return nil
      case .halfOpen:
        guard success else {
          open(&state, at: instant)
          return (.halfOpen, .open)
        }
        state.probesSucceeded += 1
        guard state.probesSucceeded >= configuration.halfOpenProbes else { return nil }
        state = State(configuration: configuration)
        return (.halfOpen, .closed)
      }
    }
    if let change { onTransition?(change.0, change.1) }
  }

  private func apply(_ configuration: BreakerConfiguration, to state: inout State) {
    let old = state.configuration
    state.configuration = configuration
    if old.window != configuration.window || old.buckets != configuration.buckets {
      state.buckets.removeAll()
    }
    if state.state == .open, let openedAt = state.openedAt {
      refusingUntil.store(
        (openedAt + configuration.coolDown - epoch).nanoseconds,
        ordering: .relaxed
      )
    }
  }

  private func coolIfDue(_ state: inout State, at instant: ContinuousClock.Instant) -> (
    BreakerState, BreakerState
  )? {
    guard state.state == .open, let openedAt = state.openedAt,
      instant - openedAt >= state.configuration.coolDown
    else { return nil }
    state.state = .halfOpen
    state.probesAdmitted = 0
    state.probesSucceeded = 0
    refusingUntil.store(.min, ordering: .relaxed)
    return (.open, .halfOpen)
  }

  private func open(_ state: inout State, at instant: ContinuousClock.Instant) {
    state.state = .open
    state.openedAt = instant
    state.buckets.removeAll()
    refusingUntil.store(
      (instant + state.configuration.coolDown - epoch).nanoseconds,
      ordering: .relaxed
    )
  }

  private func bucketIndex(
    at instant: ContinuousClock.Instant,
    _ configuration: BreakerConfiguration
  )
    -> Int64
  {
    let width = configuration.window / configuration.buckets
    return Int64(((instant - epoch) / width).rounded(.down))
  }

  private func count(success: Bool, in state: inout State, at instant: ContinuousClock.Instant) {
    let buckets = Int64(state.configuration.buckets)
    let index = bucketIndex(at: instant, state.configuration)
    state.buckets.removeAll { $0.index <= index - buckets }
    if state.buckets.last?.index != index { state.buckets.append(Bucket(index: index)) }
    state.buckets[state.buckets.count - 1].calls += 1
    if !success { state.buckets[state.buckets.count - 1].failures += 1 }
  }

  /// Calls and failures in the window; a loop rather than a filtered copy, since it runs on
  /// every recorded call.
  private func totals(_ state: State, at instant: ContinuousClock.Instant) -> (Int, Int) {
    let oldest =
      bucketIndex(at: instant, state.configuration) - Int64(state.configuration.buckets)
    var calls = 0
    var failures = 0
    for bucket in state.buckets where bucket.index > oldest {
      calls += bucket.calls
      failures += bucket.failures
    }
    return (calls, failures)
  }
}
