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
    var merger = MeshStatsMerger()
    self = merger.merge(snapshots, down: down)
  }
}

/// Merges node snapshots into a ``MeshStats``, tick after tick.
///
/// It remembers which merged route each node's routes went to on the last tick, checked by
/// the route's names, so a watch following 200 nodes × 50 routes builds, hashes and sorts
/// route paths only when a node's routes change, not every second: that was most of the
/// merge's time.
struct MeshStatsMerger {
  /// One route of the merged view, both sides as merged this tick.
  private struct Slot {
    var path: String
    var names: RouteNames
    var client: RouteStats?
    var server: RouteStats?
    /// The tick that last filled it; a slot not filled this tick has left the mesh.
    var tick: Int
  }

  /// What names a route, compared without building its path.
  private struct RouteNames: Equatable {
    var from, fromCluster, to, toCluster, method: String

    init(_ route: RouteStats) {
      (from, fromCluster, to, toCluster, method) =
        (route.from, route.fromCluster, route.to, route.toCluster, route.method)
    }
  }

  /// Who a node is; nodes need not know their address.
  private struct NodeKey: Hashable {
    var service, cluster, instance: String
    var address: String?

    init(_ node: NodeStats) {
      (service, cluster, instance, address) = (
        node.service, node.cluster, node.instance, node.address
      )
    }
  }

  private var slots: [Slot] = []
  private var slotOfPath: [String: Int] = [:]
  /// Slot indices in path order.
  private var order: [Int] = []
  /// Per node: the slot each of its routes, by position, went to last tick.
  private var placements: [NodeKey: [Int]] = [:]
  private var tick = 0

  /// Merges the latest snapshot of each node; `down` lists the nodes that did not answer.
  mutating func merge(_ snapshots: [NodeSnapshot], down: [NodeStats]) -> MeshStats {
    tick &+= 1
    var added = false
    var filled = 0
    // Rebuilt every tick, so nodes that left are forgotten.
    var placed: [NodeKey: [Int]] = [:]
    placed.reserveCapacity(snapshots.count)
    for snapshot in snapshots {
      let node = NodeKey(snapshot.node)
      var placement = placements[node] ?? []
      for (position, route) in snapshot.routes.enumerated() {
        let names = RouteNames(route)
        var slot = position < placement.count ? placement[position] : -1
        if slot < 0 || slot >= slots.count || slots[slot].names != names {
          slot = self.slot(for: route, names: names, added: &added)
          if position < placement.count {
            placement[position] = slot
          } else {
            placement.append(slot)
          }
        }
        if slots[slot].tick != tick {
          slots[slot].client = nil
          slots[slot].server = nil
          slots[slot].tick = tick
          filled += 1
        }
        switch route.side {
        case .client:
          slots[slot].client = slots[slot].client.map { $0.merged(with: route) } ?? route
        case .server:
          slots[slot].server = slots[slot].server.map { $0.merged(with: route) } ?? route
        }
      }
      placement.removeLast(max(0, placement.count - snapshot.routes.count))
      placed[node] = placement
    }
    placements = placed
    if filled < slots.count {
      dropRoutesGone()
    } else if added {
      order = slots.indices.sorted { slots[$0].path < slots[$1].path }
    }
    let routes = order.compactMap { index -> RouteStats? in
      let slot = slots[index]
      // A route's governance state is known to its callers; keep it from either side.
      guard var merged = slot.client else { return slot.server }
      guard let fromServers = slot.server else { return merged }
      merged.breaker = merged.breaker ?? fromServers.breaker
      merged.degraded = merged.degraded ?? fromServers.degraded
      merged.traffic = merged.traffic ?? fromServers.traffic
      merged.instances = merged.instances ?? fromServers.instances
      merged.servedQps = fromServers.qps
      return merged
    }
    let nodes = (snapshots.map(\.node) + down).sorted {
      ($0.service, $0.cluster, $0.instance) < ($1.service, $1.cluster, $1.instance)
    }
    return MeshStats(routes: routes, nodes: nodes)
  }

  /// The slot of `route`'s path, made when the path is new.
  private mutating func slot(for route: RouteStats, names: RouteNames, added: inout Bool) -> Int {
    let path = route.path
    if let slot = slotOfPath[path] { return slot }
    slots.append(Slot(path: path, names: names, tick: 0))
    slotOfPath[path] = slots.count - 1
    added = true
    return slots.count - 1
  }

  /// Forgets the routes no node reported this tick; slots move, so placements start over.
  private mutating func dropRoutesGone() {
    slots.removeAll { $0.tick != tick }
    slotOfPath = Dictionary(
      uniqueKeysWithValues: slots.indices.map { (slots[$0].path, $0) }
    )
    order = slots.indices.sorted { slots[$0].path < slots[$1].path }
    placements.removeAll()
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
