public import SkeinRPC
public import SkeinThrift
import Synchronization

/// Calls one service over all of its clusters, the way governance says: the invoker behind a
/// generated client (`ExampleServiceClient(GovernedClient(…))`).
///
/// It follows the callee's instances in the registry and keeps one ``RPCClient`` per callee
/// cluster. Each call first picks the cluster by the route's traffic split, then runs through
/// that cluster's client, whose chain makes the rest of the design's order hold on the concrete
/// five-tuple: the caller's middlewares (metrics), degrade, the route breaker, then the
/// balancer over instances whose breaker is not open, the timeout and the pooled connection.
/// Timeouts, retries, balancer kind and breaker thresholds come from the route's `/…/config`
/// on every call, so a change applies to the next call.
///
/// The traffic split is read with the callee cluster as `*` (`/gateway/c1/example/*/Visit/traffic`
/// = `{"c1":80,"c2":20}`), since choosing the cluster is what it is for. Without one, calls stay
/// in the caller's own cluster when the callee has instances there, and are spread evenly over
/// the clusters that have instances otherwise. A cluster weighted 0 gets nothing; a weight
/// naming a cluster without instances is skipped and reported.
public final class GovernedClient: ThriftCallInvoker, Sendable {
  /// Adjusts the configuration of each cluster's client (timeouts, pool sizes, retries);
  /// the caller, target and instances are the governed client's own and are set after it.
  public typealias Tuning = @Sendable (inout RPCClient.Configuration) -> Void

  /// The calling service: the `from` of the routes.
  public let caller: ServiceIdentity
  /// The called service, over all its clusters.
  public let target: ServiceName
  /// The breaker per five-tuple, shared by the clusters' clients; its states are for the
  /// metrics stream.
  public let routeBreaker: BreakerMiddleware
  private let registry: Registry
  private let state: GovernanceState
  private let middleware: [any Middleware]
  private let fallbacks: DegradeFallbacks
  private let tuning: Tuning
  private let random: any BalancerRandom
  private let breakerClock: @Sendable () -> ContinuousClock.Instant
  private let onEvent: @Sendable (GovernanceEvent) -> Void
  /// Each callee cluster that has instances, by name, with its client.
  private let clients = Mutex<[String: RPCClient]>([:])
  /// Skipped weights already reported (`method cluster`), so a bad split is reported once per
  /// instance-list change rather than on every call.
  private let reportedSkips = Mutex<Set<String>>([])

  /// Creates the client; call ``run()`` to follow the registry (or ``setInstances(_:)`` for a
  /// fixed list).
  ///
  /// - Parameters:
  ///   - caller: Who calls.
  ///   - target: The service called.
  ///   - registry: Where the callee's instances are registered.
  ///   - state: The governance switches in force (kept current by its own `run()`).
  ///   - middleware: The caller's middlewares (metrics, logging), run before degrade and the
  ///     route breaker, so the calls those refuse are counted (as `degraded`, `breaker_open`).
  ///   - fallbacks: What degraded calls answer instead of failing, per method.
  ///   - tuning: Adjusts each cluster client's configuration.
  ///   - random: Draws the cluster of each call; tests pass a seeded one.
  ///   - breakerClock: The breakers' clock; tests pass a manual one.
  ///   - onEvent: Told of breaker state changes, skipped weights and registry trouble.
  public init(
    caller: ServiceIdentity,
    target: ServiceName,
    registry: Registry,
    state: GovernanceState,
    middleware: [any Middleware] = [],
    fallbacks: DegradeFallbacks = DegradeFallbacks(),
    tuning: @escaping Tuning = { _ in },
    random: any BalancerRandom = SystemBalancerRandom(),
    breakerClock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
    onEvent: @escaping @Sendable (GovernanceEvent) -> Void = { _ in }
  ) {
    self.caller = caller
    self.target = target
    self.registry = registry
    self.state = state
    self.middleware = middleware
    self.fallbacks = fallbacks
    self.tuning = tuning
    self.random = random
    self.breakerClock = breakerClock
    self.onEvent = onEvent
    self.routeBreaker = BreakerMiddleware(
      configuration: { route in state.policy(for: route).breaker ?? BreakerConfiguration() },
      now: breakerClock,
      onTransition: { route, from, to in
        onEvent(
          GovernanceEvent(key: route.path, message: "breaker \(from.rawValue) → \(to.rawValue)")
        )
      }
    )
  }

  /// The client of each callee cluster that has instances now.
  public var clusters: [Cluster: RPCClient] {
    Dictionary(
      uniqueKeysWithValues: clients.withLock { $0 }.compactMap { name, client in
        (try? Cluster(name)).map { ($0, client) }
      }
    )
  }

  /// Follows the callee's instances in the registry until the task is cancelled. When the
  /// store cannot be reached the last known instances stay in use, and the watch starts
  /// again after a backoff.
  public func run() async {
    var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    while !Task.isCancelled {
      do {
        for try await instances in registry.watch(target) {
          await setInstances(instances)
          backoff.reset()
        }
      } catch {
        guard !Task.isCancelled else { return }
        let known = clients.withLock { $0.values.reduce(0) { $0 + $1.instances.count } }
        onEvent(
          GovernanceEvent(
            key: "\(Registry.root)/\(target)/",
            message: "registry watch failed: \(error); keeping the \(known) instances known"
          )
        )
      }
      try? await Task.sleep(for: backoff.next())
    }
  }

  /// Puts a new instance list of the callee in force: a cluster that appears gets a client
  /// (made and filled before any call can pick it), one that empties is removed and its client
  /// shut down, the others take their new instances. One updater at a time (``run()``).
  public func setInstances(_ instances: [ServiceInstance]) async {
    var byCluster: [String: [WeightedInstance]] = [:]
    for instance in instances where instance.service == target.rawValue {
      byCluster[instance.cluster, default: []].append(
        WeightedInstance(instance.address, weight: instance.weight)
      )
    }
    let existing = clients.withLock { $0 }
    var current: [String: RPCClient] = [:]
    for (name, members) in byCluster {
      guard let client = existing[name] ?? makeClient(name) else { continue }
      await client.setInstances(members)
      current[name] = client
    }
    clients.withLock { $0 = current }
    reportedSkips.withLock { $0.removeAll() }
    for (name, client) in existing where current[name] == nil { await client.shutdown() }
  }

  private func makeClient(_ name: String) -> RPCClient? {
    guard let cluster = try? Cluster(name) else {
      onEvent(
        GovernanceEvent(
          key: "\(Registry.root)/\(target)/\(name)/",
          message: "not a valid cluster name; its instances are ignored"
        )
      )
      return nil
    }
    let target = ServiceIdentity(name: self.target, cluster: cluster)
    var configuration = RPCClient.Configuration(caller: caller, target: target, instances: [])
    tuning(&configuration)
    configuration.caller = caller
    configuration.target = target
    configuration.instances = []
    let onEvent = self.onEvent
    return RPCClient(
      configuration: configuration,
      middleware: middleware + [
        DegradeMiddleware(state: state, fallbacks: fallbacks), routeBreaker,
      ],
      policy: state,
      breakerClock: breakerClock,
      onInstanceBreakerTransition: { address, from, to in
        onEvent(
          GovernanceEvent(
            key: "\(Registry.root)/\(target.name)/\(target.cluster)/",
            message: "breaker of instance \(address): \(from.rawValue) → \(to.rawValue)"
          )
        )
      }
    )
  }

  /// Picks the callee cluster by the route's traffic split for the method named `name` and
  /// makes the call through that cluster's client.
  ///
  /// - Throws: ``RPCError`` as ``RPCClient`` does; ``RPCError/Code/noInstance`` when no
  ///   cluster the split allows has instances.
  public nonisolated(nonsending) func invoke<Method: ThriftMethod>(
    _ method: Method.Type,
    named name: String,
    args: Method.Args
  ) async throws -> Method.Result {
    try await pickClient(name).invoke(Method.self, named: name, args: args)
  }

  /// The client of the cluster this call goes to. Two passes over the weights rather than a
  /// filtered copy, so a call allocates nothing here.
  private func pickClient(_ method: String) throws(RPCError) -> RPCClient {
    let clients = self.clients.withLock { $0 }
    guard let weights = state.trafficWeights(from: caller, to: target, method: method) else {
      if let own = clients[caller.cluster.rawValue] { return own }
      guard !clients.isEmpty else {
        throw RPCError(.noInstance, "no instance of \(target) is registered")
      }
      let index = clients.index(clients.startIndex, offsetBy: random.next(below: clients.count))
      return clients[index].value
    }
    var total = 0
    for (name, weight) in weights where weight > 0 {
      if clients[name] != nil { total += weight } else { reportSkip(name, weight, method) }
    }
    guard total > 0 else {
      throw RPCError(
        .noInstance,
        "the traffic split \(weights) of \(caller) → \(target).\(method) names no cluster with instances"
      )
    }
    var point = random.next(below: total)
    for (name, weight) in weights where weight > 0 {
      guard let client = clients[name] else { continue }
      if point < weight { return client }
      point -= weight
    }
    // Unreachable: the points add up to `total`.
    throw RPCError(.noInstance, "no cluster of \(target) could be picked")
  }

  private func reportSkip(_ cluster: String, _ weight: Int, _ method: String) {
    guard reportedSkips.withLock({ $0.insert("\(method) \(cluster)").inserted }) else { return }
    let pattern = "/\(caller.name)/\(caller.cluster)/\(target)/\(RoutePattern.any)/\(method)"
    onEvent(
      GovernanceEvent(
        key: "\(GovernanceSwitch.root)\(pattern)/\(GovernanceSwitch.traffic.rawValue)",
        message: "cluster \(cluster) (weight \(weight)) has no instances of \(target); skipped"
      )
    )
  }

  /// Shuts every cluster's client down; calls in flight fail with a transport error.
  public func shutdown() async {
    let all = clients.withLock { clients in
      defer { clients.removeAll() }
      return clients
    }
    for client in all.values { await client.shutdown() }
  }
}
