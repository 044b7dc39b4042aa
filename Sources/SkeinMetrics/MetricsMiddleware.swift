public import CoreMetrics
public import SkeinRPC
public import SkeinThrift
import Synchronization

/// Measures every call that passes, keyed by its five-tuple, through swift-metrics: any
/// backend sees them, and Skein's ``MetricsAggregator`` turns them into interval snapshots.
///
/// Per route and side it counts requests, successes and errors by kind (the stable
/// ``RPCError/Code`` names: `timeout`, `connect_failed`, `remote`, `degraded`, `breaker_open`,
/// `denied`, `cancelled`, …) and times every call. Calls in flight are requests minus the
/// calls that ended. A declared IDL exception is an answer, so it counts as a success.
///
/// The metric objects of a route are made once and cached per thread shard, so a call costs a
/// shard lookup and a few atomic adds, never a lock another core holds.
public final class MetricsMiddleware: Middleware {
  /// Which end of the call this middleware sits on.
  public enum Side: String, Sendable, Hashable, Codable, CaseIterable {
    /// In the caller's client chain.
    case client
    /// In the callee's server chain.
    case server
  }

  /// The metric labels, for backends and readers of a ``MetricsReading``.
  public enum Label {
    /// Calls started (counter).
    public static let requests = "skein_requests_total"
    /// Calls that ended with an answer (counter).
    public static let successes = "skein_successes_total"
    /// Calls that failed (counter), with a `kind` dimension.
    public static let errors = "skein_errors_total"
    /// How long calls took (timer).
    public static let duration = "skein_call_duration"
  }

  /// The side.
  public let side: Side
  private let factory: any MetricsFactory
  private let tasks: TaskGauge
  private let routes: Sharded<RouteCache>

  /// Creates the middleware for one side.
  ///
  /// - Parameters:
  ///   - side: Client or server.
  ///   - factory: Where the metrics go; the process's swift-metrics factory by default.
  ///   - tasks: The node's live-task gauge; each call counts as a task while it runs.
  public init(
    side: Side,
    factory: any MetricsFactory = MetricsSystem.factory,
    tasks: TaskGauge = .process
  ) {
    self.side = side
    self.factory = factory
    self.tasks = tasks
    self.routes = Sharded { RouteCache() }
  }

  /// Counts and times the call.
  public func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    // The work is in the synchronous `started` and `ended`: this async frame stays small,
    // and allocating async frames was a good part of the middleware's cost.
    let (metrics, start) = started(context.route)
    do {
      let result = try await next(context, args)
      ended(metrics, start, error: nil)
      return result
    } catch {
      ended(metrics, start, error: error)
      throw error
    }
  }

  private func started(_ route: FiveTuple) -> (RouteMetrics, ContinuousClock.Instant) {
    let metrics = metrics(for: route)
    metrics.requests.increment()
    tasks.enter()
    return (metrics, .now)
  }

  private func ended(_ metrics: RouteMetrics, _ start: ContinuousClock.Instant, error: (any Error)?)
  {
    metrics.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    if let error {
      metrics.errors(kind: Self.kind(of: error, side: side)).increment()
    } else {
      metrics.successes.increment()
    }
    tasks.leave()
  }

  /// The error kind a failure counts under.
  static func kind(of error: any Error, side: Side) -> String {
    switch error {
    case let error as RPCError: error.code.name
    case is DeadlineExceeded: RPCError.Code.timeout.name
    case is AccessDenied: RPCError.Code.denied.name
    case is CancellationError: RPCError.Code.cancelled.name
    // On the server, a handler's error goes back as an exception: the caller sees `remote`.
    default: side == .server ? RPCError.Code.remote.name : "other"
    }
  }

  private func metrics(for route: FiveTuple) -> RouteMetrics {
    routes.withLocalShard {
      $0.metrics(for: route) { RouteMetrics(route: route, side: side, factory: factory) }
    }
  }
}

/// One shard's routes: a few recent ones compared by equality, all of them by hash.
///
/// Hashing a five-tuple's five strings was the largest single cost of a call; comparing the
/// short names a route is made of is a few instructions each, and a thread keeps calling the
/// same few routes.
struct RouteCache {
  /// Routes looked up by scan before the dictionary.
  static let recentCount = 8

  private var recent: [(FiveTuple, RouteMetrics)] = []
  private var nextSlot = 0
  private var all: [FiveTuple: RouteMetrics] = [:]

  mutating func metrics(for route: FiveTuple, make: () -> RouteMetrics) -> RouteMetrics {
    for (known, metrics) in recent where known == route { return metrics }
    let metrics = all[route] ?? make()
    all[route] = metrics
    if recent.count < Self.recentCount {
      recent.append((route, metrics))
    } else {
      recent[nextSlot] = (route, metrics)
      nextSlot = (nextSlot + 1) % Self.recentCount
    }
    return metrics
  }
}

/// The metric objects of one route on one side.
final class RouteMetrics: Sendable {
  let requests: Counter
  let successes: Counter
  let duration: CoreMetrics.Timer
  private let dimensions: [(String, String)]
  private let factory: any MetricsFactory
  private let errorCounters = Mutex<[String: Counter]>([:])

  init(route: FiveTuple, side: MetricsMiddleware.Side, factory: any MetricsFactory) {
    let dimensions = RouteDimensions.make(route: route, side: side)
    self.dimensions = dimensions
    self.factory = factory
    typealias Label = MetricsMiddleware.Label
    requests = Counter(label: Label.requests, dimensions: dimensions, factory: factory)
    successes = Counter(label: Label.successes, dimensions: dimensions, factory: factory)
    duration = CoreMetrics.Timer(label: Label.duration, dimensions: dimensions, factory: factory)
  }

  /// The error counter of `kind`, made on first use: errors are the rare path.
  func errors(kind: String) -> Counter {
    errorCounters.withLock { counters in
      if let known = counters[kind] { return known }
      let made = Counter(
        label: MetricsMiddleware.Label.errors,
        dimensions: dimensions + [(RouteDimensions.kind, kind)],
        factory: factory
      )
      counters[kind] = made
      return made
    }
  }
}

/// The dimension names that carry a route, in one place for the writers and the readers.
public enum RouteDimensions {
  /// `client` or `server`.
  public static let side = "side"
  /// The five-tuple's parts.
  public static let from = "from"
  /// The caller's cluster.
  public static let fromCluster = "from_cluster"
  /// The callee.
  public static let to = "to"
  /// The callee's cluster.
  public static let toCluster = "to_cluster"
  /// The method.
  public static let method = "method"
  /// An error's kind.
  public static let kind = "kind"

  static func make(route: FiveTuple, side: MetricsMiddleware.Side) -> [(String, String)] {
    [
      (Self.side, side.rawValue),
      (from, route.from.rawValue),
      (fromCluster, route.fromCluster.rawValue),
      (to, route.to.rawValue),
      (toCluster, route.toCluster.rawValue),
      (method, route.method),
    ]
  }

  /// The side and route a metric's dimensions name, if they name one.
  public static func route(of key: MetricKey) -> (MetricsMiddleware.Side, FiveTuple)? {
    guard let side = key[side].flatMap(MetricsMiddleware.Side.init(rawValue:)),
      let from = key[from].flatMap({ try? ServiceName($0) }),
      let fromCluster = key[fromCluster].flatMap({ try? Cluster($0) }),
      let to = key[to].flatMap({ try? ServiceName($0) }),
      let toCluster = key[toCluster].flatMap({ try? Cluster($0) }),
      let method = key[method]
    else { return nil }
    return (
      side,
      FiveTuple(
        unchecked: from,
        fromCluster: fromCluster,
        to: to,
        toCluster: toCluster,
        method: method
      )
    )
  }
}
