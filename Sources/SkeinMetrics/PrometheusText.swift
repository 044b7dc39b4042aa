/// Renders a node snapshot in Prometheus' text exposition format (version 0.0.4), so a real
/// Prometheus can scrape a node's `/metrics`.
///
/// Counts are counters since start (Prometheus computes rates itself). Latency percentiles are
/// gauges of the last interval in seconds, labelled `percentile` (`p50` … `p999`, `max`): they
/// are not a Prometheus summary, whose quantiles come with a cumulative sum this endpoint does
/// not keep. A node's tasks, memory and CPU are gauges labelled by the node.
enum PrometheusText {
  static func render(_ snapshot: NodeSnapshot) -> String {
    var families: [Family] = []
    func family(_ name: String, _ type: String, _ help: String) -> Int {
      families.append(Family(name: name, type: type, help: help))
      return families.count - 1
    }
    let requests = family("skein_requests_total", "counter", "Calls started, per route and side.")
    let successes = family("skein_successes_total", "counter", "Calls answered.")
    let errors = family("skein_errors_total", "counter", "Calls failed, by kind.")
    let inflight = family("skein_inflight", "gauge", "Calls running now.")
    let latency = family(
      "skein_call_latency_seconds",
      "gauge",
      "Call latency percentiles over the last interval."
    )
    for route in snapshot.routes {
      let labels: [(String, String)] = [
        (RouteDimensions.side, route.side.rawValue),
        (RouteDimensions.from, route.from),
        (RouteDimensions.fromCluster, route.fromCluster),
        (RouteDimensions.to, route.to),
        (RouteDimensions.toCluster, route.toCluster),
        (RouteDimensions.method, route.method),
      ]
      families[requests].add(labels, Double(route.requests))
      families[successes].add(labels, Double(route.successes))
      for (kind, count) in route.errors.sorted(by: { $0.key < $1.key }) {
        families[errors].add(labels + [(RouteDimensions.kind, kind)], Double(count))
      }
      families[inflight].add(labels, Double(route.inflight))
      let percentiles = route.latencyMilliseconds
      for (percentile, milliseconds) in [
        ("p50", percentiles.p50), ("p90", percentiles.p90), ("p99", percentiles.p99),
        ("p999", percentiles.p999), ("max", percentiles.max),
      ] {
        families[latency].add(labels + [("percentile", percentile)], milliseconds / 1000)
      }
    }
    let node = snapshot.node
    let nodeLabels = [
      ("service", node.service), ("cluster", node.cluster), ("instance", node.instance),
    ]
    families[family("skein_tasks", "gauge", "Tasks the node runs now.")].add(
      nodeLabels,
      Double(node.tasks)
    )
    families[family("skein_tasks_peak", "gauge", "Most tasks run at once since start.")].add(
      nodeLabels,
      Double(node.tasksPeak)
    )
    families[family("skein_resident_memory_bytes", "gauge", "Resident memory.")].add(
      nodeLabels,
      Double(node.rssBytes)
    )
    families[family("skein_cpu_percent", "gauge", "CPU over the last interval; 100 is one core.")]
      .add(nodeLabels, node.cpuPercent)
    return families.map(\.text).joined()
  }

  /// One metric family: its header and samples.
  struct Family {
    let name: String
    let type: String
    let help: String
    var samples: [String] = []

    mutating func add(_ labels: [(String, String)], _ value: Double) {
      let rendered = labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
      samples.append("\(name){\(rendered)} \(format(value))\n")
    }

    var text: String {
      guard !samples.isEmpty else { return "" }
      return "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" + samples.joined()
    }

    private func format(_ value: Double) -> String {
      if value.isNaN { return "NaN" }
      if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
      return String(value)
    }

    /// Label values escape backslash, double quote and line feed.
    private func escape(_ value: String) -> String {
      var escaped = ""
      for character in value {
        switch character {
        case "\\": escaped += "\\\\"
        case "\"": escaped += "\\\""
        case "\n": escaped += "\\n"
        default: escaped.append(character)
        }
      }
      return escaped
    }
  }
}
