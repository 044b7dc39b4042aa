public import NIOCore
public import NIOPosix
public import SkeinThrift
import Synchronization

/// Calls one service's instances: the invoker behind a generated client
/// (`ExampleServiceClient(RPCClient(…))`).
///
/// Each call gets a context (the route, the LogID of the request tree it belongs to, a deadline
/// that is the smaller of the route's timeout and what is left of the deadline of the call
/// being served), passes through the client chain, and goes out on a pooled, multiplexed
/// connection to the instance the balancer picks among those whose circuit breaker is not
/// open; errors that prove the request never reached a handler are retried on another
/// instance, as many times as the route's policy allows. `Base` is filled on the way out: LogID, Caller, the caller's cluster and the
/// remaining budget in `Extra`, so the next hop inherits the deadline.
public final class RPCClient: ThriftCallInvoker, Sendable {
  /// What the client calls, from where, and its limits.
  public struct Configuration: Sendable {
    /// The calling service: the `from` of the routes.
    public var caller: ServiceIdentity
    /// The called service: the `to` of the routes.
    public var target: ServiceIdentity
    /// The target's instances; the balancer spreads calls over them.
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
    /// Retries on another instance for errors that are safe to retry (default 0; see
    /// ``RPCError/isSafeToRetry``); a route's ``RoutePolicy`` may say otherwise.
    public var retries: Int
    /// The thresholds of each instance's circuit breaker; a route's ``RoutePolicy`` may say
    /// otherwise.
    public var instanceBreaker: BreakerConfiguration

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
      limits: ThriftLimits = .default,
      retries: Int = 0,
      instanceBreaker: BreakerConfiguration = BreakerConfiguration()
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
      self.retries = max(0, retries)
      self.instanceBreaker = instanceBreaker
    }
  }

  /// Told of every instance breaker's state change: the instance, the old and the new state.
  public typealias InstanceBreakerTransition =
    @Sendable (_ instance: InstanceAddress, _ from: BreakerState, _ to: BreakerState) -> Void

  /// The configuration.
  public let configuration: Configuration
  /// The client chain, outermost first; the connection pool is the endpoint it wraps.
  public let chain: MiddlewareChain
  /// Picks the instance of each call, unless the route's policy names another kind.
  public let balancer: any LoadBalancer
  /// One balancer per kind a route's policy may name, ``balancer`` among them. Made up front
  /// and never changed, so choosing one per call needs no lock; calls in flight finish on the
  /// balancer they started on when a route switches kind.
  public let balancers: [String: any LoadBalancer]
  private let policyProvider: (any RoutePolicyProvider)?
  private let breakerClock: @Sendable () -> ContinuousClock.Instant
  private let onInstanceBreakerTransition: InstanceBreakerTransition
  private let group: any EventLoopGroup
  private let targets = Mutex<Targets>(Targets())

  /// What the client keeps per instance.
  private struct Member {
    let pool: ConnectionPool
    let breaker: CircuitBreaker
  }

  /// The instances calls may go to, each with its pool and breaker.
  private struct Targets {
    var instances: [WeightedInstance] = []
    /// The breakers of `instances`, in the same order, so a call checks them without hashing.
    var breakers: [CircuitBreaker] = []
    var members: [InstanceAddress: Member] = [:]
  }

  /// Creates a client; connections open on first use.
  ///
  /// - Parameters:
  ///   - configuration: What to call and how.
  ///   - middleware: The caller's middlewares, outermost first.
  ///   - balancer: Picks each call's instance; smooth weighted round robin by default.
  ///   - policy: The per-route timeout, retries, balancer kind and breaker thresholds, read
  ///     once per call (governance's state); `nil` keeps the configuration's.
  ///   - breakerClock: The instance breakers' clock; tests pass a manual one.
  ///   - onInstanceBreakerTransition: Told of every instance breaker's state change.
  ///   - group: The event loops; NIO's shared singleton by default.
  public init(
    configuration: Configuration,
    middleware: [any Middleware] = [],
    balancer: any LoadBalancer = SmoothWeightedRoundRobin(),
    policy: (any RoutePolicyProvider)? = nil,
    breakerClock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
    onInstanceBreakerTransition: @escaping InstanceBreakerTransition = { _, _, _ in },
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    self.configuration = configuration
    self.chain = MiddlewareChain(middleware)
    self.balancer = balancer
    var balancers: [String: any LoadBalancer] = [:]
    for kind in LoadBalancerKind.all { balancers[kind] = LoadBalancerKind.make(kind) }
    balancers[balancer.kind] = balancer
    self.balancers = balancers
    self.policyProvider = policy
    self.breakerClock = breakerClock
    self.onInstanceBreakerTransition = onInstanceBreakerTransition
    self.group = group
    updateInstances(configuration.instances.map { WeightedInstance($0) })
  }

  /// Replaces the instances calls go to (from the registry, say): new ones get a pool and a
  /// closed breaker, existing ones keep theirs.
  ///
  /// - Returns: The pools taken out of service, for the caller to close (their calls in flight
  ///   then fail with a transport error).
  @discardableResult
  func updateInstances(_ instances: [WeightedInstance]) -> [ConnectionPool] {
    targets.withLock { targets in
      var members: [InstanceAddress: Member] = [:]
      for instance in instances {
        members[instance.address] =
          targets.members[instance.address] ?? makeMember(instance.address)
      }
      let removed = targets.members.filter { members[$0.key] == nil }.map(\.value.pool)
      targets = Targets(
        instances: instances,
        breakers: instances.compactMap { members[$0.address]?.breaker },
        members: members
      )
      return removed
    }
  }

  private func makeMember(_ address: InstanceAddress) -> Member {
    let onTransition = onInstanceBreakerTransition
    return Member(
      pool: ConnectionPool(address: address, configuration: configuration, group: group),
      breaker: CircuitBreaker(configuration: configuration.instanceBreaker, now: breakerClock) {
        from,
        to in onTransition(address, from, to)
      }
    )
  }

  /// Replaces the instances calls go to; pools of instances no longer listed are closed.
  public func setInstances(_ instances: [WeightedInstance]) async {
    for pool in updateInstances(instances) { await pool.close() }
  }

  /// The instances calls go to now.
  public var instances: [WeightedInstance] { targets.withLock { $0.instances } }

  /// Each instance's breaker state, for the metrics stream and the dashboard.
  public var instanceBreakerStates: [InstanceAddress: BreakerState] {
    targets.withLock { $0.members }.mapValues(\.breaker.current)
  }

  /// Calls the method named `name`, coded with `Method`'s types, through the chain and the
  /// pool.
  ///
  /// - Throws: ``RPCError`` (timeout, connect failure, transport, remote exception,
  ///   cancellation, overload, every instance's breaker open); a declared IDL exception comes
  ///   back inside the result.
  public nonisolated(nonsending) func invoke<Method: ThriftMethod>(
    _ method: Method.Type,
    named name: String,
    args: Method.Args
  ) async throws -> Method.Result {
    let parent = CallContext.current
    let route = FiveTuple(
      unchecked: configuration.caller.name,
      fromCluster: configuration.caller.cluster,
      to: configuration.target.name,
      toCluster: configuration.target.cluster,
      method: name
    )
    let policy = policyProvider?.policy(for: route)
    let ownDeadline = ContinuousClock.now + (policy?.timeout ?? configuration.timeout)
    let context = CallContext(
      route: route,
      logID: parent?.logID ?? LogID.generate(),
      deadline: parent?.deadline.map { min($0, ownDeadline) } ?? ownDeadline
    )
    let endpoint = chain.wrap(
      Endpoint<Method> { context, args in
        try await self.send(Method.self, context, args, policy: policy)
      }
    )
    do {
      return try await endpoint(context, args)
    } catch is CancellationError {
      throw RPCError(.cancelled, "the call was cancelled")
    }
  }

  /// The innermost endpoint: picks an instance, does the round trip, and retries on another
  /// instance while the error says the request never reached a handler.
  private nonisolated(nonsending) func send<Method: ThriftMethod>(
    _ method: Method.Type,
    _ context: CallContext,
    _ args: Method.Args,
    policy: RoutePolicy?
  ) async throws -> Method.Result {
    let deadline =
      context.deadline ?? ContinuousClock.now + (policy?.timeout ?? configuration.timeout)
    let balancer = balancer(for: policy)
    let retries = max(0, policy?.retries ?? configuration.retries)
    let breakerConfiguration = policy?.breaker ?? configuration.instanceBreaker
    // Stays empty, and unallocated, unless a call is retried.
    var tried: [InstanceAddress] = []
    var lastError: RPCError?
    while true {
      guard deadline > .now else {
        // Out of budget is a timeout even when an attempt failed first: the caller's budget,
        // not that instance, is why the call ends here.
        throw RPCError(
          .timeout,
          lastError.map {
            "the deadline passed after \(tried.count) attempt(s) of '\(context.route.method)'; the last: \($0)"
          }
            ?? "the deadline passed before '\(context.route.method)' was sent"
        )
      }
      try Task.checkCancellation()
      guard let (picked, member) = pick(balancer, excluding: tried, breakerConfiguration) else {
        throw lastError ?? unavailable()
      }
      do {
        return try await attempt(
          Method.self,
          context,
          args,
          deadline,
          picked.address,
          member,
          balancer
        )
      } catch let error as RPCError where error.isSafeToRetry && tried.count < retries {
        tried.append(picked.address)
        lastError = error
      }
    }
  }

  /// The balancer's pick among the instances not yet tried whose breaker is not open; a
  /// half-open instance is offered and takes the call if its breaker admits another probe.
  private func pick(
    _ balancer: any LoadBalancer,
    excluding tried: [InstanceAddress],
    _ breakerConfiguration: BreakerConfiguration
  ) -> (WeightedInstance, Member)? {
    let (instances, breakers, members) = targets.withLock {
      ($0.instances, $0.breakers, $0.members)
    }
    var candidates = instances
    // The common case (nothing tried, no breaker open) filters nothing and allocates nothing.
    if !tried.isEmpty || breakers.contains(where: \.isRefusing) {
      candidates = zip(instances, breakers).filter { instance, breaker in
        !breaker.isRefusing && !tried.contains(instance.address)
      }.map(\.0)
    }
    while let picked = balancer.pick(from: candidates, key: nil),
      let member = members[picked.address]
    {
      if member.breaker.allow(configuration: breakerConfiguration) { return (picked, member) }
      candidates.removeAll { $0.address == picked.address }
    }
    return nil
  }

  /// Why no instance could be picked for a first attempt.
  private func unavailable() -> RPCError {
    let instances = targets.withLock { $0.instances }
    guard instances.contains(where: { $0.weight > 0 }) else {
      return RPCError(.noInstance, "no instance of \(configuration.target) can take calls")
    }
    return RPCError(
      .breakerOpen,
      "the circuit breaker of every instance of \(configuration.target) is open"
    )
  }

  /// One round trip to `address`: fills `Base`, sends on a pooled connection, decodes the
  /// reply, and tells the balancer and the instance's breaker how it went.
  private nonisolated(nonsending) func attempt<Method: ThriftMethod>(
    _ method: Method.Type,
    _ context: CallContext,
    _ args: Method.Args,
    _ deadline: ContinuousClock.Instant,
    _ address: InstanceAddress,
    _ member: Member,
    _ balancer: any LoadBalancer
  ) async throws -> Method.Result {
    let now = ContinuousClock.now
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
    let limits = configuration.limits
    balancer.callStarted(address)
    defer { balancer.callFinished(address, latency: .now - now) }
    do {
      let reply = try await member.pool.withConnection { connection -> ByteBuffer? in
        let sequenceID = connection.makeSequenceID()
        var writer = ThriftBinaryWriter(capacity: 256)
        let frame = writer.beginFrame()
        writer.writeCall(
          Method.self,
          named: context.route.method,
          args: args,
          sequenceID: sequenceID
        )
        do {
          try writer.endFrame(at: frame, maxFrameSize: limits.maxFrameSize)
        } catch {
          throw RPCError(.protocolError, "request to '\(context.route.method)' too large: \(error)")
        }
        return try await connection.send(
          writer.buffer,
          sequenceID: sequenceID,
          expectsReply: !Method.isOneway,
          deadline: deadline
        )
      }
      let result = try decodeReply(Method.self, context.route.method, reply, from: address)
      member.breaker.record(success: true)
      return result
    } catch {
      member.breaker.record(error: error)
      throw error
    }
  }

  private func decodeReply<Method: ThriftMethod>(
    _ method: Method.Type,
    _ name: String,
    _ frame: ByteBuffer?,
    from address: InstanceAddress
  ) throws -> Method.Result {
    guard let frame else {
      // Oneway methods' results are ThriftOnewayResult: there is nothing to decode.
      guard let done = ThriftOnewayResult() as? Method.Result else {
        throw RPCError(.protocolError, "no reply to two-way method '\(name)'")
      }
      return done
    }
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
        "\(address) answered '\(name)' with \(exception)",
        remoteException: exception
      )
    } catch {
      throw RPCError(.protocolError, "bad reply to '\(name)' from \(address): \(error)")
    }
  }

  /// The balancer a route's policy names, or the client's own when it names none it knows.
  public func balancer(for policy: RoutePolicy?) -> any LoadBalancer {
    policy?.balancer.flatMap { balancers[$0] } ?? balancer
  }

  /// Per instance: the connections open and the calls admitted (waiting or in flight).
  public func poolLoad() -> [InstanceAddress: (connections: Int, pendingCalls: Int)] {
    targets.withLock { targets in targets.members.mapValues(\.pool.load) }
  }

  /// Closes every connection; calls in flight fail with a transport error.
  public func shutdown() async {
    for pool in updateInstances([]) { await pool.close() }
  }
}

extension RPCError {
  /// Whether a call that failed with this error may be sent again to another instance: only
  /// when the request provably never reached a handler (no connection, the instance's pool
  /// full, its breaker open, no instance left, the pool closed while the call waited). A
  /// timeout, a broken connection or a remote exception may have run the handler already, so
  /// they are never retried; nor are cancellations, degraded routes or refusals.
  public var isSafeToRetry: Bool {
    switch code {
    case .connectFailed, .overloaded, .breakerOpen, .noInstance, .shutdown: true
    default: false
    }
  }
}
