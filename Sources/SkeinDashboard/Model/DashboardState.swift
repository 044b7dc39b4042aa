public import Foundation
import SkeinGovernance
import SkeinMesh
public import SkeinMetrics

/// Everything the dashboard shows and how the person has arranged it: the latest mesh view,
/// the history behind its graphs, the events, the config keys in force, and the selection,
/// sort, filter and modes. Pure Swift and a value: keys change it through ``handle(_:)``, data
/// through the `ingest` functions, and the layout draws it; none of it touches a terminal.
public struct DashboardState: Sendable {
  /// The views Tab cycles through.
  public enum View: String, Sendable, CaseIterable {
    /// One row per five-tuple.
    case routes
    /// One row per instance.
    case nodes
    /// The events feed.
    case events
  }

  /// The orders `s` cycles through.
  public enum Sort: String, Sendable, CaseIterable {
    /// By route path.
    case name
    /// Busiest first.
    case qps
    /// Highest error rate first.
    case errors
    /// Slowest p99 first.
    case p99
  }

  /// A question waiting for `y`.
  public struct Confirmation: Sendable, Hashable {
    /// What the question says.
    public var question: String
    /// What `y` does.
    public var commands: [DashboardCommand]
  }

  /// Where the dashboard runs: what it may change and what it shows in its header.
  public struct Setup: Sendable, Hashable {
    /// The mesh's name.
    public var meshName: String
    /// The config store's URL.
    public var storeURL: String
    /// Seconds between two refreshes.
    public var refreshSeconds: Double
    /// Mutating keys are hidden and refused.
    public var readOnly: Bool
    /// The dashboard hosts the demo mesh: the fault keys work.
    public var demo: Bool

    /// A setup.
    public init(
      meshName: String,
      storeURL: String,
      refreshSeconds: Double = 1,
      readOnly: Bool = false,
      demo: Bool = false
    ) {
      self.meshName = meshName
      self.storeURL = storeURL
      self.refreshSeconds = refreshSeconds
      self.readOnly = readOnly
      self.demo = demo
    }
  }

  /// Samples kept per route and node: a minute at one refresh a second.
  public static let historyLength = 60
  /// Events kept.
  public static let maxEvents = 500
  /// Switch flips `u` can undo.
  public static let maxUndo = 50
  /// What `←`/`→` move, in percentage points of a route's traffic.
  public static let trafficStep = 10
  /// The latency a fault key adds to an instance.
  public static let faultLatencyMilliseconds = 200
  /// The error rate a fault key injects.
  public static let faultErrorRate = 0.5

  /// Where the dashboard runs.
  public var setup: Setup
  /// The latest merged view of the mesh.
  public internal(set) var stats = MeshStats(routes: [], nodes: [])
  /// When it was read.
  public internal(set) var statsTime: Date?
  /// Per route path: QPS, p50 and p99 over the last ``historyLength`` refreshes.
  public internal(set) var routeHistory: [String: RouteHistory] = [:]
  /// Per node: live tasks over the last refreshes, for the climbing-tasks warning.
  public internal(set) var taskHistory: [String: [Int]] = [:]
  /// Newest last.
  public internal(set) var events: [DashboardEvent] = []
  /// The governance and fault keys in force, by key: what `u` restores and `D` lists.
  public internal(set) var config: [String: String] = [:] {
    didSet { switches = SwitchTables(config) }
  }
  /// The keys in force as route tables, made when they change rather than per row per frame.
  private(set) var switches = SwitchTables([:])
  /// The view shown.
  public var view: View = .routes
  /// The selected row of the view, and the first row shown.
  public internal(set) var selection = 0
  /// The first row shown.
  public var scroll = 0
  /// The order of the routes and nodes.
  public internal(set) var sort: Sort = .name
  /// Rows must contain this (any part of the five-tuple, or of the node's name).
  public internal(set) var filter = ""
  /// The filter is being typed.
  public internal(set) var editingFilter = false
  /// The detail pane of the selected route is open.
  public internal(set) var detailOpen = false
  /// New data is not shown (the mesh runs on).
  public internal(set) var paused = false
  /// The key list is shown.
  public internal(set) var helpOpen = false
  /// The list of degraded routes (`D`) is shown; its selected entry.
  public internal(set) var degradedList: Int?
  /// A question waiting for `y`.
  public internal(set) var confirmation: Confirmation?
  /// A one-line message for the person (what a key did, or why it did nothing).
  public internal(set) var message: String?
  /// What `u` restores, newest last: each key's value before a flip (`nil`: it was unset).
  public internal(set) var undo: [(key: String, value: String?)] = []
  /// The theme's name, shown in the header.
  public var themeName = "default"
  /// Rows a page holds (set by the layout from the terminal's height).
  public var pageRows = 20
  /// The newest view, shown or not (while paused).
  var latest: MeshStats?
  /// Values this dashboard wrote whose echo from the store has not come back yet, per key in
  /// order (`nil`: a delete).
  var pendingWrites: [String: [String?]] = [:]

  /// A state for `setup` with no data yet.
  public init(setup: Setup) {
    self.setup = setup
  }
}

/// A change the dashboard asks for: written to the config store by the controller, exactly as
/// `skein ctl` would, or a local effect.
public enum DashboardCommand: Sendable, Hashable {
  /// Put `value` under `key`.
  case put(key: String, value: String)
  /// Delete `key`.
  case delete(key: String)
  /// Switch to the next theme.
  case nextTheme
  /// Leave the dashboard.
  case quit
}

/// Something that happened in the mesh, for the events feed.
public struct DashboardEvent: Sendable, Hashable {
  /// How it reads.
  public enum Kind: String, Sendable, Hashable {
    /// A breaker changed state.
    case breaker
    /// A degrade or traffic switch, a config or a fault was set or cleared.
    case change
    /// A node joined or left.
    case node
    /// A malformed value was rejected (the last good one stays).
    case rejected
  }

  /// When.
  public var time: Date
  /// What kind.
  public var kind: Kind
  /// What.
  public var message: String
  /// Whether it is bad news (drawn in the theme's bad color).
  public var severe: Bool

  /// An event.
  public init(time: Date, kind: Kind, message: String, severe: Bool = false) {
    self.time = time
    self.kind = kind
    self.message = message
    self.severe = severe
  }
}

/// A route's recent history, one sample per refresh, oldest first.
public struct RouteHistory: Sendable, Hashable {
  /// Calls per second.
  public var qps: [Double] = []
  /// Median latency, ms.
  public var p50: [Double] = []
  /// 99th percentile latency, ms.
  public var p99: [Double] = []

  mutating func append(_ route: RouteStats, keep: Int) {
    qps.append(route.qps)
    p50.append(route.latencyMilliseconds.p50)
    p99.append(route.latencyMilliseconds.p99)
    for index in [\Self.qps, \Self.p50, \Self.p99] where self[keyPath: index].count > keep {
      self[keyPath: index].removeFirst(self[keyPath: index].count - keep)
    }
  }
}

extension RouteStats {
  /// Failed calls as a share of the calls that ended, in percent.
  public var errorPercent: Double {
    let ended = successes + errorCount
    return ended == 0 ? 0 : Double(errorCount) / Double(ended) * 100
  }
}

extension NodeStats {
  /// `service/cluster/instance`.
  public var name: String { "\(service)/\(cluster)/\(instance)" }
}

/// The governance keys in force, parsed into tables that answer "what applies to this route"
/// as callers resolve it (the most specific pattern wins).
struct SwitchTables: Sendable {
  var degrade = RouteTable<Bool>()
  var traffic = RouteTable<[String: Int]>()
  var config = RouteTable<String>()

  /// The tables of `keys`; values that do not parse are left out (callers ignore them too).
  init(_ keys: [String: String]) {
    for (key, value) in keys {
      guard let (pattern, kind) = GovernanceSwitch.parse(key: key) else { continue }
      switch kind {
      case .degrade: degrade[pattern] = try? SwitchValue.parseDegrade(value)
      case .traffic: traffic[pattern] = try? SwitchValue.parseTraffic(value)
      case .config: config[pattern] = (try? SwitchValue.parseConfig(value)).map { _ in value }
      }
    }
  }
}
