public import Foundation
import SkeinGovernance
import SkeinMetrics

/// Draws a ``DashboardState`` into a ``ScreenBuffer``: the header, the view's table, the
/// detail pane, the overlays, the status line and the hints bar. Pure: the same state and size
/// always give the same frame, which is what the tests read.
public struct DashboardLayout: Sendable {
  /// The smallest terminal the dashboard draws in.
  public static let minimumSize = (width: 80, height: 24)

  /// The characters to draw with.
  public var glyphs: Glyphs

  /// A layout drawing with `glyphs`.
  public init(glyphs: Glyphs) {
    self.glyphs = glyphs
  }

  /// Table rows a view shows at `height`, for paging.
  public static func pageRows(height: Int, detailOpen: Bool) -> Int {
    let rows = max(1, height - 5)
    return detailOpen ? max(3, rows / 2 - 1) : rows
  }

  /// The frame of `state` at `width` × `height`, as of `now` (the header's clock).
  public func render(_ state: DashboardState, width: Int, height: Int, now: Date) -> ScreenBuffer {
    var frame = ScreenBuffer(width: width, height: height)
    guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
      let lines = [
        "Terminal too small: \(width)×\(height).",
        "The dashboard needs \(Self.minimumSize.width)×\(Self.minimumSize.height).",
      ]
      for (index, line) in lines.enumerated() {
        let y = height / 2 - 1 + index
        frame.put(line, x: max(0, (width - line.count) / 2), y: y, style: CellStyle(.warn))
      }
      return frame
    }
    header(state, into: &frame, now: now)
    tabs(state, into: &frame)
    let tableHeight = Self.pageRows(height: height, detailOpen: state.detailOpen) + 1
    switch state.view {
    case .routes:
      routes(state, into: &frame, top: 2, rows: tableHeight)
      if state.detailOpen, let route = state.selectedRoute {
        detail(route, state, into: &frame, top: 2 + tableHeight, bottom: height - 3)
      }
    case .nodes: nodes(state, into: &frame, top: 2, rows: tableHeight)
    case .events: events(state, into: &frame, top: 2, rows: tableHeight)
    }
    if state.degradedList != nil { degradedList(state, into: &frame) }
    if state.helpOpen { help(state, into: &frame) }
    status(state, into: &frame)
    hints(state, into: &frame)
    if !glyphs.braille { Self.transliterate(&frame) }
    return frame
  }

  /// In ASCII mode, the few non-ASCII characters of messages and hints (arrows, ellipsis,
  /// the times sign) become one ASCII character each, so widths stay as laid out.
  static func transliterate(_ frame: inout ScreenBuffer) {
    let replacements: [Character: Character] = [
      "→": ">", "←": "<", "↑": "^", "↓": "v", "…": ".", "×": "x", "▲": "^", "─": "-", "│": "|",
    ]
    for y in 0..<frame.height {
      for x in 0..<frame.width where !frame[x, y].character.isASCII {
        frame[x, y].character = replacements[frame[x, y].character] ?? "?"
      }
    }
  }

  // MARK: Header and bars

  private func header(_ state: DashboardState, into frame: inout ScreenBuffer, now: Date) {
    let style = CellStyle(.header, bold: true)
    frame.fill(x: 0, y: 0, count: frame.width, style: style)
    let stats = state.stats
    let up = stats.nodes.filter(\.up).count
    let edge = Self.edgeCaller(stats)
    let qps = stats.routes.filter { $0.from == edge }.reduce(0) { $0 + $1.qps }
    let ended = stats.routes.reduce(Int64(0)) { $0 + $1.successes + $1.errorCount }
    let failed = stats.routes.reduce(Int64(0)) { $0 + $1.errorCount }
    let errorRate = ended == 0 ? 0 : Double(failed) / Double(ended) * 100
    let tasks = stats.nodes.reduce(0) { $0 + $1.tasks }
    let clock = Self.clock(now)
    let parts = [
      state.setup.meshName, "\(up)/\(stats.nodes.count) up", "\(Self.number(qps)) qps",
      "err \(String(format: "%.1f", errorRate))%", "tasks \(tasks)", state.setup.storeURL,
    ]
    let text = " " + parts.joined(separator: "  ")
    frame.put(text, x: 0, y: 0, style: style, limit: frame.width - clock.count - 2)
    frame.put(clock, x: frame.width - clock.count - 1, y: 0, style: style)
    if up < stats.nodes.count {
      let down = " \(stats.nodes.count - up) DOWN "
      frame.put(
        down,
        x: frame.width - clock.count - 2 - down.count,
        y: 0,
        style: CellStyle(.bad, bold: true, reverse: true)
      )
    }
  }

  /// `HH:mm:ss`, the same width in every locale.
  static func clock(_ time: Date) -> String {
    let parts = Calendar.current.dateComponents([.hour, .minute, .second], from: time)
    return String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
  }

  /// The caller the edge load calls as: the one service that only calls.
  private static func edgeCaller(_ stats: MeshStats) -> String {
    let callees = Set(stats.routes.map(\.to))
    return stats.routes.first { !callees.contains($0.from) }?.from ?? "edge"
  }

  private func tabs(_ state: DashboardState, into frame: inout ScreenBuffer) {
    var x = 1
    for view in DashboardState.View.allCases {
      let label = " \(view.rawValue.capitalized) "
      let selected = view == state.view
      x += frame.put(
        label,
        x: x,
        y: 1,
        style: selected ? CellStyle(.selection, bold: true, reverse: true) : CellStyle(.muted)
      )
      x += 1
    }
    var right = state.paused ? "PAUSED  " : ""
    if state.setup.readOnly { right += "read-only  " }
    right += "every \(Self.number(state.setup.refreshSeconds))s  sort \(state.sort.rawValue)"
    if !state.filter.isEmpty || state.editingFilter { right += "  /\(state.filter)" }
    right += "  \(state.themeName)"
    frame.put(right, x: frame.width - right.count - 1, y: 1, style: CellStyle(.muted))
  }

  private func status(_ state: DashboardState, into frame: inout ScreenBuffer) {
    let y = frame.height - 2
    if let confirmation = state.confirmation {
      frame.fill(x: 0, y: y, count: frame.width, style: CellStyle(.warn, reverse: true))
      frame.put(" " + confirmation.question, x: 0, y: y, style: CellStyle(.warn, reverse: true))
    } else if state.editingFilter {
      frame.put(" filter: /\(state.filter)_", x: 0, y: y, style: CellStyle(.accent, bold: true))
    } else if let message = state.message {
      frame.put(" " + message, x: 0, y: y, style: CellStyle(.accent))
    } else if let last = state.events.last {
      let time = Self.clock(last.time)
      frame.put(
        " \(time) \(last.message)",
        x: 0,
        y: y,
        style: CellStyle(last.severe ? .bad : .muted)
      )
    }
  }

  private func hints(_ state: DashboardState, into frame: inout ScreenBuffer) {
    let y = frame.height - 1
    var x = 1
    for (key, action) in state.hints {
      guard x + key.count + action.count + 2 < frame.width else { break }
      x += frame.put(key, x: x, y: y, style: CellStyle(.hintKey, bold: true))
      x += frame.put(" " + action + "  ", x: x, y: y, style: CellStyle(.hintText))
    }
  }

  // MARK: Tables

  /// A table column: its title, width, and whether it is aligned right.
  struct Column {
    var title: String
    var width: Int
    var right = true
  }

  /// The routes table's columns at `width`, in the issue's order: the essential ones always
  /// (QPS, error %, p99, breaker, degrade), then traffic, p50, in-flight and the sparkline as
  /// they fit, and the rest to the route's name.
  static func routeColumns(width: Int) -> [Column] {
    let all: [(rank: Int, column: Column, essential: Bool)] = [
      (1, Column(title: "QPS", width: 8), true),
      (2, Column(title: "ERR%", width: 6), true),
      (3, Column(title: "P50 MS", width: 8), false),
      (4, Column(title: "P99 MS", width: 8), true),
      (5, Column(title: "INFL", width: 5), false),
      (6, Column(title: "QPS 1m", width: 22, right: false), false),
      (7, Column(title: "BREAKER", width: 10, right: false), true),
      (8, Column(title: "DEG", width: 4, right: false), true),
      (9, Column(title: "TRAFFIC", width: 13, right: false), false),
    ]
    let minimumRoute = 34
    var chosen = all.filter(\.essential)
    var used = chosen.reduce(minimumRoute) { $0 + $1.column.width + 1 }
    // Optional columns in the order they are given room: traffic, p50, in-flight, sparkline.
    for title in ["TRAFFIC", "P50 MS", "INFL", "QPS 1m"] {
      guard let entry = all.first(where: { $0.column.title == title }),
        used + entry.column.width + 1 <= width - 1
      else { continue }
      chosen.append(entry)
      used += entry.column.width + 1
    }
    let route = Column(title: "ROUTE", width: width - 2 - (used - minimumRoute), right: false)
    return [route] + chosen.sorted { $0.rank < $1.rank }.map(\.column)
  }

  private func drawHeader(_ columns: [Column], into frame: inout ScreenBuffer, y: Int) {
    var x = 1
    for column in columns {
      let title = column.right ? Self.pad(column.title, column.width) : column.title
      frame.put(title, x: x, y: y, style: CellStyle(.title, bold: true), limit: column.width)
      x += column.width + 1
    }
  }

  private func routes(
    _ state: DashboardState,
    into frame: inout ScreenBuffer,
    top: Int,
    rows: Int
  ) {
    let columns = Self.routeColumns(width: frame.width)
    drawHeader(columns, into: &frame, y: top)
    let routes = state.visibleRoutes
    guard !routes.isEmpty else {
      let text =
        state.stats.routes.isEmpty
        ? "waiting for the first figures…" : "no route matches the filter"
      frame.put(text, x: 2, y: top + 1, style: CellStyle(.muted))
      return
    }
    for (offset, index) in (state.scroll..<min(routes.count, state.scroll + rows - 1)).enumerated()
    {
      let route = routes[index]
      let cells = columns.map { cell($0.title, route, state, width: $0.width) }
      drawRow(cells, columns, into: &frame, y: top + 1 + offset, selected: index == state.selection)
    }
  }

  /// One table row: each cell padded or clipped to its column, the selected row reversed.
  private func drawRow(
    _ cells: [(String, StyleRole)],
    _ columns: [Column],
    into frame: inout ScreenBuffer,
    y: Int,
    selected: Bool
  ) {
    if selected {
      frame.fill(x: 0, y: y, count: frame.width, style: CellStyle(.selection, reverse: true))
    }
    var x = 1
    for (column, (text, role)) in zip(columns, cells) {
      let style =
        selected ? CellStyle(.selection, bold: role != .normal, reverse: true) : CellStyle(role)
      frame.put(
        column.right ? Self.pad(text, column.width) : text,
        x: x,
        y: y,
        style: style,
        limit: column.width
      )
      x += column.width + 1
    }
  }

  private func cell(_ title: String, _ route: RouteStats, _ state: DashboardState, width: Int)
    -> (String, StyleRole)
  {
    switch title {
    case "ROUTE":
      let text =
        "\(route.from)/\(route.fromCluster) \(glyphs.arrow) \(route.to)/\(route.toCluster).\(route.method)"
      return (text, .normal)
    case "QPS": return (Self.number(route.qps), .normal)
    case "ERR%":
      let rate = route.errorPercent
      return (String(format: "%.1f", rate), rate >= 10 ? .bad : rate >= 1 ? .warn : .normal)
    case "P50 MS": return (String(format: "%.2f", route.latencyMilliseconds.p50), .normal)
    case "P99 MS": return (String(format: "%.2f", route.latencyMilliseconds.p99), .normal)
    case "INFL": return (String(route.inflight), .normal)
    case "QPS 1m":
      return (glyphs.sparkline(state.routeHistory[route.path]?.qps ?? [], width: width), .graph)
    case "BREAKER":
      switch route.breaker {
      case "open": return ("OPEN", .bad)
      case "half_open": return ("half-open", .warn)
      case "closed": return ("closed", .ok)
      default: return ("-", .muted)
      }
    case "DEG": return state.isDegraded(route) ? ("DEG", .bad) : ("-", .muted)
    case "TRAFFIC":
      return (state.traffic(route).map(DashboardState.describe) ?? "-", .normal)
    default: return ("", .normal)
    }
  }

  private func nodes(_ state: DashboardState, into frame: inout ScreenBuffer, top: Int, rows: Int) {
    let columns = [
      Column(title: "NODE", width: 24, right: false),
      Column(title: "ADDRESS", width: 21, right: false),
      Column(title: "TASKS", width: 7), Column(title: "PEAK", width: 6),
      Column(
        title: "TASKS 1m",
        width: max(8, frame.width - 24 - 21 - 7 - 6 - 8 - 8 - 6 - 5 - 11),
        right: false
      ),
      Column(title: "QPS", width: 8), Column(title: "RSS MIB", width: 8),
      Column(title: "CPU%", width: 6), Column(title: "UP", width: 5, right: false),
    ]
    drawHeader(columns, into: &frame, y: top)
    let nodes = state.visibleNodes
    guard !nodes.isEmpty else {
      frame.put("no nodes yet", x: 2, y: top + 1, style: CellStyle(.muted))
      return
    }
    for (offset, index) in (state.scroll..<min(nodes.count, state.scroll + rows - 1)).enumerated() {
      let node = nodes[index]
      let history = state.taskHistory[node.name] ?? []
      let climbing = Self.climbing(history)
      let cells: [(String, StyleRole)] = [
        (node.name, .normal), (node.address ?? "-", .muted),
        ((climbing ? glyphs.climbing : "") + String(node.tasks), climbing ? .bad : .normal),
        (String(node.tasksPeak), .normal),
        (
          glyphs.sparkline(history.map(Double.init), width: columns[4].width),
          climbing ? .graphHigh : .graph
        ),
        (node.qps.map(Self.number) ?? "-", .normal),
        (String(format: "%.1f", Double(node.rssBytes) / 1_048_576), .normal),
        (String(format: "%.1f", node.cpuPercent), .normal),
        (node.up ? "up" : "DOWN", node.up ? .ok : .bad),
      ]
      drawRow(cells, columns, into: &frame, y: top + 1 + offset, selected: index == state.selection)
    }
  }

  /// Whether a task count climbs fast: doubled over the last ten refreshes and above a floor,
  /// the early warning of calls piling up behind something slow.
  static func climbing(_ history: [Int]) -> Bool {
    guard history.count >= 10, let now = history.last else { return false }
    let before = history[history.count - 10]
    return now >= 20 && now >= before * 2
  }

  private func events(_ state: DashboardState, into frame: inout ScreenBuffer, top: Int, rows: Int)
  {
    drawHeader(
      [
        Column(title: "TIME", width: 8, right: false),
        Column(title: "KIND", width: 8, right: false),
        Column(title: "WHAT", width: frame.width - 20, right: false),
      ],
      into: &frame,
      y: top
    )
    let events = state.visibleEvents
    guard !events.isEmpty else {
      frame.put("no events yet", x: 2, y: top + 1, style: CellStyle(.muted))
      return
    }
    for (offset, index) in (state.scroll..<min(events.count, state.scroll + rows - 1)).enumerated()
    {
      let event = events[index]
      let y = top + 1 + offset
      let selected = index == state.selection
      let role: StyleRole = event.severe ? .bad : event.kind == .rejected ? .warn : .normal
      let style = selected ? CellStyle(.selection, reverse: true) : CellStyle(role)
      if selected { frame.fill(x: 0, y: y, count: frame.width, style: style) }
      frame.put(Self.clock(event.time), x: 1, y: y, style: style)
      frame.put(event.kind.rawValue, x: 10, y: y, style: style)
      frame.put(event.message, x: 19, y: y, style: style, limit: frame.width - 20)
    }
  }

  // MARK: The detail pane

  private func detail(
    _ route: RouteStats,
    _ state: DashboardState,
    into frame: inout ScreenBuffer,
    top: Int,
    bottom: Int
  ) {
    guard bottom - top >= 4 else { return }
    let rule = String(repeating: glyphs.horizontal, count: frame.width)
    frame.put(rule, x: 0, y: top, style: CellStyle(.border))
    frame.put(" \(route.path) ", x: 2, y: top, style: CellStyle(.title, bold: true))
    let history = state.routeHistory[route.path] ?? RouteHistory()
    let graphWidth = frame.width / 2 - 2
    // p99 over p50, one graph each, on the same scale so their gap reads as the tail.
    let graphHeight = max(1, (bottom - top - 3) / 2)
    let scale = max(history.p99.max() ?? 0, 0.001)
    let series: [(String, [Double], StyleRole)] = [
      ("p99", history.p99, .graphHigh), ("p50", history.p50, .graph),
    ]
    var y = top + 1
    for (name, values, role) in series {
      frame.put(
        "latency \(name): now \(String(format: "%.2f", values.last ?? 0)) ms, scale \(String(format: "%.2f", scale)) ms, last \(values.count) s",
        x: 1,
        y: y,
        style: CellStyle(.muted),
        limit: graphWidth
      )
      y += 1
      for line in glyphs.graph(values, width: graphWidth, height: graphHeight, top: scale) {
        frame.put(line, x: 1, y: y, style: CellStyle(role))
        y += 1
      }
    }
    let x = frame.width / 2 + 1
    let width = frame.width - x - 1
    y = top + 1
    let breaker = route.breaker ?? "-"
    let traffic = state.traffic(route).map(DashboardState.describe) ?? "-"
    frame.put(
      "breaker \(breaker)  degraded \(state.isDegraded(route) ? "yes" : "no")  traffic \(traffic)",
      x: x,
      y: y,
      style: CellStyle(breaker == "open" ? .bad : .normal),
      limit: width
    )
    y += 1
    let config = state.configInForce(route) ?? "defaults"
    frame.put("config \(config)", x: x, y: y, style: CellStyle(.muted), limit: width)
    y += 1
    let errors = route.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    let served = route.servedQps.map { "served \(Self.number($0)) qps" } ?? "served -"
    frame.put(
      "calls \(Self.number(route.qps)) qps  \(served)  errors \(errors.isEmpty ? "none" : errors.joined(separator: ", "))",
      x: x,
      y: y,
      style: CellStyle(route.errorCount > 0 ? .warn : .normal),
      limit: width
    )
    y += 1
    let instances = route.instances ?? []
    let heaviest = max(1, instances.map(\.weight).max() ?? 1)
    for instance in instances where y < bottom {
      let barWidth = max(1, width - 44)
      let filled = instance.weight * barWidth / heaviest
      let role: StyleRole =
        instance.breaker == "open" ? .bad : instance.breaker == "half_open" ? .warn : .ok
      var column = x
      column += frame.put(Self.pad(instance.address, 21) + " ", x: column, y: y, limit: 22)
      column += frame.put(
        String(repeating: glyphs.bar, count: filled)
          + String(repeating: " ", count: barWidth - filled),
        x: column,
        y: y,
        style: CellStyle(.graph)
      )
      frame.put(
        " w\(instance.weight) infl \(instance.inflight) \(instance.breaker)",
        x: column,
        y: y,
        style: CellStyle(role),
        limit: x + width - column
      )
      y += 1
    }
    if instances.isEmpty {
      frame.put(
        "no instance figures (the server side knows none)",
        x: x,
        y: y,
        style: CellStyle(.muted)
      )
    }
  }

  // MARK: Overlays

  private func box(_ title: String, lines: [(String, StyleRole)], into frame: inout ScreenBuffer) {
    let width = min(frame.width - 4, max(title.count + 4, (lines.map(\.0.count).max() ?? 0) + 4))
    let height = min(frame.height - 4, lines.count + 2)
    let left = (frame.width - width) / 2
    let top = (frame.height - height) / 2
    for row in 0..<height {
      frame.fill(x: left, y: top + row, count: width, style: CellStyle(.normal))
    }
    let rule = String(repeating: glyphs.horizontal, count: width)
    frame.put(rule, x: left, y: top, style: CellStyle(.border))
    frame.put(rule, x: left, y: top + height - 1, style: CellStyle(.border))
    frame.put(" \(title) ", x: left + 2, y: top, style: CellStyle(.title, bold: true))
    for (index, (line, role)) in lines.prefix(height - 2).enumerated() {
      frame.put(line, x: left + 2, y: top + 1 + index, style: CellStyle(role), limit: width - 4)
    }
  }

  private func help(_ state: DashboardState, into frame: inout ScreenBuffer) {
    let keyWidth = state.allKeys.map(\.key.count).max() ?? 0
    let lines = state.allKeys.map { key, action, enabled in
      (
        Self.padRight(key, keyWidth) + "  " + action + (enabled ? "" : "  (off here)"),
        enabled ? StyleRole.normal : .muted
      )
    }
    box("Keys (any key closes)", lines: lines, into: &frame)
  }

  private func degradedList(_ state: DashboardState, into frame: inout ScreenBuffer) {
    let degraded = state.degradedKeys
    let selected = min(state.degradedList ?? 0, max(0, degraded.count - 1))
    let lines: [(String, StyleRole)] =
      degraded.isEmpty
      ? [("no route is degraded", .muted)]
      : degraded.enumerated().map { index, entry in
        (
          (index == selected ? "> " : "  ") + entry.pattern.path,
          index == selected ? .accent : .normal
        )
      }
    box("Degraded routes: d clears one, c all, Esc closes", lines: lines, into: &frame)
  }

  // MARK: Formatting

  static func number(_ value: Double) -> String {
    value >= 1000 ? String(format: "%.0f", value) : String(format: "%.1f", value)
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }

  static func padRight(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }
}
