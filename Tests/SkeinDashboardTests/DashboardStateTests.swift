import Foundation
import SkeinDashboard
import SkeinGovernance
import SkeinMetrics
import Testing

/// A small mesh view: gateway/c1 calls ad in c1 and c2, and feed; nodes of each.
func sampleStats(adBreaker: String = "closed", feedQPS: Double = 40, adNodeUp: Bool = true)
  -> MeshStats
{
  func route(
    _ to: String,
    _ toCluster: String,
    _ method: String,
    qps: Double,
    errors: Int64 = 0,
    p99: Double = 5,
    breaker: String = "closed",
    traffic: [String: Int]? = nil
  ) -> RouteStats {
    RouteStats(
      side: .client,
      from: "gateway",
      fromCluster: "c1",
      to: to,
      toCluster: toCluster,
      method: method,
      requests: 1000,
      successes: 1000 - errors,
      errors: errors == 0 ? [:] : ["remote": errors],
      qps: qps,
      latencyMilliseconds: .init(p50: p99 / 4, p90: p99 / 2, p99: p99, p999: p99, max: p99),
      inflight: 1,
      breaker: breaker,
      degraded: false,
      traffic: traffic,
      instances: [
        InstanceStats(
          address: "127.0.0.1:9000",
          weight: 100,
          inflight: 1,
          latencyMilliseconds: 1,
          breaker: breaker
        )
      ]
    )
  }
  return MeshStats(
    routes: [
      route(
        "ad",
        "c1",
        "GetAds",
        qps: 20,
        errors: 200,
        p99: 30,
        breaker: adBreaker,
        traffic: ["c1": 50, "c2": 50]
      ),
      route("ad", "c2", "GetAds", qps: 20, p99: 12, traffic: ["c1": 50, "c2": 50]),
      route("feed", "c1", "GetFeed", qps: feedQPS, p99: 8),
    ],
    nodes: [
      NodeStats(
        service: "ad",
        cluster: "c1",
        instance: "0",
        address: "127.0.0.1:9000",
        tasks: 3,
        tasksPeak: 5,
        rssBytes: 50 << 20,
        cpuPercent: 10,
        up: adNodeUp,
        qps: 40
      ),
      NodeStats(
        service: "ad",
        cluster: "c2",
        instance: "0",
        address: "127.0.0.1:9001",
        tasks: 2,
        tasksPeak: 4,
        rssBytes: 50 << 20,
        cpuPercent: 10,
        qps: 20
      ),
      NodeStats(
        service: "feed",
        cluster: "c1",
        instance: "0",
        address: "127.0.0.1:9002",
        tasks: 1,
        tasksPeak: 4,
        rssBytes: 50 << 20,
        cpuPercent: 10,
        qps: 40
      ),
    ]
  )
}

let epoch = Date(timeIntervalSince1970: 1_800_000_000)

func sampleState(readOnly: Bool = false, demo: Bool = true) -> DashboardState {
  var state = DashboardState(
    setup: .init(
      meshName: "social",
      storeURL: "memory://127.0.0.1:2380",
      readOnly: readOnly,
      demo: demo
    )
  )
  state.ingest(sampleStats(), at: epoch)
  return state
}

@Suite("Dashboard state and keys")
struct DashboardStateTests {
  @Test("rows sort by name, QPS, error % and p99, and the filter keeps any matching part")
  func sortAndFilter() {
    var state = sampleState()
    #expect(state.visibleRoutes.map(\.path).first == "/gateway/c1/ad/c1/GetAds")
    _ = state.handle(.character("s"))
    #expect(state.sort == .qps)
    #expect(state.visibleRoutes.first?.to == "feed")
    _ = state.handle(.character("s"))
    #expect(state.visibleRoutes.first?.toCluster == "c1" && state.visibleRoutes.first?.to == "ad")
    _ = state.handle(.character("s"))
    #expect(state.visibleRoutes.first?.latencyMilliseconds.p99 == 30)
    _ = state.handle(.character("/"))
    for character in "c2/GetA" { _ = state.handle(.character(character)) }
    _ = state.handle(.enter)
    #expect(state.visibleRoutes.map(\.path) == ["/gateway/c1/ad/c2/GetAds"])
    _ = state.handle(.character("/"))
    _ = state.handle(.escape)
    #expect(state.visibleRoutes.count == 3)
  }

  @Test("moving stays within the rows; Tab cycles the views")
  func movement() {
    var state = sampleState()
    _ = state.handle(.up)
    #expect(state.selection == 0)
    _ = state.handle(.end)
    #expect(state.selection == 2)
    _ = state.handle(.character("j"))
    #expect(state.selection == 2)
    _ = state.handle(.home)
    #expect(state.selection == 0)
    _ = state.handle(.tab)
    #expect(state.view == .nodes && state.selection == 0)
    _ = state.handle(.tab)
    _ = state.handle(.tab)
    #expect(state.view == .routes)
  }

  @Test("d asks first, y degrades the selected five-tuple, u undoes it")
  func degradeConfirmAndUndo() {
    var state = sampleState()
    #expect(state.handle(.character("d")).isEmpty)
    let question = state.confirmation?.question ?? ""
    #expect(question.contains("/gateway/c1/ad/c1/GetAds") && question.contains("fast"))
    let commands = state.handle(.character("y"))
    let key = "/skein/governance/gateway/c1/ad/c1/GetAds/degrade"
    #expect(commands == [.put(key: key, value: #"{"on":true}"#)])
    #expect(state.isDegraded(state.visibleRoutes[0]), "shown at once")
    #expect(state.handle(.character("u")) == [.delete(key: key)])
    #expect(!state.isDegraded(state.visibleRoutes[0]))
    // Any other key cancels.
    _ = state.handle(.character("d"))
    #expect(state.handle(.character("n")).isEmpty)
    #expect(state.message == "cancelled")
  }

  @Test("← and → move 10 points of the caller's split toward or away from the callee cluster")
  func trafficShift() {
    var state = sampleState()
    let key = "/skein/governance/gateway/c1/ad/*/GetAds/traffic"
    #expect(state.handle(.left) == [.put(key: key, value: #"{"c1":60,"c2":40}"#)])
    #expect(state.traffic(state.visibleRoutes[0]) == ["c1": 60, "c2": 40], "in force at once")
    #expect(state.handle(.character("]")) == [.put(key: key, value: #"{"c1":50,"c2":50}"#)])
    _ = state.handle(.end)
    #expect(state.handle(.right).isEmpty, "feed has one cluster")
    #expect(state.message?.contains("one cluster") == true)
  }

  @Test("D lists degraded routes and clears them")
  func degradedList() {
    var state = sampleState()
    let key = "/skein/governance/gateway/*/ad/*/GetAds/degrade"
    state.ingest(
      .reset([ConfigEntry(key: key, value: #"{"on":true}"#, revision: 1)]),
      under: "/skein/governance/",
      at: epoch
    )
    #expect(state.isDegraded(state.visibleRoutes[1]))
    _ = state.handle(.character("D"))
    #expect(state.degradedKeys.map(\.key) == [key])
    #expect(state.handle(.character("d")) == [.delete(key: key)])
    #expect(state.degradedKeys.isEmpty)
  }

  @Test("read-only refuses every mutating key and says so")
  func readOnly() {
    var state = sampleState(readOnly: true)
    for key: Key in [.character("d"), .character("D"), .left, .right, .character("u")] {
      #expect(state.handle(key).isEmpty)
      #expect(state.message?.hasPrefix("read-only") == true)
    }
    #expect(!state.hints.contains { $0.key == "d" })
  }

  @Test("fault keys write the selected node's fault key, in demo mode only")
  func faults() {
    var state = sampleState()
    _ = state.handle(.tab)
    let key = "/skein/faults/ad/c1/0"
    #expect(state.handle(.character("K")) == [.put(key: key, value: #"{"down":true}"#)])
    #expect(state.handle(.character("R")) == [.delete(key: key)])
    var remote = sampleState(demo: false)
    _ = remote.handle(.tab)
    #expect(remote.handle(.character("K")).isEmpty)
  }

  @Test("events: breaker transitions, nodes going down, changes and rejected values")
  func events() {
    var state = sampleState()
    state.ingest(sampleStats(adBreaker: "open", adNodeUp: false), at: epoch + 1)
    let messages = state.events.map(\.message)
    #expect(messages.contains("breaker /gateway/c1/ad/c1/GetAds: closed → open"))
    #expect(messages.contains("ad/c1/0 is down"))
    let degrade = "/skein/governance/gateway/*/ad/*/GetAds/degrade"
    state.ingest(
      .changed(ConfigChange(kind: .put, key: degrade, value: #"{"on":true}"#, revision: 2)),
      under: "/skein/governance/",
      at: epoch + 2
    )
    state.ingest(
      .changed(ConfigChange(kind: .put, key: degrade, value: "nonsense", revision: 3)),
      under: "/skein/governance/",
      at: epoch + 3
    )
    #expect(state.events.last?.kind == .rejected)
    #expect(state.config[degrade] == #"{"on":true}"#, "the last good value stays")
  }

  @Test("pause freezes the rows while history and events go on")
  func pause() {
    var state = sampleState()
    _ = state.handle(.character("p"))
    state.ingest(sampleStats(feedQPS: 99), at: epoch + 1)
    #expect(state.stats.routes.first { $0.to == "feed" }?.qps == 40)
    #expect(state.routeHistory["/gateway/c1/feed/c1/GetFeed"]?.qps.last == 99)
    _ = state.handle(.character("p"))
    #expect(state.stats.routes.first { $0.to == "feed" }?.qps == 99)
  }
}

@Suite("Dashboard state: the store's echoes")
struct DashboardEchoTests {
  @Test("echoes of earlier flips arriving late do not undo later ones")
  func lateEchoes() {
    var state = sampleState()
    let key = "/skein/governance/gateway/c1/ad/*/GetAds/traffic"
    var written: [String] = []
    for _ in 0..<3 {
      for command in state.handle(.left) {
        if case .put(_, let value) = command { written.append(value) }
      }
    }
    #expect(written.last == #"{"c1":80,"c2":20}"#)
    // The store echoes the first write only now: the screen keeps the newest.
    state.ingest(
      .changed(ConfigChange(kind: .put, key: key, value: written[0], revision: 5)),
      under: "/skein/governance/",
      at: epoch
    )
    #expect(state.traffic(state.visibleRoutes[0]) == ["c1": 80, "c2": 20])
    #expect(state.handle(.left) == [.put(key: key, value: #"{"c1":90,"c2":10}"#)])
    // Someone else's write wins.
    state.ingest(
      .changed(ConfigChange(kind: .put, key: key, value: #"{"c1":5,"c2":95}"#, revision: 9)),
      under: "/skein/governance/",
      at: epoch
    )
    #expect(state.traffic(state.visibleRoutes[0]) == ["c1": 5, "c2": 95])
  }
}
