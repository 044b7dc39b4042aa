public import CoreMetrics
public import SkeinRPC
public import SkeinThrift
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Measures every call that passes, keyed by its five-tuple, through swift-metrics: any
/// backend sees them, and Skein's ``MetricsAggregator`` turns them into interval snapshots.
///
/// Per route and side it counts requests, successes and errors by kind (the stable
/// ``RPCError/Code`` names: `timeout`, `connect_failed`, `remote`, `degraded`, `breaker_open`,
/// `denied`, `cancelled`, …) and times every call. Calls in flight are requests minus the
/// calls that ended. A declared IDL exception is an answer, so it counts as a success.
///
/// A route's sink is found once per thread shard and kept. When the factory is a
/// ``MetricsAggregator``, a call records straight into the route's per-shard record there (an
/// atomic add to start, one uncontended lock to end); any other factory gets swift-metrics
/// `Counter`s and a `Timer`. Either way a call touches only state of its own thread's shard.
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
  /// The factory when it is Skein's own: routes then record into it directly.
  private let aggregator: MetricsAggregator?
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
    self.aggregator = factory as? MetricsAggregator
    self.tasks = tasks
    self.routes = Sharded { RouteCache() }
  }

  /// Counts and times the call.
  public nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    // The work is in the synchronous `started` and `ended`: this async frame stays small,
    // and allocating async frames was a good part of the middleware's cost. `next.call` is
    // called directly: `next(…)` is one more async function, with a frame of its own.
    let call = started(context.route)
    do {
      let result = try await next.call(context, args)
      ended(call, error: nil)
      return result
    } catch {
      ended(call, error: error)
      throw error
    }
  }

  /// What `ended` needs of a call's start.
  struct CallStart {
    var sink: RouteSink
    /// The shard the call entered the task gauge on, which it leaves on.
    var shard: Int
    /// When it started, on ``MonotonicClock``.
    var nanoseconds: UInt64
  }

  private func started(_ route: FiveTuple) -> CallStart {
    let shard = ShardIndex.current
    let sink =
      routes.withShard(shard) { $0.recentSink(for: route) } ?? firstSink(for: route, shard: shard)
    switch sink {
    case .recorder(let recorder): recorder._withUnsafeGuaranteedRef { $0.started(shard: shard) }
    case .metrics(let metrics): metrics._withUnsafeGuaranteedRef { $0.requests.increment() }
    }
    tasks.enter(shard: shard)
    return CallStart(sink: sink, shard: shard, nanoseconds: MonotonicClock.nanoseconds)
  }

  private func ended(_ call: CallStart, error: (any Error)?) {
    let elapsed = Int64(truncatingIfNeeded: MonotonicClock.nanoseconds &- call.nanoseconds)
    switch call.sink {
    case .recorder(let recorder):
      let errorKind = error.map { Self.kind(of: $0, side: side) }
      recorder._withUnsafeGuaranteedRef {
        $0.ended(shard: ShardIndex.current, nanoseconds: elapsed, errorKind: errorKind)
      }
    case .metrics(let metrics):
      metrics._withUnsafeGuaranteedRef { metrics in
        metrics.duration.recordNanoseconds(elapsed)
        if let error {
          metrics.errors(kind: Self.kind(of: error, side: side)).increment()
        } else {
          metrics.successes.increment()
        }
      }
    }
    tasks.leave(shard: call.shard)
  }

  /// The sink of a route this shard has not called lately: kept out of line, so the common
  /// path makes no closure (which would retain `self`, a count every core writes).
  @inline(never)
  private func firstSink(for route: FiveTuple, shard: Int) -> RouteSink {
    // Found or made outside the shard's lock: making one takes the aggregator's lock.
    if let known = routes.withShard(shard, { $0.knownSink(for: route) }) { return known }
    let owner: RouteOwner =
      if let recorder = aggregator?.recorder(side: side, route: route) {
        .recorder(recorder)
      } else {
        .metrics(RouteMetrics(route: route, side: side, factory: factory))
      }
    return routes.withShard(shard) { $0.add(owner, for: route) }
  }

  /// The error kind a failure counts under.
  ///
  /// The error's type is compared first: a failed dynamic cast is not cheap, and a handler's
  /// own error used to fail four of them. Only Skein's own error types have kinds of their
  /// own, and they are structs, so a cast can only succeed on the very same type.
  static func kind(of error: any Error, side: Side) -> String {
    switch ObjectIdentifier(type(of: error)) {
    case ObjectIdentifier(RPCError.self): (error as? RPCError)?.code.name ?? "other"
    case ObjectIdentifier(DeadlineExceeded.self): RPCError.Code.timeout.name
    case ObjectIdentifier(AccessDenied.self): RPCError.Code.denied.name
    case ObjectIdentifier(CancellationError.self): RPCError.Code.cancelled.name
    // On the server, a handler's error goes back as an exception: the caller sees `remote`.
    default: side == .server ? RPCError.Code.remote.name : "other"
    }
  }
}

/// Where a route's calls are recorded, unretained: retaining a route's object per call would
/// write its reference count, one cache line every core's calls share. The route cache that
/// handed the sink out keeps it alive for as long as the middleware lives.
enum RouteSink: @unchecked Sendable {
  // Unchecked: `Unmanaged` is not `Sendable`, but both classes it refers to are.

  /// Straight into Skein's aggregator.
  case recorder(Unmanaged<RouteRecorder>)
  /// Through swift-metrics objects, for any other factory.
  case metrics(Unmanaged<RouteMetrics>)
}

/// What a route's calls are recorded in, retained: what the route cache keeps alive.
enum RouteOwner: Sendable {
  /// Straight into Skein's aggregator.
  case recorder(RouteRecorder)
  /// Through swift-metrics objects, for any other factory.
  case metrics(RouteMetrics)

  /// The same, unretained.
  var sink: RouteSink {
    switch self {
    case .recorder(let recorder): .recorder(Unmanaged.passUnretained(recorder))
    case .metrics(let metrics): .metrics(Unmanaged.passUnretained(metrics))
    }
  }
}

/// The monotonic clock in nanoseconds, read directly: `ContinuousClock` arithmetic goes
/// through 128-bit `Duration`s, which cost more than the clock read itself.
enum MonotonicClock {
  /// Now, in nanoseconds since an arbitrary start: for durations only.
  @inline(__always)
  static var nanoseconds: UInt64 {
    #if canImport(Darwin)
      return clock_gettime_nsec_np(CLOCK_UPTIME_RAW)
    #else
      var now = timespec()
      clock_gettime(CLOCK_MONOTONIC, &now)
      return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    #endif
  }
}

/// One shard's routes: a few recent ones compared by equality, all of them by hash.
///
/// Hashing a five-tuple's five strings was the largest single cost of a call; comparing the
/// short names a route is made of is a few instructions each, and a thread keeps calling the
/// same few routes. The recent ones are compared in place, by index: iterating the pairs
/// copied each five-tuple, retaining and releasing its strings.
struct RouteCache {
  /// Routes looked up by scan before the dictionary.
  static let recentCount = 8

  private var recentRoutes: [FiveTuple] = []
  private var recentSinks: [RouteSink] = []
  private var nextSlot = 0
  /// Every route's recorder or metrics: what keeps the unretained sinks alive.
  private var all: [FiveTuple: RouteOwner] = [:]

  /// The sink of `route` if it is one of the recent ones.
  @inline(__always)
  func recentSink(for route: FiveTuple) -> RouteSink? {
    for index in recentRoutes.indices where recentRoutes[index] == route {
      return recentSinks[index]
    }
    return nil
  }

  /// The sink of `route` if this shard has one, made recent.
  mutating func knownSink(for route: FiveTuple) -> RouteSink? {
    all[route].map { remember($0.sink, for: route) }
  }

  /// Adds `owner` as the sink of `route`, unless another call on this shard did first.
  mutating func add(_ owner: RouteOwner, for route: FiveTuple) -> RouteSink {
    let kept = all[route] ?? owner
    all[route] = kept
    return remember(kept.sink, for: route)
  }

  private mutating func remember(_ sink: RouteSink, for route: FiveTuple) -> RouteSink {
    if recentRoutes.count < Self.recentCount {
      recentRoutes.append(route)
      recentSinks.append(sink)
    } else {
      recentRoutes[nextSlot] = route
      recentSinks[nextSlot] = sink
      nextSlot = (nextSlot + 1) % Self.recentCount
    }
    return sink
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
