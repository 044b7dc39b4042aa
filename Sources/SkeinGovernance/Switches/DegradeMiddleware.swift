public import SkeinRPC
public import SkeinThrift

/// Fails a call fast when its route is degraded, without touching the network; placed first in
/// the client chain. A service author may register a fallback result per method instead.
public struct DegradeMiddleware: Middleware {
  private let state: GovernanceState

  /// Creates the middleware over the switches in force.
  public init(state: GovernanceState) {
    self.state = state
  }

  /// Throws ``RPCError/Code/degraded`` for a degraded route; calls on otherwise.
  public func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    if state.isDegraded(context.route) {
      throw RPCError(
        .degraded,
        "\(context.route) is degraded by \(GovernanceSwitch.degrade.rawValue) switch"
      )
    }
    return try await next(context, args)
  }
}
