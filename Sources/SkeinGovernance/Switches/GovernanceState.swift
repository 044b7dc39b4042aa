import Foundation
public import SkeinRPC
import Synchronization

/// A route's dynamic call settings, from its `/…/config` key. Every field is optional in the
/// document; what is left out keeps its default.
public struct RouteConfig: Sendable, Hashable, Codable {
  /// The call timeout in milliseconds.
  public var timeoutMilliseconds: Int?
  /// Retries on another instance, for errors that are safe to retry.
  public var retries: Int?
  /// The balancer kind: `round_robin`, `random`, `p2c` or `consistent_hash`.
  public var balancer: String?
  /// Breaker thresholds.
  public var breaker: BreakerSettings?

  /// Creates a configuration.
  public init(
    timeoutMilliseconds: Int? = nil,
    retries: Int? = nil,
    balancer: String? = nil,
    breaker: BreakerSettings? = nil
  ) {
    self.timeoutMilliseconds = timeoutMilliseconds
    self.retries = retries
    self.balancer = balancer
    self.breaker = breaker
  }

  enum CodingKeys: String, CodingKey {
    case timeoutMilliseconds = "timeout_ms"
    case retries, balancer, breaker
  }
}

/// Breaker thresholds as a config document spells them.
public struct BreakerSettings: Sendable, Hashable, Codable {
  /// Window in milliseconds.
  public var windowMilliseconds: Int?
  /// Minimum calls in the window.
  public var minimumCalls: Int?
  /// Failure rate that opens the breaker, 0–1.
  public var failureRate: Double?
  /// Cool-down in milliseconds.
  public var coolDownMilliseconds: Int?
  /// Probes a half-open breaker admits.
  public var halfOpenProbes: Int?

  /// Creates settings; what is left out keeps ``BreakerConfiguration``'s default.
  public init(
    windowMilliseconds: Int? = nil,
    minimumCalls: Int? = nil,
    failureRate: Double? = nil,
    coolDownMilliseconds: Int? = nil,
    halfOpenProbes: Int? = nil
  ) {
    self.windowMilliseconds = windowMilliseconds
    self.minimumCalls = minimumCalls
    self.failureRate = failureRate
    self.coolDownMilliseconds = coolDownMilliseconds
    self.halfOpenProbes = halfOpenProbes
  }

  /// The thresholds these settings describe, defaults filling the gaps.
  public var configuration: BreakerConfiguration {
    let defaults = BreakerConfiguration()
    return BreakerConfiguration(
      window: windowMilliseconds.map { .milliseconds($0) } ?? defaults.window,
      buckets: defaults.buckets,
      minimumCalls: minimumCalls ?? defaults.minimumCalls,
      failureRate: failureRate ?? defaults.failureRate,
      coolDown: coolDownMilliseconds.map { .milliseconds($0) } ?? defaults.coolDown,
      halfOpenProbes: halfOpenProbes ?? defaults.halfOpenProbes
    )
  }

  enum CodingKeys: String, CodingKey {
    case windowMilliseconds = "window_ms"
    case minimumCalls = "minimum_calls"
    case failureRate = "failure_rate"
    case coolDownMilliseconds = "cool_down_ms"
    case halfOpenProbes = "half_open_probes"
  }
}

extension RouteConfig {
  /// The policy the client applies: the same settings in the runtime's terms.
  public var policy: RoutePolicy {
    RoutePolicy(
      timeout: timeoutMilliseconds.map { .milliseconds($0) },
      retries: retries,
      balancer: balancer,
      breaker: breaker?.configuration
    )
  }

  /// The longest timeout, cool-down or window a config may set (one day): beyond it a value is
  /// a typo, not a decision.
  static let maxMilliseconds = 86_400_000
  /// The most retries a config may ask for: more would multiply load on a failing callee.
  static let maxRetries = 10

  /// Checks the values a document may parse to but no client can use.
  func validate() throws {
    let longest = Self.maxMilliseconds
    let problems = [
      timeoutMilliseconds.map { (1...longest).contains($0) } == false
        ? "timeout_ms must be 1...\(longest)" : nil,
      retries.map { (0...Self.maxRetries).contains($0) } == false
        ? "retries must be 0...\(Self.maxRetries)" : nil,
      balancer.map(LoadBalancerKind.all.contains) == false
        ? "balancer must be one of \(LoadBalancerKind.all.joined(separator: ", "))" : nil,
      breaker?.windowMilliseconds.map { (1...longest).contains($0) } == false
        ? "breaker.window_ms must be 1...\(longest)" : nil,
      breaker?.coolDownMilliseconds.map { (0...longest).contains($0) } == false
        ? "breaker.cool_down_ms must be 0...\(longest)" : nil,
      breaker?.minimumCalls.map { $0 >= 1 } == false ? "breaker.minimum_calls must be ≥ 1" : nil,
      breaker?.failureRate.map { (0...1).contains($0) } == false
        ? "breaker.failure_rate must be 0...1" : nil,
      breaker?.halfOpenProbes.map { $0 >= 1 } == false
        ? "breaker.half_open_probes must be ≥ 1" : nil,
    ].compactMap { $0 }
    if !problems.isEmpty { throw GovernanceValueError(problems.joined(separator: "; ")) }
  }
}

/// Something a person should know about governance: a malformed value ignored (the last good
/// one stays in force), or a store problem.
public struct GovernanceEvent: Sendable, Hashable, CustomStringConvertible {
  /// The key concerned, if any.
  public var key: String?
  /// What happened.
  public var message: String

  /// An event about `key` (`nil`: about the store).
  public init(key: String?, message: String) {
    self.key = key
    self.message = message
  }

  /// `key: message`.
  public var description: String { key.map { "\($0): \(message)" } ?? message }
}

extension ConfigStore {
  /// ``mirror(prefix:onError:reset:apply:)`` for the readers of governance keys: a store
  /// failure is told as a ``GovernanceEvent`` (the log, the dashboard's feed), and the mirror
  /// lists again after a backoff.
  func mirror(
    prefix: String,
    reporting onEvent: @escaping @Sendable (GovernanceEvent) -> Void,
    reset: () -> Void,
    apply: (_ key: String, _ value: String?) -> Void
  ) async {
    await mirror(
      prefix: prefix,
      onError: { error in
        onEvent(GovernanceEvent(key: nil, message: "config store: \(error); retrying"))
      },
      reset: reset,
      apply: apply
    )
  }
}

/// The governance switches in force, kept current from the config store: what the degrade,
/// traffic and config middlewares consult on each call (a lock and a lookup, no I/O).
///
/// Matching a route against every pattern is done once per route and kept until the next
/// change, so a call costs one lock and one dictionary lookup however many keys are set.
///
/// It is also the ``RoutePolicyProvider`` of governed clients: a route's `/…/config` becomes
/// the timeout, retries, balancer kind and breaker thresholds of its calls.
public final class GovernanceState: RoutePolicyProvider, Sendable {
  private struct Tables {
    var degrade = RouteTable<Bool>()
    var traffic = RouteTable<[String: Int]>()
    var config = RouteTable<RouteConfig>()
    /// What applies to each route asked about since the last change.
    var resolved: [FiveTuple: Resolved] = [:]
    /// The traffic split of each route asked about since the last change, by its four known
    /// segments (see ``GovernanceState/trafficWeights(from:to:method:)``).
    var splits: [SplitQuery: [String: Int]?] = [:]

    /// Forgets what was resolved, after any change.
    mutating func changed() {
      resolved.removeAll(keepingCapacity: true)
      splits.removeAll(keepingCapacity: true)
    }

    mutating func resolve(_ route: FiveTuple) -> Resolved {
      if let known = resolved[route] { return known }
      let config = self.config.value(for: route) ?? RouteConfig()
      let made = Resolved(
        degraded: degrade.value(for: route) ?? false,
        config: config,
        policy: config.policy
      )
      // Routes are few (callers × methods × clusters); the bound only guards against a caller
      // that makes up routes.
      if resolved.count >= GovernanceState.maxResolvedRoutes { resolved.removeAll() }
      resolved[route] = made
      return made
    }
  }

  /// What applies to one route.
  private struct Resolved {
    var degraded: Bool
    var config: RouteConfig
    var policy: RoutePolicy
  }

  /// A traffic lookup: a route without its callee cluster.
  private struct SplitQuery: Hashable {
    var from: ServiceIdentity
    var to: ServiceName
    var method: String
  }

  /// Resolved routes kept at most.
  static let maxResolvedRoutes = 4096

  private let store: any ConfigStore
  private let tables = Mutex(Tables())
  private let onEvent: @Sendable (GovernanceEvent) -> Void

  /// Creates the state; call ``run()`` to keep it current.
  ///
  /// - Parameters:
  ///   - store: Where the switches live.
  ///   - onEvent: Told of malformed values and store problems (logging, the dashboard's feed).
  public init(
    store: any ConfigStore,
    onEvent: @escaping @Sendable (GovernanceEvent) -> Void = { _ in }
  ) {
    self.store = store
    self.onEvent = onEvent
  }

  /// Whether calls on `route` are degraded.
  public func isDegraded(_ route: FiveTuple) -> Bool {
    tables.withLock { $0.resolve(route).degraded }
  }

  /// The traffic weights by callee cluster for `route`'s caller, or `nil` when none are set.
  public func trafficWeights(_ route: FiveTuple) -> [String: Int]? {
    tables.withLock { $0.traffic.value(for: route) }
  }

  /// The traffic weights by callee cluster for calls from `from` to `to`'s `method`, before a
  /// cluster is chosen: the split is what chooses it, so the lookup has no callee cluster.
  /// Only keys whose callee-cluster segment is `*` apply
  /// (`/gateway/c1/example/*/Visit/traffic`); `nil` when none is set.
  public func trafficWeights(from: ServiceIdentity, to: ServiceName, method: String) -> [String:
    Int]?
  {
    let query = SplitQuery(from: from, to: to, method: method)
    return tables.withLock { tables in
      if let known = tables.splits[query] { return known }
      let segments = [
        from.name.rawValue, from.cluster.rawValue, to.rawValue, RoutePattern.any, method,
      ]
      let weights = tables.traffic.value(forSegments: segments)
      if tables.splits.count >= Self.maxResolvedRoutes { tables.splits.removeAll() }
      tables.splits[query] = weights
      return weights
    }
  }

  /// The dynamic config for `route` (all defaults when none is set).
  public func config(_ route: FiveTuple) -> RouteConfig {
    tables.withLock { $0.resolve(route).config }
  }

  /// The policy of `route`'s calls, from its config: what ``RPCClient`` asks on each call.
  public func policy(for route: FiveTuple) -> RoutePolicy {
    tables.withLock { $0.resolve(route).policy }
  }

  /// Lists the switches, then follows every change until the task is cancelled; after a watch
  /// fails it lists again and resumes, so a store restart loses nothing.
  public func run() async {
    await store.mirror(
      prefix: GovernanceSwitch.root + "/",
      reporting: onEvent,
      reset: { tables.withLock { $0 = Tables() } },
      apply: apply
    )
  }

  /// Applies one key's new value (`nil`: deleted). A value that does not parse is reported and
  /// ignored, so the last good value stays in force.
  func apply(key: String, value: String?) {
    guard let (pattern, kind) = GovernanceSwitch.parse(key: key) else {
      onEvent(GovernanceEvent(key: key, message: "not a governance key; ignored"))
      return
    }
    guard let value else {
      tables.withLock { tables in
        tables.changed()
        switch kind {
        case .degrade: tables.degrade[pattern] = nil
        case .traffic: tables.traffic[pattern] = nil
        case .config: tables.config[pattern] = nil
        }
      }
      return
    }
    do {
      switch kind {
      case .degrade:
        let on = try SwitchValue.parseDegrade(value)
        tables.withLock {
          $0.degrade[pattern] = on
          $0.changed()
        }
      case .traffic:
        let weights = try SwitchValue.parseTraffic(value)
        tables.withLock {
          $0.traffic[pattern] = weights
          $0.changed()
        }
      case .config:
        let config = try SwitchValue.parseConfig(value)
        tables.withLock {
          $0.config[pattern] = config
          $0.changed()
        }
      }
    } catch {
      onEvent(
        GovernanceEvent(
          key: key,
          message: "malformed \(kind.rawValue) value \(value): \(error); the last good value stays"
        )
      )
    }
  }
}
