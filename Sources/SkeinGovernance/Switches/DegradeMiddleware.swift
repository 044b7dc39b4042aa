public import SkeinRPC
public import SkeinThrift

/// Fails a call fast when its route is degraded, without touching the network; placed first in
/// the client chain. Where the service author registered a fallback for the method, the caller
/// gets the fallback's answer instead of the error (a cached or default result, say).
public struct DegradeMiddleware: Middleware {
  private let state: GovernanceState
  private let fallbacks: DegradeFallbacks

  /// Creates the middleware over the switches in force.
  ///
  /// - Parameters:
  ///   - state: The governance switches.
  ///   - fallbacks: Answers for degraded calls, per method; none by default.
  public init(state: GovernanceState, fallbacks: DegradeFallbacks = DegradeFallbacks()) {
    self.state = state
    self.fallbacks = fallbacks
  }

  /// Answers a degraded route's call with its method's fallback, or throws
  /// ``RPCError/Code/degraded``; calls on otherwise.
  public nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    guard state.isDegraded(context.route) else { return try await next(context, args) }
    if let fallback = fallbacks.fallback(for: Method.self) {
      return try await fallback(context, args)
    }
    throw RPCError(
      .degraded,
      "\(context.route) is degraded by \(GovernanceSwitch.degrade.rawValue) switch"
    )
  }
}

/// What a degraded call answers instead of failing, registered per method by the service
/// author: `fallbacks.register(FeedServiceMethods.GetFeed.self) { _, _ in .init(success: .empty) }`.
public struct DegradeFallbacks: Sendable {
  // Keyed by the method type; each value is that method's fallback closure.
  private var byMethod: [ObjectIdentifier: any Sendable] = [:]

  /// No fallbacks: every degraded call fails with ``RPCError/Code/degraded``.
  public init() {}

  /// Registers (or replaces) the fallback of `method`.
  public mutating func register<Method: ThriftMethod>(
    _ method: Method.Type,
    _ fallback: @escaping @Sendable (CallContext, Method.Args) async throws -> Method.Result
  ) {
    byMethod[ObjectIdentifier(method)] = fallback
  }

  /// The fallback of `method`, if one was registered.
  func fallback<Method: ThriftMethod>(
    for method: Method.Type
  ) -> (@Sendable (CallContext, Method.Args) async throws -> Method.Result)? {
    byMethod[ObjectIdentifier(method)]
      as? @Sendable (CallContext, Method.Args) async throws -> Method.Result
  }
}
