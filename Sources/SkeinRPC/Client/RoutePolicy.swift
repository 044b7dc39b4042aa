/// What governance decides for one route's calls: the seam through which dynamic config reaches
/// ``RPCClient`` without the runtime knowing where it is stored. Every field left `nil` keeps
/// the client's own setting.
public struct RoutePolicy: Sendable, Hashable {
  /// The call's own timeout, instead of ``RPCClient/Configuration/timeout``; an inherited
  /// deadline can still only shorten it.
  public var timeout: Duration?
  /// Retries on another instance for errors that are safe to retry, instead of
  /// ``RPCClient/Configuration/retries``.
  public var retries: Int?
  /// The balancer kind (``LoadBalancerKind``), instead of the client's balancer.
  public var balancer: String?
  /// The thresholds of the route's breaker and of the instances' breakers, instead of
  /// ``RPCClient/Configuration/instanceBreaker``.
  public var breaker: BreakerConfiguration?

  /// Creates a policy; `nil` fields keep the client's settings.
  public init(
    timeout: Duration? = nil,
    retries: Int? = nil,
    balancer: String? = nil,
    breaker: BreakerConfiguration? = nil
  ) {
    self.timeout = timeout
    self.retries = retries
    self.balancer = balancer
    self.breaker = breaker
  }
}

/// Answers the policy of a route, once per call: it must be cheap (a lock and a lookup), since
/// it sits on the client's hot path. Governance's state implements it from the config store.
public protocol RoutePolicyProvider: Sendable {
  /// The policy in force for `route` now.
  func policy(for route: FiveTuple) -> RoutePolicy
}
