import Foundation
import SkeinGovernance
import SkeinMesh
import SkeinMetrics
import SkeinRPC

extension DashboardState {
  /// Applies a key and returns what the controller must do (store writes, a theme switch,
  /// quitting). Mutating keys ask first where the issue says so, record what `u` restores,
  /// and show their effect at once.
  public mutating func handle(_ key: Key) -> [DashboardCommand] {
    message = nil
    if key == .interrupt { return [.quit] }
    if let confirmation {
      self.confirmation = nil
      guard key == .character("y") || key == .character("Y") else {
        message = "cancelled"
        return []
      }
      return flip(confirmation.commands)
    }
    if editingFilter { return editFilter(key) }
    if helpOpen {
      helpOpen = false
      return key == .character("q") ? [.quit] : []
    }
    if degradedList != nil { return handleDegradedList(key) }
    switch key {
    case .up, .character("k"): move(by: -1)
    case .down, .character("j"): move(by: 1)
    case .pageUp: move(by: -max(1, pageRows - 1))
    case .pageDown: move(by: max(1, pageRows - 1))
    case .home: move(to: 0)
    case .end: move(to: rowCount - 1)
    case .tab: switchView(by: 1)
    case .backTab: switchView(by: -1)
    case .enter where view == .routes: detailOpen.toggle()
    case .escape: detailOpen = false
    case .character("s"): cycleSort()
    case .character("/"):
      editingFilter = true
      message = nil
    case .character("p"):
      paused.toggle()
      if !paused, let latest {
        stats = latest
        clampSelection()
      }
    case .character("?"): helpOpen = true
    case .character("t"): return [.nextTheme]
    case .character("q"): return [.quit]
    case .character("d"): return allowed("d") ? askDegrade() : []
    case .character("D"): if allowed("D") { degradedList = 0 }
    case .left, .character("["): return allowed("←") ? shiftTraffic(toward: true) : []
    case .right, .character("]"): return allowed("→") ? shiftTraffic(toward: false) : []
    case .character("u"): return allowed("u") ? undoLast() : []
    case .character(let letter) where "LEKR".contains(letter):
      return allowed(String(letter)) ? fault(letter) : []
    default: break
    }
    return []
  }

  /// The keys that work in the current view and mode, for the hints bar: (key, what it does).
  public var hints: [(key: String, action: String)] {
    if confirmation != nil { return [("y", "confirm"), ("any", "cancel")] }
    if editingFilter { return [("Enter", "keep"), ("Esc", "clear"), ("type", "filter")] }
    if degradedList != nil {
      return [("↑↓", "move"), ("d", "clear"), ("c", "clear all"), ("Esc", "close")]
    }
    var hints: [(String, String)] = [("↑↓", "move"), ("Tab", "view")]
    switch view {
    case .routes:
      hints.append(("Enter", detailOpen ? "close" : "detail"))
      if !setup.readOnly {
        hints += [("d", "degrade"), ("D", "degraded"), ("←→", "traffic"), ("u", "undo")]
      }
    case .nodes:
      if setup.demo && !setup.readOnly {
        hints += [("L", "+latency"), ("E", "errors"), ("K", "kill"), ("R", "restart")]
      }
    case .events: break
    }
    hints += [("s", "sort"), ("/", "filter"), ("t", "theme"), ("p", paused ? "resume" : "pause")]
    hints += [("?", "help"), ("q", "quit")]
    return hints
  }

  /// Every key, for `?`: (key, what it does, whether it works here).
  public var allKeys: [(key: String, action: String, enabled: Bool)] {
    let mutable = !setup.readOnly
    return [
      ("↑↓ j k", "move the selection", true),
      ("PgUp PgDn Home End", "move by a page, to the ends", true),
      ("Tab", "routes → nodes → events", true),
      ("Enter", "the selected route's detail pane", true),
      ("d", "degrade the selected route, or lift it (asks first)", mutable),
      ("D", "list degraded routes and clear them", mutable),
      ("← → [ ]", "shift 10% of the route's traffic to or from its callee cluster", mutable),
      ("u", "undo the last switch flip", mutable),
      ("L E", "demo: add 200 ms latency / 50% errors to the selected node", mutable && setup.demo),
      ("K R", "demo: kill / restart the selected node", mutable && setup.demo),
      ("s", "sort: name, QPS, error %, p99", true),
      ("/", "filter by any part of the five-tuple", true),
      ("t", "next theme", true),
      ("p", "pause the display (the mesh runs on)", true),
      ("q Ctrl-C", "quit", true),
    ]
  }

  // MARK: Moving

  private mutating func move(by rows: Int) { move(to: selection + rows) }

  private mutating func move(to row: Int) {
    selection = row
    clampSelection()
  }

  private mutating func switchView(by step: Int) {
    let all = View.allCases
    let index = all.firstIndex(of: view) ?? 0
    view = all[(index + step + all.count) % all.count]
    selection = 0
    scroll = 0
    detailOpen = false
  }

  private mutating func cycleSort() {
    let all = Sort.allCases
    sort = all[((all.firstIndex(of: sort) ?? 0) + 1) % all.count]
    message = "sorted by \(sort.rawValue)"
    clampSelection()
  }

  private mutating func editFilter(_ key: Key) -> [DashboardCommand] {
    switch key {
    case .enter: editingFilter = false
    case .escape:
      editingFilter = false
      filter = ""
    case .backspace: if !filter.isEmpty { filter.removeLast() }
    case .character(let character): filter.append(character)
    default: break
    }
    selection = 0
    scroll = 0
    return []
  }

  // MARK: Changing the mesh

  /// Whether a mutating key may act; in read-only mode it says why not.
  private mutating func allowed(_ name: String) -> Bool {
    guard setup.readOnly else { return true }
    message = "read-only: \(name) changes nothing"
    return false
  }

  private mutating func askDegrade() -> [DashboardCommand] {
    guard let route = selectedRoute else {
      message = "select a route first"
      return []
    }
    let degraded = isDegraded(route)
    guard let pattern = Self.pattern(route, anyCallee: false) else { return [] }
    let key = GovernanceSwitch.degrade.key(for: pattern)
    let caller = "\(route.from)/\(route.fromCluster)"
    let callee = "\(route.to)/\(route.toCluster).\(route.method)"
    confirmation = Confirmation(
      question: degraded
        ? "Lift the degrade of \(route.path)? \(caller) calls \(callee) again. (y/N)"
        : "Degrade \(route.path)? \(caller) fails its calls to \(callee) fast, without the network. (y/N)",
      commands: [.put(key: key, value: SwitchValue.degrade(!degraded))]
    )
    return []
  }

  private mutating func handleDegradedList(_ key: Key) -> [DashboardCommand] {
    let degraded = degradedKeys
    let index = min(degradedList ?? 0, max(0, degraded.count - 1))
    switch key {
    case .up, .character("k"): degradedList = max(0, index - 1)
    case .down, .character("j"): degradedList = min(max(0, degraded.count - 1), index + 1)
    case .character("d"), .enter:
      guard degraded.indices.contains(index) else { return [] }
      degradedList = index
      return flip([.delete(key: degraded[index].key)])
    case .character("c"):
      guard !degraded.isEmpty else { return [] }
      degradedList = 0
      return flip(degraded.map { .delete(key: $0.key) })
    default: degradedList = nil
    }
    return []
  }

  /// `←` (toward) gives the route's callee cluster 10 points of the caller's split, taken
  /// from the cluster with the most; `→` gives 10 of its points to the cluster with the
  /// fewest. The key is the caller's, `/from/fromCluster/to/*/method/traffic`.
  private mutating func shiftTraffic(toward: Bool) -> [DashboardCommand] {
    guard let route = selectedRoute else {
      message = "select a route first"
      return []
    }
    let clusters = calleeClusters(route)
    guard clusters.count > 1 else {
      message = "\(route.to) has one cluster: no traffic to shift"
      return []
    }
    var split = percentages(route, clusters)
    let others = clusters.filter { $0 != route.toCluster }
    if toward {
      guard let donor = others.max(by: { (split[$0] ?? 0, $1) < (split[$1] ?? 0, $0) }),
        let available = split[donor], available > 0
      else {
        message =
          "all of \(route.from)/\(route.fromCluster)'s \(route.method) calls go to \(route.toCluster)"
        return []
      }
      let moved = min(Self.trafficStep, available)
      split[donor] = available - moved
      split[route.toCluster, default: 0] += moved
    } else {
      let available = split[route.toCluster] ?? 0
      guard available > 0,
        let taker = others.min(by: { (split[$0] ?? 0, $0) < (split[$1] ?? 0, $1) })
      else {
        message = "\(route.toCluster) gets none of these calls already"
        return []
      }
      let moved = min(Self.trafficStep, available)
      split[route.toCluster] = available - moved
      split[taker, default: 0] += moved
    }
    guard let pattern = Self.pattern(route, anyCallee: true),
      let value = try? SwitchValue.traffic(split)
    else { return [] }
    message = "traffic \(pattern.path): \(Self.describe(split))"
    return flip([.put(key: GovernanceSwitch.traffic.key(for: pattern), value: value)])
  }

  /// The split in force as percentages of every callee cluster; without one, what callers do
  /// by default (their own cluster when the callee has it, else all alike).
  private func percentages(_ route: RouteStats, _ clusters: [String]) -> [String: Int] {
    let weights =
      traffic(route)
      ?? (clusters.contains(route.fromCluster)
        ? [route.fromCluster: 100]
        : Dictionary(uniqueKeysWithValues: clusters.map { ($0, 1) }))
    let total = max(1, weights.values.reduce(0, +))
    var split = Dictionary(
      uniqueKeysWithValues: clusters.map { ($0, (weights[$0] ?? 0) * 100 / total) }
    )
    // Rounding down loses points: the first cluster with traffic gets them back.
    if let first = clusters.first(where: { (split[$0] ?? 0) > 0 }) ?? clusters.first {
      split[first, default: 0] += 100 - split.values.reduce(0, +)
    }
    return split
  }

  /// `c1=60,c2=40`.
  static func describe(_ split: [String: Int]) -> String {
    split.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
  }

  /// The demo's fault keys on the selected node: `L` toggles added latency, `E` an error
  /// rate, `K` kills it, `R` clears every fault (restarting it).
  private mutating func fault(_ letter: Character) -> [DashboardCommand] {
    guard setup.demo else {
      message = "fault keys work in the demo only"
      return []
    }
    guard let node = selectedNode, let index = Int(node.instance),
      let service = try? ServiceName(node.service), let cluster = try? Cluster(node.cluster)
    else {
      message = "select a mesh node first"
      return []
    }
    let key = InstanceFault.key(
      of: MeshInstance(service: service, cluster: cluster, index: index, weight: 0)
    )
    var fault = config[key].flatMap { try? InstanceFault.parse($0) } ?? .none
    switch letter {
    case "L":
      fault.latencyMilliseconds =
        fault.latencyMilliseconds == nil ? Self.faultLatencyMilliseconds : nil
    case "E": fault.errorRate = fault.errorRate == nil ? Self.faultErrorRate : nil
    case "K": fault.down = true
    default: fault = .none
    }
    message = "\(node.name): \(fault == .none ? "healthy" : fault.value)"
    return flip([fault == .none ? .delete(key: key) : .put(key: key, value: fault.value)])
  }

  private mutating func undoLast() -> [DashboardCommand] {
    guard let last = undo.popLast() else {
      message = "nothing to undo"
      return []
    }
    message = "undone: \(last.key)"
    let command: DashboardCommand =
      last.value.map { .put(key: last.key, value: $0) } ?? .delete(key: last.key)
    apply(command)
    return [command]
  }

  /// Records what `u` restores, shows the change at once, and hands the writes over.
  private mutating func flip(_ commands: [DashboardCommand]) -> [DashboardCommand] {
    for command in commands {
      switch command {
      case .put(let key, _), .delete(let key):
        undo.append((key, config[key]))
        if undo.count > Self.maxUndo { undo.removeFirst(undo.count - Self.maxUndo) }
      default: break
      }
      apply(command)
    }
    return commands
  }

  /// Shows a write before the store echoes it.
  private mutating func apply(_ command: DashboardCommand) {
    switch command {
    case .put(let key, let value):
      config[key] = value
      pendingWrites[key, default: []].append(value)
    case .delete(let key):
      config[key] = nil
      pendingWrites[key, default: []].append(nil)
    default: break
    }
  }
}
