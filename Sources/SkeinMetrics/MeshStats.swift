/// The merged view of a mesh: every route once, every node once. What `skein stats` prints and
/// the dashboard shows.
///
/// A route's figures are its callers' (the client side: what the calling services saw,
/// network included), summed over the caller instances; a route seen only by its servers (a
/// caller without the metrics middleware) is shown from the server side. Counts and QPS add
/// up exactly; percentiles cannot be added, so a merged percentile is the callers' largest —
/// an upper bound, exact when one instance calls.
public struct MeshStats: Sendable, Hashable, Codable {
  /// Every route, ordered by its path.
  public var routes: [RouteStats]
  /// Every node, up or not, ordered by service, cluster, instance.
  public var nodes: [NodeStats]

  /// Creates a view.
  public init(routes: [RouteStats], nodes: [NodeStats]) {
    self.routes = routes
    self.nodes = nodes
  }

  /// Merges the latest snapshot of each node; `down` lists the nodes that did not answer.
  public init(snapshots: [NodeSnapshot], down: [NodeStats] = []) {
    // One table of both sides by path, sized once: following 200 nodes × 50 routes, growing
    // and merging separate tables was the larger half of the client's time. (Keying by the
    // five names instead of the path string measured slower, not faster.)
    var byPath: [String: (client: RouteStats?, server: RouteStats?)] = [:]
    byPath.reserveCapacity(snapshots.reduce(0) { $0 + $1.routes.count })
    for snapshot in snapshots {
      for route in snapshot.routes {
        let key = route.path
        var entry = byPath.removeValue(forKey: key) ?? (nil, nil)
        switch route.side {
        case .client: entry.client = entry.client.map { $0.merged(with: route) } ?? route
        case .server: entry.server = entry.server.map { $0.merged(with: route) } ?? route
        }
        byPath[key] = entry
      }
    }
    self.routes = byPath.sorted { $0.key < $1.key }.compactMap { _, sides in
      // A route's governance state is known to its callers; keep it from either side.
      guard var merged = sides.client else { return sides.server }
      guard let fromServers = sides.server else { return merged }
      merged.breaker = merged.breaker ?? fromServers.breaker
      merged.degraded = merged.degraded ?? fromServers.degraded
      merged.traffic = merged.traffic ?? fromServers.traffic
      merged.instances = merged.instances ?? fromServers.instances
      merged.servedQps = fromServers.qps
      return merged
    }
    self.nodes = (snapshots.map(\.node) + down).sorted {
      ($0.service, $0.cluster, $0.instance) < ($1.service, $1.cluster, $1.instance)
    }
  }
}

extension RouteStats {
  /// Two instances' figures for the same route and side, added.
  func merged(with other: RouteStats) -> RouteStats {
    var merged = self
    merged.requests += other.requests
    merged.successes += other.successes
    merged.errors.merge(other.errors, uniquingKeysWith: +)
    merged.qps += other.qps
    merged.inflight += other.inflight
    let (a, b) = (latencyMilliseconds, other.latencyMilliseconds)
    merged.latencyMilliseconds = Latency(
      p50: max(a.p50, b.p50),
      p90: max(a.p90, b.p90),
      p99: max(a.p99, b.p99),
      p999: max(a.p999, b.p999),
      max: max(a.max, b.max)
    )
    // An open breaker anywhere is what a person must see.
    merged.breaker = [breaker, other.breaker].compactMap { $0 }.max {
      Self.severity($0) < Self.severity($1)
    }
    merged.degraded = degraded.map { $0 || other.degraded == true } ?? other.degraded
    merged.traffic = traffic ?? other.traffic
    merged.instances = Self.merged(instances, other.instances)
    return merged
  }

  /// Instances seen by two callers: in flight adds up; an open breaker on either shows.
  private static func merged(_ a: [InstanceStats]?, _ b: [InstanceStats]?) -> [InstanceStats]? {
    guard let a, let b else { return a ?? b }
    var byAddress = Dictionary(a.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
    for instance in b {
      guard var known = byAddress[instance.address] else {
        byAddress[instance.address] = instance
        continue
      }
      known.inflight += instance.inflight
      known.latencyMilliseconds = max(known.latencyMilliseconds, instance.latencyMilliseconds)
      if severity(instance.breaker) > severity(known.breaker) { known.breaker = instance.breaker }
      byAddress[instance.address] = known
    }
    return byAddress.values.sorted { $0.address < $1.address }
  }

  private static func severity(_ breaker: String) -> Int {
    switch breaker {
    case "open": 2
    case "half_open": 1
    default: 0
    }
  }
}
