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
  /// Picks the instance of each call.
  public let balancer: any LoadBalancer
  private let group: any EventLoopGroup
  private let targets = Mutex<Targets>(Targets())

  /// The instances calls may go to, each with its pool.
  private struct Targets {
    var instances: [WeightedInstance] = []
    var pools: [InstanceAddress: ConnectionPool] = [:]
  }

  /// Creates a client; connections open on first use.
  ///
  /// - Parameters:
  ///   - configuration: What to call and how.
  ///   - middleware: The caller's middlewares, outermost first.
  ///   - balancer: Picks each call's instance; smooth weighted round robin by default.
  ///   - group: The event loops; NIO's shared singleton by default.
  public init(
    configuration: Configuration,
    middleware: [any Middleware] = [],
    balancer: any LoadBalancer = SmoothWeightedRoundRobin(),
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.configuration = configuration
    self.chain = MiddlewareChain(middleware)
    self.balancer = balancer
    self.group = group
    updateInstances(configuration.instances.map { WeightedInstance($0) })
  }

  /// Replaces the instances calls go to (from the registry, say): new ones get a pool, existing
  /// ones keep theirs.
  ///
  /// - Returns: The pools taken out of service, for the caller to close (their calls in flight
  ///   then fail with a transport error).
  @discardableResult
  func updateInstances(_ instances: [WeightedInstance]) -> [ConnectionPool] {
    targets.withLock { targets in
      var pools: [InstanceAddress: ConnectionPool] = [:]
      for instance in instances {
        pools[instance.address] =
          targets.pools[instance.address]
          ?? ConnectionPool(address: instance.address, configuration: configuration, group: group)
      }
      let removed = targets.pools.filter { pools[$0.key] == nil }.map(\.value)
      targets = Targets(instances: instances, pools: pools)
      return removed
    }
  }

  /// Replaces the instances calls go to; pools of instances no longer listed are closed.
  public func setInstances(_ instances: [WeightedInstance]) async {
    for pool in updateInstances(instances) { await pool.close() }
  }

  /// The instances calls go to now.
  public var instances: [WeightedInstance] { targets.withLock { $0.instances } }

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
    let (candidates, pools) = targets.withLock { ($0.instances, $0.pools) }
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
    guard let picked = balancer.pick(from: candidates, key: nil), let pool = pools[picked.address]
    else {
      throw RPCError(.noInstance, "no instance of \(configuration.target) can take calls")
    }
    let limits = configuration.limits
    balancer.callStarted(picked.address)
    let started = ContinuousClock.now
    defer { balancer.callFinished(picked.address, latency: .now - started) }
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
    targets.withLock { targets in targets.pools.mapValues(\.load) }
  }

  /// Closes every connection; calls in flight fail with a transport error.
  public func shutdown() async {
    for pool in updateInstances([]) { await pool.close() }
  }
}
