import Foundation
public import SkeinRPC
import Synchronization

/// Turns an aggregator's readings into one node's interval snapshots.
///
/// Each ``take()`` ends an interval: the latencies are those recorded since the previous one,
/// and QPS is the requests started since then over the time elapsed. Take snapshots from one
/// place (the admin endpoint's ticker), since each take restarts the histograms.
public final class Snapshotter: Sendable {
  /// Who the node is.
  public struct Identity: Sendable, Hashable {
    /// The service it serves as.
    public var service: String
    /// Its cluster.
    public var cluster: String
    /// Its instance id.
    public var instance: String
    /// Where it serves RPC, if it does.
    public var address: InstanceAddress?

    /// Creates an identity.
    public init(service: String, cluster: String, instance: String, address: InstanceAddress?) {
      self.service = service
      self.cluster = cluster
      self.instance = instance
      self.address = address
    }
  }

  /// The node.
  public let identity: Identity
  private let aggregator: MetricsAggregator
  private let tasks: TaskGauge
  private let governance: @Sendable (FiveTuple, MetricsMiddleware.Side) -> RouteGovernance?
  private let state: Mutex<State>

  private struct State {
    var taken: ContinuousClock.Instant
    var cpuSeconds: Double
    var requests: [RouteKey: Int64] = [:]
    var last: NodeSnapshot?
  }

  private struct RouteKey: Hashable {
    var side: MetricsMiddleware.Side
    var route: FiveTuple
  }

  /// Creates a snapshotter; the first interval starts now.
  ///
  /// - Parameters:
  ///   - identity: The node.
  ///   - aggregator: Where the node's metrics are.
  ///   - tasks: The node's live-task gauge.
  ///   - governance: The breaker, degrade and traffic state of a route, where the node knows it.
  public init(
    identity: Identity,
    aggregator: MetricsAggregator,
    tasks: TaskGauge = .process,
    governance: @escaping @Sendable (FiveTuple, MetricsMiddleware.Side) -> RouteGovernance? = {
      _,
      _ in nil
    }
  ) {
    self.identity = identity
    self.aggregator = aggregator
    self.tasks = tasks
    self.governance = governance
    self.state = Mutex(State(taken: .now, cpuSeconds: ProcessUsage.cpuSeconds()))
  }

  /// The last snapshot taken, if any.
  public var last: NodeSnapshot? { state.withLock { $0.last } }

  /// Ends the interval and describes it.
  public func take() -> NodeSnapshot {
    let reading = aggregator.collect()
    let now = ContinuousClock.now
    let cpu = ProcessUsage.cpuSeconds()
    return state.withLock { state in
      let elapsed = max(1e-3, Double((now - state.taken).nanoseconds) / 1e9)
      var routes: [RouteKey: RouteStats] = [:]
      func entry(_ key: RouteKey) -> RouteStats {
        routes[key]
          ?? RouteStats(
            side: key.side,
            from: key.route.from.rawValue,
            fromCluster: key.route.fromCluster.rawValue,
            to: key.route.to.rawValue,
            toCluster: key.route.toCluster.rawValue,
            method: key.route.method,
            requests: 0,
            successes: 0,
            errors: [:],
            qps: 0,
            latencyMilliseconds: .init(p50: 0, p90: 0, p99: 0, p999: 0, max: 0),
            inflight: 0
          )
      }
      for (metric, count) in reading.counters {
        guard let (side, route) = RouteDimensions.route(of: metric) else { continue }
        let key = RouteKey(side: side, route: route)
        var stats = entry(key)
        switch metric.label {
        case MetricsMiddleware.Label.requests: stats.requests = count
        case MetricsMiddleware.Label.successes: stats.successes = count
        case MetricsMiddleware.Label.errors:
          stats.errors[metric[RouteDimensions.kind] ?? "other", default: 0] += count
        default: continue
        }
        routes[key] = stats
      }
      for (metric, summary) in reading.latencies
      where metric.label == MetricsMiddleware.Label.duration {
        guard let (side, route) = RouteDimensions.route(of: metric) else { continue }
        let key = RouteKey(side: side, route: route)
        var stats = entry(key)
        stats.latencyMilliseconds = .init(
          p50: summary.p50,
          p90: summary.p90,
          p99: summary.p99,
          p999: summary.p999,
          max: summary.max
        )
        routes[key] = stats
      }
      for (key, var stats) in routes {
        let ended = stats.successes + stats.errorCount
        stats.inflight = max(0, stats.requests - ended)
        stats.qps = Double(stats.requests - (state.requests[key] ?? 0)) / elapsed
        if let view = governance(key.route, key.side) {
          stats.breaker = view.breaker
          stats.degraded = view.degraded
          stats.traffic = view.traffic
          stats.instances = view.instances
        }
        state.requests[key] = stats.requests
        routes[key] = stats
      }
      let snapshot = NodeSnapshot(
        timeMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
        intervalSeconds: elapsed,
        node: NodeStats(
          service: identity.service,
          cluster: identity.cluster,
          instance: identity.instance,
          address: identity.address?.description,
          tasks: tasks.live,
          tasksPeak: tasks.peak,
          rssBytes: ProcessUsage.residentBytes(),
          cpuPercent: max(0, (cpu - state.cpuSeconds) / elapsed * 100),
          qps: routes.filter { $0.key.side == .server }.values.reduce(0) { $0 + $1.qps }
        ),
        routes: routes.values.sorted {
          ($0.side.rawValue, $0.path) < ($1.side.rawValue, $1.path)
        }
      )
      state.taken = now
      state.cpuSeconds = cpu
      state.last = snapshot
      return snapshot
    }
  }
}

extension RouteStats {
  /// The route's path, `/from/fromCluster/to/toCluster/method`: its name in governance keys
  /// and the order of the stats.
  public var path: String { "/\(from)/\(fromCluster)/\(to)/\(toCluster)/\(method)" }
}

/// The process's CPU time and resident memory, read from the kernel.
enum ProcessUsage {
  #if os(Linux)
    private static let selfUsage = __rusage_who_t(RUSAGE_SELF.rawValue)
  #else
    private static let selfUsage = RUSAGE_SELF
  #endif

  /// User plus system CPU seconds since the process started.
  static func cpuSeconds() -> Double {
    var usage = rusage()
    guard getrusage(selfUsage, &usage) == 0 else { return 0 }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  /// Resident memory now (Linux: `/proc/self/statm`; elsewhere the peak, which is what the
  /// kernel offers without more machinery).
  static func residentBytes() -> Int {
    #if os(Linux)
      if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
        let fields = statm.split(separator: " ")
        if fields.count > 1, let pages = Int(fields[1]) {
          return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
      }
      return 0
    #else
      var usage = rusage()
      guard getrusage(selfUsage, &usage) == 0 else { return 0 }
      return Int(usage.ru_maxrss)
    #endif
  }
}
