public import SkeinRPC
public import SkeinThrift
import Synchronization

/// A circuit breaker per route on the client: refuses calls while the route's breaker is open,
/// and counts each call's outcome (``CircuitBreaker/record(error:)``). Failures are what say
/// the callee is unwell: timeouts, connect and transport failures, overload, remote internal
/// errors. A declared IDL exception is a normal answer and counts as a success; a cancelled
/// call gives no verdict. The breaker is the same type each instance of an ``RPCClient`` has.
public final class BreakerMiddleware: Middleware {
  private let configuration: @Sendable (FiveTuple) -> BreakerConfiguration
  private let now: @Sendable () -> ContinuousClock.Instant
  private let onTransition: @Sendable (FiveTuple, BreakerState, BreakerState) -> Void
  private let breakers = Mutex<[FiveTuple: CircuitBreaker]>([:])

  /// Creates the middleware.
  ///
  /// - Parameters:
  ///   - configuration: The thresholds for a route, read on every call so a change to the
  ///     route's config applies to its running breaker.
  ///   - now: The clock; tests pass a manual one.
  ///   - onTransition: Told of every state change (the dashboard's event feed).
  public init(
    configuration: @escaping @Sendable (FiveTuple) -> BreakerConfiguration = { _ in
      BreakerConfiguration()
    },
    now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
    onTransition: @escaping @Sendable (FiveTuple, BreakerState, BreakerState) -> Void = { _, _, _ in
    }
  ) {
    self.configuration = configuration
    self.now = now
    self.onTransition = onTransition
  }

  /// Each route's breaker state, for the metrics stream.
  public var states: [FiveTuple: BreakerState] {
    breakers.withLock { $0 }.mapValues(\.current)
  }

  /// Refuses the call when the breaker is open; records its outcome otherwise.
  public nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    let breaker = breaker(for: context.route)
    guard breaker.allow(configuration: configuration(context.route)) else {
      throw RPCError(.breakerOpen, "the circuit breaker of \(context.route) is open")
    }
    do {
      let result = try await next(context, args)
      breaker.record(success: true)
      return result
    } catch {
      breaker.record(error: error)
      throw error
    }
  }

  private func breaker(for route: FiveTuple) -> CircuitBreaker {
    breakers.withLock { breakers in
      if let existing = breakers[route] { return existing }
      let onTransition = self.onTransition
      let made = CircuitBreaker(configuration: configuration(route), now: now) { from, to in
        onTransition(route, from, to)
      }
      breakers[route] = made
      return made
    }
  }
}
