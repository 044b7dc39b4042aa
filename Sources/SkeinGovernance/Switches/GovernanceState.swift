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

  enum CodingKeys: String, CodingKey {
    case windowMilliseconds = "window_ms"
    case minimumCalls = "minimum_calls"
    case failureRate = "failure_rate"
    case coolDownMilliseconds = "cool_down_ms"
  }
}

/// Something a person should know about governance: a malformed value ignored (the last good
/// one stays in force), or a store problem.
public struct GovernanceEvent: Sendable, Hashable, CustomStringConvertible {
  /// The key concerned, if any.
  public var key: String?
  /// What happened.
  public var message: String

  /// `key: message`.
  public var description: String { key.map { "\($0): \(message)" } ?? message }
}

/// The governance switches in force, kept current from the config store: what the degrade,
/// traffic and config middlewares consult on each call (a lock and a lookup, no I/O).
public final class GovernanceState: Sendable {
  private struct Tables {
    var degrade = RouteTable<Bool>()
    var traffic = RouteTable<[String: Int]>()
    var config = RouteTable<RouteConfig>()
  }

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
    tables.withLock { $0.degrade.value(for: route) } ?? false
  }

  /// The traffic weights by callee cluster for `route`'s caller, or `nil` when none are set.
  public func trafficWeights(_ route: FiveTuple) -> [String: Int]? {
    tables.withLock { $0.traffic.value(for: route) }
  }

  /// The dynamic config for `route` (all defaults when none is set).
  public func config(_ route: FiveTuple) -> RouteConfig {
    tables.withLock { $0.config.value(for: route) } ?? RouteConfig()
  }

  /// Lists the switches, then follows every change until the task is cancelled; after a watch
  /// fails it lists again and resumes, so a store restart loses nothing.
  public func run() async {
    var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    while !Task.isCancelled {
      do {
        let (entries, revision) = try await store.list(prefix: GovernanceSwitch.root + "/")
        tables.withLock { $0 = Tables() }
        for entry in entries { apply(key: entry.key, value: entry.value) }
        backoff.reset()
        for try await change in store.watch(prefix: GovernanceSwitch.root + "/", after: revision) {
          apply(key: change.key, value: change.kind == .put ? change.value : nil)
        }
      } catch is CancellationError {
        return
      } catch {
        onEvent(GovernanceEvent(key: nil, message: "config store: \(error); retrying"))
      }
      try? await Task.sleep(for: backoff.next())
    }
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
        switch kind {
        case .degrade: tables.degrade[pattern] = nil
        case .traffic: tables.traffic[pattern] = nil
        case .config: tables.config[pattern] = nil
        }
      }
      return
    }
    do {
      let data = Data(value.utf8)
      switch kind {
      case .degrade:
        let on = try JSONDecoder().decode(DegradeValue.self, from: data).on
        tables.withLock { $0.degrade[pattern] = on }
      case .traffic:
        let weights = try JSONDecoder().decode([String: Int].self, from: data)
        guard weights.values.allSatisfy({ $0 >= 0 }), weights.values.contains(where: { $0 > 0 }),
          weights.keys.allSatisfy({ (try? Cluster($0)) != nil })
        else {
          throw GovernanceValueError(
            "weights must be cluster names with non-negative integers, one positive"
          )
        }
        tables.withLock { $0.traffic[pattern] = weights }
      case .config:
        let config = try JSONDecoder().decode(RouteConfig.self, from: data)
        tables.withLock { $0.config[pattern] = config }
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

/// `{"on": true}`.
private struct DegradeValue: Decodable {
  var on: Bool
}

private struct GovernanceValueError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
