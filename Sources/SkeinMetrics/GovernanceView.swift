public import SkeinGovernance
public import SkeinRPC

/// The governance state of the routes a node calls, for its snapshots: each route's breaker,
/// degrade flag and traffic split in force, and the callee's instances as that route's
/// balancer and instance breakers see them. Pass ``view(of:side:)`` to ``Snapshotter``.
public struct GovernanceView: Sendable {
  private let state: GovernanceState
  private let clients: [GovernedClient]

  /// A view over the switches in force and the node's governed clients.
  public init(state: GovernanceState, clients: [GovernedClient]) {
    self.state = state
    self.clients = clients
  }

  /// The view of `route` from `side`; the server side knows no governance state (callers
  /// hold it), so it has none.
  @Sendable
  public func view(of route: FiveTuple, side: MetricsMiddleware.Side) -> RouteGovernance? {
    guard side == .client,
      let client = clients.first(where: {
        $0.caller.name == route.from && $0.caller.cluster == route.fromCluster
          && $0.target == route.to
      })
    else { return nil }
    return RouteGovernance(
      breaker: (client.routeBreaker.states[route] ?? .closed).rawValue,
      degraded: state.isDegraded(route),
      traffic: state.trafficWeights(from: client.caller, to: client.target, method: route.method),
      instances: client.clusters[route.toCluster].map { instances(of: $0, route: route) }
    )
  }

  private func instances(of client: RPCClient, route: FiveTuple) -> [InstanceStats] {
    let balancer = client.balancer(for: state.policy(for: route))
    let instances = client.instances
    let balancing = balancer.state(of: instances)
    let breakers = client.instanceBreakerStates
    return instances.map { instance in
      let seen = balancing[instance.address]
      return InstanceStats(
        address: instance.address.description,
        weight: seen?.weight ?? instance.weight,
        inflight: seen?.inFlight ?? 0,
        latencyMilliseconds: seen?.latencyMilliseconds ?? 0,
        breaker: (breakers[instance.address] ?? .closed).rawValue
      )
    }
  }
}
