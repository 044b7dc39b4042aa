import Foundation
public import SkeinRPC

/// What one node publishes per interval: who it is, its tasks and resources, and the stats of
/// every route it called or served. The JSON of `/snapshot` and of each `/stream` line.
///
/// The schema is versioned (``schema``); fields are only ever added within a version. Counts
/// are since the node started; `qps` and `latency_ms` are over the last interval.
public struct NodeSnapshot: Sendable, Hashable, Codable {
  /// The schema version this type writes.
  public static let currentSchema = 1

  /// The schema version of this snapshot.
  public var schema: Int
  /// When it was taken, in milliseconds since 1970.
  public var timeMilliseconds: Int64
  /// The interval `qps` and latencies cover, in seconds.
  public var intervalSeconds: Double
  /// The node.
  public var node: NodeStats
  /// Every route the node called (side `client`) or served (side `server`).
  public var routes: [RouteStats]

  enum CodingKeys: String, CodingKey {
    case schema
    case timeMilliseconds = "time_ms"
    case intervalSeconds = "interval_s"
    case node
    case routes
  }

  /// Creates a snapshot.
  public init(
    schema: Int = NodeSnapshot.currentSchema,
    timeMilliseconds: Int64,
    intervalSeconds: Double,
    node: NodeStats,
    routes: [RouteStats]
  ) {
    self.schema = schema
    self.timeMilliseconds = timeMilliseconds
    self.intervalSeconds = intervalSeconds
    self.node = node
    self.routes = routes
  }
}

/// A node: its identity, live tasks, memory and CPU.
public struct NodeStats: Sendable, Hashable, Codable {
  /// The service it serves as.
  public var service: String
  /// Its cluster.
  public var cluster: String
  /// Its instance id.
  public var instance: String
  /// Where it serves RPC (`host:port`), if it does.
  public var address: String?
  /// Tasks running now (calls on both sides and tracked background work).
  public var tasks: Int
  /// The most tasks that ran at once since start.
  public var tasksPeak: Int
  /// Resident memory.
  public var rssBytes: Int
  /// CPU over the last interval; 100 is one core.
  public var cpuPercent: Double
  /// Whether the node answered (always true in its own snapshot; readers set false).
  public var up: Bool
  /// Calls per second the node served over the last interval, every route together; absent
  /// from nodes that predate it and from nodes that did not answer.
  public var qps: Double?

  /// Creates node stats.
  public init(
    service: String,
    cluster: String,
    instance: String,
    address: String?,
    tasks: Int,
    tasksPeak: Int,
    rssBytes: Int,
    cpuPercent: Double,
    up: Bool = true,
    qps: Double? = nil
  ) {
    self.service = service
    self.cluster = cluster
    self.instance = instance
    self.address = address
    self.tasks = tasks
    self.tasksPeak = tasksPeak
    self.rssBytes = rssBytes
    self.cpuPercent = cpuPercent
    self.up = up
    self.qps = qps
  }
}

/// One route on one side of a node.
public struct RouteStats: Sendable, Hashable, Codable {
  /// `client` (this node called) or `server` (this node served).
  public var side: MetricsMiddleware.Side
  /// The five-tuple.
  public var from: String
  /// The caller's cluster.
  public var fromCluster: String
  /// The callee.
  public var to: String
  /// The callee's cluster.
  public var toCluster: String
  /// The method.
  public var method: String
  /// Calls started since start.
  public var requests: Int64
  /// Calls answered since start.
  public var successes: Int64
  /// Calls failed since start, by kind.
  public var errors: [String: Int64]
  /// Calls per second started over the last interval.
  public var qps: Double
  /// Latencies of the calls that ended in the last interval, in milliseconds.
  public var latencyMilliseconds: Latency
  /// Calls running now.
  public var inflight: Int64
  /// The route's breaker state (`closed`, `open`, `half_open`), where the node knows it.
  public var breaker: String?
  /// Whether the route is degraded, where the node knows it.
  public var degraded: Bool?
  /// The traffic split in force across the callee's clusters, where the node knows it.
  public var traffic: [String: Int]?
  /// The callee's instances as this caller's balancer and breakers see them, where known.
  public var instances: [InstanceStats]?
  /// In the merged view of a route both sides report: the calls per second its callees
  /// served, beside the callers' `qps` (degraded, breaker-refused and failed-to-connect calls
  /// never reach a callee). `nil` in a node's own snapshot.
  public var servedQps: Double?

  /// Percentiles and maximum.
  public struct Latency: Sendable, Hashable, Codable {
    /// Median.
    public var p50: Double
    /// 90th percentile.
    public var p90: Double
    /// 99th percentile.
    public var p99: Double
    /// 99.9th percentile.
    public var p999: Double
    /// Longest.
    public var max: Double

    /// Creates latencies.
    public init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double) {
      self.p50 = p50
      self.p90 = p90
      self.p99 = p99
      self.p999 = p999
      self.max = max
    }
  }

  /// Creates route stats.
  public init(
    side: MetricsMiddleware.Side,
    from: String,
    fromCluster: String,
    to: String,
    toCluster: String,
    method: String,
    requests: Int64,
    successes: Int64,
    errors: [String: Int64],
    qps: Double,
    latencyMilliseconds: Latency,
    inflight: Int64,
    breaker: String? = nil,
    degraded: Bool? = nil,
    traffic: [String: Int]? = nil,
    instances: [InstanceStats]? = nil
  ) {
    self.side = side
    self.from = from
    self.fromCluster = fromCluster
    self.to = to
    self.toCluster = toCluster
    self.method = method
    self.requests = requests
    self.successes = successes
    self.errors = errors
    self.qps = qps
    self.latencyMilliseconds = latencyMilliseconds
    self.inflight = inflight
    self.breaker = breaker
    self.degraded = degraded
    self.traffic = traffic
    self.instances = instances
  }

  enum CodingKeys: String, CodingKey {
    case side, from, fromCluster, to, toCluster, method, requests, successes, errors, qps
    case latencyMilliseconds = "latency_ms"
    case inflight, breaker, degraded, traffic, instances, servedQps
  }

  /// Calls failed since start, of every kind.
  public var errorCount: Int64 { errors.values.reduce(0, +) }

  /// The route's five-tuple.
  public var route: FiveTuple? {
    try? FiveTuple(path: "/\(from)/\(fromCluster)/\(to)/\(toCluster)/\(method)")
  }
}

/// One callee instance as a caller's balancer and instance breaker see it.
public struct InstanceStats: Sendable, Hashable, Codable {
  /// `host:port`.
  public var address: String
  /// The balancer weight in force.
  public var weight: Int
  /// This caller's calls in flight to it.
  public var inflight: Int
  /// The latency average the balancer weighs (p2c), in milliseconds; 0 for the others.
  public var latencyMilliseconds: Double
  /// Its breaker state on this caller (`closed`, `open`, `half_open`).
  public var breaker: String

  enum CodingKeys: String, CodingKey {
    case address, weight, inflight, breaker
    case latencyMilliseconds = "latency_ms"
  }

  /// Creates instance stats.
  public init(
    address: String,
    weight: Int,
    inflight: Int,
    latencyMilliseconds: Double,
    breaker: String
  ) {
    self.address = address
    self.weight = weight
    self.inflight = inflight
    self.latencyMilliseconds = latencyMilliseconds
    self.breaker = breaker
  }
}

/// The governance state of a route, as the node holding it sees it.
public struct RouteGovernance: Sendable, Hashable {
  /// The breaker state's name.
  public var breaker: String?
  /// Whether the route is degraded.
  public var degraded: Bool?
  /// The traffic split in force.
  public var traffic: [String: Int]?
  /// The callee's instances as the route's balancer and breakers see them.
  public var instances: [InstanceStats]?

  /// Creates a governance view.
  public init(
    breaker: String? = nil,
    degraded: Bool? = nil,
    traffic: [String: Int]? = nil,
    instances: [InstanceStats]? = nil
  ) {
    self.breaker = breaker
    self.degraded = degraded
    self.traffic = traffic
    self.instances = instances
  }
}
