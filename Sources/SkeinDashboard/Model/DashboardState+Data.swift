public import Foundation
public import SkeinGovernance
import SkeinMesh
public import SkeinMetrics
import SkeinRPC

extension DashboardState {
  /// Takes in a new merged view: history for the graphs, events for what changed (breakers,
  /// nodes). While paused the screen keeps the old view; history and events still grow.
  public mutating func ingest(_ new: MeshStats, at time: Date) {
    let old = latest ?? stats
    events(from: old, to: new, at: time)
    for route in new.routes {
      routeHistory[route.path, default: RouteHistory()].append(route, keep: Self.historyLength)
    }
    for node in new.nodes {
      var tasks = taskHistory[node.name, default: []]
      tasks.append(node.tasks)
      if tasks.count > Self.historyLength { tasks.removeFirst(tasks.count - Self.historyLength) }
      taskHistory[node.name] = tasks
    }
    latest = new
    guard !paused else { return }
    stats = new
    statsTime = time
    clampSelection()
  }

  /// Takes in a change of the config keys under `prefix` (governance switches or faults): the
  /// keys in force, and an event for each change, malformed values reported as rejected.
  public mutating func ingest(_ update: ConfigUpdate, under prefix: String, at time: Date) {
    switch update {
    case .reset(let entries):
      config = config.filter { !$0.key.hasPrefix(prefix) }
      for entry in entries { config[entry.key] = entry.value }
    case .changed(let change):
      let value = change.kind == .put ? change.value : nil
      let description = value.map { "\(change.key) = \($0)" } ?? "cleared \(change.key)"
      if var pending = pendingWrites[change.key], let index = pending.firstIndex(of: value) {
        // The echo of this dashboard's own write: shown already, and a later write of the
        // same key may be in force here (echoes arrive behind the keys), so it stays.
        pending.removeFirst(index + 1)
        pendingWrites[change.key] = pending.isEmpty ? nil : pending
        record(DashboardEvent(time: time, kind: .change, message: description))
        return
      }
      // Someone else's write: theirs is in force.
      pendingWrites[change.key] = nil
      guard let value else {
        guard config.removeValue(forKey: change.key) != nil else { return }
        record(DashboardEvent(time: time, kind: .change, message: description))
        return
      }
      if let problem = Self.problem(key: change.key, value: value) {
        record(
          DashboardEvent(
            time: time,
            kind: .rejected,
            message: "rejected \(description): \(problem); the last good value stays",
            severe: true
          )
        )
        return
      }
      config[change.key] = value
      record(DashboardEvent(time: time, kind: .change, message: description))
    }
  }

  /// Adds an event (breaker transitions from callers, store trouble) to the feed.
  public mutating func record(_ event: DashboardEvent) {
    events.append(event)
    if events.count > Self.maxEvents { events.removeFirst(events.count - Self.maxEvents) }
  }

  /// Why a config value cannot be used, or `nil` when it can.
  static func problem(key: String, value: String) -> String? {
    do {
      if let (_, kind) = GovernanceSwitch.parse(key: key) {
        switch kind {
        case .degrade: _ = try SwitchValue.parseDegrade(value)
        case .traffic: _ = try SwitchValue.parseTraffic(value)
        case .config: _ = try SwitchValue.parseConfig(value)
        }
      } else if key.hasPrefix(InstanceFault.root + "/") {
        _ = try InstanceFault.parse(value)
      }
      return nil
    } catch {
      return "\(error)"
    }
  }

  private mutating func events(from old: MeshStats, to new: MeshStats, at time: Date) {
    let before = Dictionary(old.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let after = Dictionary(new.nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for node in new.nodes {
      switch (before[node.name]?.up, node.up) {
      case (nil, _):
        // The first view lists every node; joining is news only after it.
        if !old.nodes.isEmpty {
          record(DashboardEvent(time: time, kind: .node, message: "\(node.name) joined"))
        }
      case (true, false):
        record(
          DashboardEvent(time: time, kind: .node, message: "\(node.name) is down", severe: true)
        )
      case (false, true):
        record(DashboardEvent(time: time, kind: .node, message: "\(node.name) is up again"))
      default: break
      }
    }
    for node in old.nodes where after[node.name] == nil {
      record(DashboardEvent(time: time, kind: .node, message: "\(node.name) left"))
    }
    let routesBefore = Dictionary(old.routes.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    for route in new.routes {
      guard let previous = routesBefore[route.path] else { continue }
      if let from = previous.breaker, let to = route.breaker, from != to {
        record(breakerEvent("\(route.path)", from, to, time))
      }
      let instancesBefore = Dictionary(
        (previous.instances ?? []).map { ($0.address, $0.breaker) },
        uniquingKeysWith: { a, _ in a }
      )
      for instance in route.instances ?? [] {
        if let from = instancesBefore[instance.address], from != instance.breaker {
          record(breakerEvent("\(route.path) @ \(instance.address)", from, instance.breaker, time))
        }
      }
    }
  }

  private func breakerEvent(_ what: String, _ from: String, _ to: String, _ time: Date)
    -> DashboardEvent
  {
    DashboardEvent(
      time: time,
      kind: .breaker,
      message: "breaker \(what): \(from) → \(to)",
      severe: to == "open"
    )
  }

  // MARK: What the views list

  /// The routes shown, filtered and sorted. Each route's path is made once: comparing paths
  /// built afresh in every comparison made a 5,000-route frame take most of a second.
  public var visibleRoutes: [RouteStats] {
    var keyed = stats.routes.map { (route: $0, path: $0.path) }
    if !filter.isEmpty { keyed.removeAll { !matches($0.path) } }
    let measure: (RouteStats) -> Double
    switch sort {
    case .name: measure = { _ in 0 }
    case .qps: measure = { $0.qps }
    case .errors: measure = { $0.errorPercent }
    case .p99: measure = { $0.latencyMilliseconds.p99 }
    }
    let measured = keyed.map { (route: $0.route, path: $0.path, value: measure($0.route)) }
    return measured.sorted { $0.value != $1.value ? $0.value > $1.value : $0.path < $1.path }
      .map(\.route)
  }

  /// The nodes shown, filtered and sorted (by name, or busiest first).
  public var visibleNodes: [NodeStats] {
    let shown = filter.isEmpty ? stats.nodes : stats.nodes.filter { matches($0.name) }
    switch sort {
    case .qps: return shown.sorted { ($0.qps ?? 0, $1.name) > ($1.qps ?? 0, $0.name) }
    default: return shown.sorted { $0.name < $1.name }
    }
  }

  /// The events shown, newest first.
  public var visibleEvents: [DashboardEvent] {
    let shown = filter.isEmpty ? events : events.filter { matches($0.message) }
    return shown.reversed()
  }

  /// Rows in the current view.
  public var rowCount: Int {
    switch view {
    case .routes: visibleRoutes.count
    case .nodes: visibleNodes.count
    case .events: visibleEvents.count
    }
  }

  /// The selected route, in the routes view.
  public var selectedRoute: RouteStats? {
    guard view == .routes else { return nil }
    let routes = visibleRoutes
    return routes.indices.contains(selection) ? routes[selection] : nil
  }

  /// The selected node, in the nodes view.
  public var selectedNode: NodeStats? {
    guard view == .nodes else { return nil }
    let nodes = visibleNodes
    return nodes.indices.contains(selection) ? nodes[selection] : nil
  }

  /// Routes degraded by a key in force, with the key that does it.
  public var degradedKeys: [(key: String, pattern: RoutePattern)] {
    config.keys.sorted().compactMap { key in
      guard let (pattern, kind) = GovernanceSwitch.parse(key: key), kind == .degrade,
        let value = config[key], (try? SwitchValue.parseDegrade(value)) == true
      else { return nil }
      return (key, pattern)
    }
  }

  /// Whether `route` is degraded by the keys in force (the most specific key wins, as callers
  /// resolve it), shown the moment the dashboard flips it.
  public func isDegraded(_ route: RouteStats) -> Bool {
    switches.degrade.value(forSegments: Self.segments(route, anyCallee: false))
      ?? route.degraded ?? false
  }

  /// The split over the callee's clusters in force for `route`'s caller and method, from the
  /// keys (shown at once after a flip), else as the caller reports it.
  public func traffic(_ route: RouteStats) -> [String: Int]? {
    switches.traffic.value(forSegments: Self.segments(route, anyCallee: true)) ?? route.traffic
  }

  /// The route's `/…/config` document in force, or `nil` when only defaults apply.
  public func configInForce(_ route: RouteStats) -> String? {
    switches.config.value(forSegments: Self.segments(route, anyCallee: false))
  }

  /// The callee's clusters, from its nodes, the caller's routes and the split.
  func calleeClusters(_ route: RouteStats) -> [String] {
    var clusters = Set(stats.nodes.filter { $0.service == route.to }.map(\.cluster))
    for other in stats.routes
    where other.from == route.from && other.fromCluster == route.fromCluster
      && other.to == route.to && other.method == route.method
    {
      clusters.insert(other.toCluster)
    }
    clusters.formUnion(traffic(route)?.keys ?? [:].keys)
    return clusters.sorted()
  }

  /// The key pattern of `route` (`anyCallee`: its caller and method over every callee cluster).
  static func pattern(_ route: RouteStats, anyCallee: Bool) -> RoutePattern? {
    try? RoutePattern(path: "/" + segments(route, anyCallee: anyCallee).joined(separator: "/"))
  }

  static func segments(_ route: RouteStats, anyCallee: Bool) -> [String] {
    [
      route.from, route.fromCluster, route.to, anyCallee ? RoutePattern.any : route.toCluster,
      route.method,
    ]
  }

  private func matches(_ text: String) -> Bool {
    text.localizedCaseInsensitiveContains(filter)
  }

  mutating func clampSelection() {
    selection = max(0, min(selection, rowCount - 1))
    scroll = max(0, min(scroll, selection))
    if selection >= scroll + pageRows { scroll = selection - pageRows + 1 }
  }
}
