public import SkeinThrift

/// Runs the server's middleware chain around each call the processor decodes: builds the
/// call's context from the message header and the request's `Base`, makes it the handler's
/// ``CallContext/current``, and fills the response's `BaseResp`.
@usableFromInline
struct ServerCallInterceptor: ThriftCallInterceptor {
  /// What every call of a server shares.
  @usableFromInline
  final class Shared: Sendable {
    /// The serving service and cluster: the `to` half of every route.
    @usableFromInline let identity: ServiceIdentity
    /// The chain, outermost first.
    @usableFromInline let chain: MiddlewareChain

    @inlinable
    init(identity: ServiceIdentity, chain: MiddlewareChain) {
      self.identity = identity
      self.chain = chain
    }
  }

  /// The server's identity and chain.
  @usableFromInline let shared: Shared
  /// The connection's peer.
  @usableFromInline let remote: InstanceAddress?
  /// When the request came off the socket: the caller's budget started then.
  @usableFromInline let received: ContinuousClock.Instant

  @inlinable
  init(shared: Shared, remote: InstanceAddress?, received: ContinuousClock.Instant) {
    self.shared = shared
    self.remote = remote
    self.received = received
  }

  @inlinable
  nonisolated(nonsending) func intercept<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args,
    header: ThriftMessageHeader,
    handler: nonisolated(nonsending) @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async throws -> Method.Result {
    let context = makeContext(header: header, base: args.requestBase)
    let endpoint = shared.chain.wrap(
      Endpoint<Method> { context, args in
        try await CallContext.$current.withValue(context) { try await handler(args) }
      }
    )
    var result = try await endpoint(context, args)
    if result.responseBase == nil {
      result.responseBase = ThriftBaseResp(statusMessage: "", statusCode: 0, extra: nil)
    }
    return result
  }

  /// The context a request carries: who calls (`Base.Caller` and its cluster), its LogID and
  /// the caller's remaining budget turned into a local deadline.
  @usableFromInline
  func makeContext(header: ThriftMessageHeader, base: ThriftBase?) -> CallContext {
    let extra = base?.extra ?? [:]
    let caller = base.flatMap { try? ServiceName($0.caller) } ?? ServiceName.unknown
    let callerCluster =
      extra[BaseExtraKey.callerCluster].flatMap { try? Cluster($0) } ?? Cluster.default
    let deadline = extra[BaseExtraKey.deadlineMilliseconds].flatMap(Int64.init).map {
      received + .milliseconds($0)
    }
    // The method name came off the wire: a name that is not an identifier still gets a route,
    // with its text kept, so metrics show what was called.
    let route = FiveTuple(
      unchecked: caller,
      fromCluster: callerCluster,
      to: shared.identity.name,
      toCluster: shared.identity.cluster,
      method: header.name
    )
    let logID = base.map(\.logID).flatMap { $0.isEmpty ? nil : $0 } ?? LogID.generate()
    return CallContext(
      route: route,
      logID: logID,
      deadline: deadline,
      remote: remote,
      metadata: extra
    )
  }
}

/// A service's name and cluster: what a server serves as, and what a client calls from.
public struct ServiceIdentity: Sendable, Hashable, CustomStringConvertible {
  /// The service.
  public var name: ServiceName
  /// Its cluster.
  public var cluster: Cluster

  /// Creates an identity.
  public init(name: ServiceName, cluster: Cluster = .default) {
    self.name = name
    self.cluster = cluster
  }

  /// `name/cluster`.
  public var description: String { "\(name)/\(cluster)" }
}

/// Refuses a call whose deadline has already passed, before anything else runs: the caller has
/// given up, so the work would be wasted.
public struct DeadlineMiddleware: Middleware {
  /// Creates the middleware.
  public init() {}

  /// Throws ``DeadlineExceeded`` for an expired call; passes the rest on.
  public nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    let now = ContinuousClock.now
    if let deadline = context.deadline, deadline <= now {
      throw DeadlineExceeded(overdue: now - deadline)
    }
    return try await next(context, args)
  }
}
