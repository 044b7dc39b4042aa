public import NIOCore
public import NIOPosix
public import SkeinThrift
import Synchronization

/// Calls one service's instances: the invoker behind a generated client
/// (`ExampleServiceClient(RPCClient(…))`).
///
/// Each call gets a context (the route, the LogID of the request tree it belongs to, a deadline
/// that is the smaller of this client's timeout and what is left of the deadline of the call
/// being served), passes through the client chain, and goes out on a pooled, multiplexed
/// connection. `Base` is filled on the way out: LogID, Caller, the caller's cluster and the
/// remaining budget in `Extra`, so the next hop inherits the deadline.
public final class RPCClient: ThriftCallInvoker, Sendable {
  /// What the client calls, from where, and its limits.
  public struct Configuration: Sendable {
    /// The calling service: the `from` of the routes.
    public var caller: ServiceIdentity
    /// The called service: the `to` of the routes.
    public var target: ServiceIdentity
    /// The target's instances; calls go round robin over them.
    public var instances: [InstanceAddress]
    /// A call's own timeout (default 1 s); an inherited deadline can only shorten it.
    public var timeout: Duration
    /// How long a connection attempt may take (default 1 s).
    public var connectTimeout: Duration
    /// Connections to one instance at most (default 2).
    public var connectionsPerInstance: Int
    /// Calls in flight on a connection before another is opened (default 64).
    public var callsPerConnectionBeforeGrowing: Int
    /// Calls admitted per instance at once, waiting or in flight; more fail with
    /// ``RPCError/Code/overloaded`` (default 1024).
    public var maxPendingCallsPerInstance: Int
    /// How long an unused connection stays open (default 60 s).
    public var idleTimeout: Duration
    /// Limits on reply frames and values.
    public var limits: ThriftLimits

    /// Creates a configuration.
    public init(
      caller: ServiceIdentity,
      target: ServiceIdentity,
      instances: [InstanceAddress],
      timeout: Duration = .seconds(1),
      connectTimeout: Duration = .seconds(1),
      connectionsPerInstance: Int = 2,
      callsPerConnectionBeforeGrowing: Int = 64,
      maxPendingCallsPerInstance: Int = 1024,
      idleTimeout: Duration = .seconds(60),
      limits: ThriftLimits = .default
    ) {
      self.caller = caller
      self.target = target
      self.instances = instances
      self.timeout = timeout
      self.connectTimeout = connectTimeout
      self.connectionsPerInstance = max(1, connectionsPerInstance)
      self.callsPerConnectionBeforeGrowing = max(1, callsPerConnectionBeforeGrowing)
      self.maxPendingCallsPerInstance = max(1, maxPendingCallsPerInstance)
      self.idleTimeout = idleTimeout
      self.limits = limits
    }
  }

  /// The configuration.
  public let configuration: Configuration
  /// The client chain, outermost first; the connection pool is the endpoint it wraps.
  public let chain: MiddlewareChain
  private let pools: [ConnectionPool]
  private let nextInstance = Atomic<Int>(0)

  /// Creates a client; connections open on first use.
  ///
  /// - Parameters:
  ///   - configuration: What to call and how.
  ///   - middleware: The caller's middlewares, outermost first.
  ///   - group: The event loops; NIO's shared singleton by default.
  public init(
    configuration: Configuration,
    middleware: [any Middleware] = [],
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.configuration = configuration
    self.chain = MiddlewareChain(middleware)
    self.pools = configuration.instances.map {
      ConnectionPool(address: $0, configuration: configuration, group: group)
    }
  }

  /// Calls `method` through the chain and the pool.
  ///
  /// - Throws: ``RPCError`` (timeout, connect failure, transport, remote exception,
  ///   cancellation, overload); a declared IDL exception comes back inside the result.
  public func invoke<Method: ThriftMethod>(_ method: Method.Type, args: Method.Args) async throws
    -> Method.Result
  {
    let parent = CallContext.current
    let ownDeadline = ContinuousClock.now + configuration.timeout
    let context = CallContext(
      route: FiveTuple(
        unchecked: configuration.caller.name,
        fromCluster: configuration.caller.cluster,
        to: configuration.target.name,
        toCluster: configuration.target.cluster,
        method: Method.name
      ),
      logID: parent?.logID ?? LogID.generate(),
      deadline: parent?.deadline.map { min($0, ownDeadline) } ?? ownDeadline
    )
    let endpoint = chain.wrap(
      Endpoint<Method> { context, args in
        try await self.send(Method.self, context, args)
      }
    )
    do {
      return try await endpoint(context, args)
    } catch is CancellationError {
      throw RPCError(.cancelled, "the call was cancelled")
    }
  }

  /// The innermost endpoint: fills `Base`, picks an instance and does the round trip.
  private func send<Method: ThriftMethod>(
    _ method: Method.Type,
    _ context: CallContext,
    _ args: Method.Args
  ) async throws -> Method.Result {
    let now = ContinuousClock.now
    let deadline = context.deadline ?? now + configuration.timeout
    guard deadline > now else {
      throw RPCError(.timeout, "the deadline passed before '\(Method.name)' was sent")
    }
    guard !pools.isEmpty else {
      throw RPCError(.noInstance, "no instance of \(configuration.target) is configured")
    }
    try Task.checkCancellation()
    var args = args
    var extra = args.requestBase?.extra ?? [:]
    extra.merge(context.metadata) { _, new in new }
    extra[BaseExtraKey.deadlineMilliseconds] = String((deadline - now).nanoseconds / 1_000_000)
    extra[BaseExtraKey.callerCluster] = configuration.caller.cluster.rawValue
    args.requestBase = ThriftBase(
      logID: context.logID,
      caller: configuration.caller.name.rawValue,
      extra: extra
    )
    let index = nextInstance.wrappingAdd(1, ordering: .relaxed).oldValue
    let pool = pools[Int(UInt(bitPattern: index) % UInt(pools.count))]
    let limits = configuration.limits
    let reply = try await pool.withConnection { connection -> ByteBuffer? in
      let sequenceID = connection.makeSequenceID()
      var writer = ThriftBinaryWriter(capacity: 256)
      let frame = writer.beginFrame()
      writer.writeCall(Method.self, args: args, sequenceID: sequenceID)
      do {
        try writer.endFrame(at: frame, maxFrameSize: limits.maxFrameSize)
      } catch {
        throw RPCError(.protocolError, "request to '\(Method.name)' too large: \(error)")
      }
      return try await connection.send(
        writer.buffer,
        sequenceID: sequenceID,
        expectsReply: !Method.isOneway,
        deadline: deadline
      )
    }
    guard let reply else {
      // Oneway methods' results are ThriftOnewayResult: there is nothing to decode.
      guard let done = ThriftOnewayResult() as? Method.Result else {
        throw RPCError(.protocolError, "no reply to two-way method '\(Method.name)'")
      }
      return done
    }
    return try decodeReply(Method.self, reply, from: pool.address)
  }

  private func decodeReply<Method: ThriftMethod>(
    _ method: Method.Type,
    _ frame: ByteBuffer,
    from address: InstanceAddress
  ) throws -> Method.Result {
    var reader = ThriftBinaryReader(buffer: frame, limits: configuration.limits)
    do {
      let header = try reader.readMessageBegin()
      return try reader.readReply(method, header: header)
    } catch let exception as ThriftApplicationException {
      if exception.message.hasPrefix(RPCError.permissionDeniedPrefix) {
        throw RPCError(.denied, "\(address): \(exception.message)", remoteException: exception)
      }
      throw RPCError(
        .remote,
        "\(address) answered '\(Method.name)' with \(exception)",
        remoteException: exception
      )
    } catch {
      throw RPCError(.protocolError, "bad reply to '\(Method.name)' from \(address): \(error)")
    }
  }

  /// Per instance: the connections open and the calls admitted (waiting or in flight).
  public func poolLoad() -> [InstanceAddress: (connections: Int, pendingCalls: Int)] {
    Dictionary(uniqueKeysWithValues: pools.map { ($0.address, $0.load) })
  }

  /// Closes every connection; calls in flight fail with a transport error.
  public func shutdown() async {
    for pool in pools { await pool.close() }
  }
}
