import Foundation

/// The results of `skein-bench echo`: a table per concurrency level, then Skein's ratios to
/// the other servers against the project's targets, or all of it as one JSON object.
struct EchoReport {
  /// Bytes of `Name` per call.
  var payload: Int
  /// Seconds of each timed window.
  var seconds: Double
  /// Seconds of warm-up before each.
  var warmup: Double
  /// Timed runs per server and level.
  var rounds: Int
  /// Most connections per run.
  var maxConnections: Int
  /// The concurrency levels, in the order run.
  var levels: [Int]
  /// One per selected server, in the order selected.
  var outcomes: [ServerOutcome]
  /// How the servers and the client were configured.
  var notes: [String]

  /// One target of the project and how this run compares with it.
  struct Verdict {
    /// What is compared, e.g. "Skein/thrift-cpp QPS".
    var name: String
    /// The concurrency level it was read at.
    var concurrency: Int
    /// The measured value, if both sides were measured.
    var value: Double?
    /// The target, as text.
    var target: String
    /// PASS, MISS, or n/a with the reason.
    var status: String
  }

  /// The outcome of `server`, if it was selected.
  private func outcome(_ server: EchoServer) -> ServerOutcome? {
    outcomes.first { $0.server == server }
  }

  /// Why `server` has no figures at `level`, or nil when it has.
  private func missing(_ server: EchoServer, at level: Int) -> String? {
    guard let outcome = outcome(server) else { return "\(server.rawValue) not selected" }
    if outcome.unavailable != nil { return "\(server.rawValue) not available" }
    if outcome.run(at: level) == nil { return "\(server.rawValue) run failed" }
    return nil
  }

  /// Skein's QPS ratios (thrift-cpp ≥ 1.0, grpc ≥ 1.5, nio ≥ 0.8) at each level, and its p99
  /// below 1 ms at concurrency 64.
  func verdicts() -> [Verdict] {
    var verdicts: [Verdict] = []
    let ratios: [(EchoServer, Double)] = [(.thriftCpp, 1.0), (.grpc, 1.5), (.nio, 0.8)]
    for (other, target) in ratios {
      for level in levels {
        let name = "Skein/\(other.rawValue) QPS"
        let text = ">= \(fixed(target, 1))"
        if let reason = missing(.skein, at: level) ?? missing(other, at: level) {
          verdicts.append(
            Verdict(
              name: name,
              concurrency: level,
              value: nil,
              target: text,
              status: "n/a: \(reason)"
            )
          )
          continue
        }
        let skein = outcome(.skein)!.run(at: level)!.qps
        let peer = outcome(other)!.run(at: level)!.qps
        let ratio = peer > 0 ? skein / peer : 0
        verdicts.append(
          Verdict(
            name: name,
            concurrency: level,
            value: ratio,
            target: text,
            status: ratio >= target ? "PASS" : "MISS"
          )
        )
      }
    }
    let name = "Skein p99 ms"
    if !levels.contains(64) {
      verdicts.append(
        Verdict(name: name, concurrency: 64, value: nil, target: "< 1.0", status: "n/a: 64 not run")
      )
    } else if let reason = missing(.skein, at: 64) {
      verdicts.append(
        Verdict(name: name, concurrency: 64, value: nil, target: "< 1.0", status: "n/a: \(reason)")
      )
    } else {
      let p99 = Double(outcome(.skein)!.run(at: 64)!.latency!.p99) / 1e6
      verdicts.append(
        Verdict(
          name: name,
          concurrency: 64,
          value: p99,
          target: "< 1.0",
          status: p99 < 1.0 ? "PASS" : "MISS"
        )
      )
    }
    return verdicts
  }

  /// Prints the tables and the ratios.
  func printTables() {
    print(
      "Echo: ExampleService.Visit, \(payload)-byte Name, closed loop, \(fixed(seconds)) s timed "
        + "after \(fixed(warmup)) s warm-up, \(ProcessInfo.processInfo.activeProcessorCount) cores"
    )
    if rounds > 1 { print("  \(rounds) rounds per server and level; rows show the median by QPS") }
    print("  CPU% is of one core; other CPU% is what the rest of the machine used meanwhile")
    print("  srv µs/call is the server's CPU time per call: its cost, however fast the load went")
    for note in notes { print("  " + note) }
    for level in levels {
      let connections = min(level, maxConnections)
      let perConnection =
        level % connections == 0
        ? "\(level / connections)" : "\(level / connections)-\(level / connections + 1)"
      print("")
      print(
        "Concurrency \(level): \(connections) connection(s), \(perConnection) call(s) in flight each"
      )
      print(
        "server".padding(toLength: 19, withPad: " ", startingAt: 0)
          + padded("QPS", 9) + padded("p50 ms", 9) + padded("p99 ms", 9) + padded("p999 ms", 9)
          + padded("srv CPU%", 10) + padded("srv µs/call", 12) + padded("srv RSS MiB", 12)
          + padded("cli CPU%", 10)
          + padded("other CPU%", 11) + padded("errors", 8)
      )
      for outcome in outcomes {
        let label = outcome.server.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0)
        if let reason = outcome.unavailable {
          print(label + "not available: " + reason)
          continue
        }
        guard let run = outcome.run(at: level) else {
          let failure = outcome.runs.last { $0.concurrency == level }?.firstError
          print(label + "failed: " + (failure ?? outcome.stopped ?? "not run"))
          continue
        }
        let latency = run.latency!
        func milliseconds(_ nanoseconds: UInt64) -> String {
          padded(String(format: "%.3f", Double(nanoseconds) / 1e6), 9)
        }
        print(
          label + padded(fixed(run.qps, 0), 9) + milliseconds(latency.p50)
            + milliseconds(latency.p99) + milliseconds(latency.p999)
            + padded(run.serverCPU.map { fixed($0, 1) } ?? "?", 10)
            + padded(run.serverMicrosecondsPerCall.map { fixed($0, 2) } ?? "?", 12)
            + padded(run.serverRSSKiB.map { fixed(Double($0) / 1024, 1) } ?? "?", 12)
            + padded(run.clientCPU.map { fixed($0, 1) } ?? "?", 10)
            + padded(run.otherCPU.map { fixed($0, 1) } ?? "?", 11)
            + padded(String(run.errors), 8)
        )
        if rounds > 1 {
          let all = outcome.rounds(at: level).map { fixed($0.qps, 0) }.joined(separator: ", ")
          print("    QPS of the rounds: \(all)")
        }
        if run.overtaking > 0 {
          print("    replies out of call order on a connection: \(run.overtaking)")
        }
        if let error = run.firstError { print("    first error: \(error)") }
      }
    }
    print("")
    print("Targets")
    for verdict in verdicts() {
      let value = verdict.value.map { String(format: "%.2f", $0) } ?? "-"
      print(
        "  "
          + "\(verdict.name) at concurrency \(verdict.concurrency)"
          .padding(toLength: 44, withPad: " ", startingAt: 0)
          + padded(value, 7) + "   target "
          + verdict.target.padding(
            toLength: 7,
            withPad: " ",
            startingAt: 0
          ) + "  " + verdict.status
      )
    }
  }

  /// Everything as one JSON object.
  func json() throws -> String {
    var servers: [String: Any] = [:]
    for outcome in outcomes {
      var entry: [String: Any] = ["available": outcome.unavailable == nil]
      if let reason = outcome.unavailable { entry["reason"] = reason }
      if let command = outcome.command { entry["command"] = command }
      if let stopped = outcome.stopped { entry["stopped"] = stopped }
      entry["runs"] = levels.compactMap { level -> [String: Any]? in
        guard
          let run = outcome.run(at: level) ?? outcome.runs.last(where: { $0.concurrency == level })
        else { return nil }
        var object: [String: Any] = [
          "concurrency": run.concurrency,
          "connections": run.connections,
          "errors": run.errors,
          "replies_out_of_order": run.overtaking,
          "rounds_qps": outcome.rounds(at: level).map(\.qps),
        ]
        if let latency = run.latency {
          object["qps"] = run.qps
          object["calls"] = latency.count
          object["window_seconds"] = run.windowSeconds
          object["p50_ms"] = Double(latency.p50) / 1e6
          object["p99_ms"] = Double(latency.p99) / 1e6
          object["p999_ms"] = Double(latency.p999) / 1e6
          object["max_ms"] = Double(latency.max) / 1e6
          object["mean_ms"] = latency.mean / 1e6
        }
        if let error = run.firstError { object["first_error"] = error }
        if let cpu = run.serverCPU { object["server_cpu_percent"] = cpu }
        if let perCall = run.serverMicrosecondsPerCall {
          object["server_cpu_us_per_call"] = perCall
        }
        if let rss = run.serverRSSKiB { object["server_rss_kib"] = rss }
        if let cpu = run.clientCPU { object["client_cpu_percent"] = cpu }
        if let cpu = run.otherCPU { object["other_cpu_percent"] = cpu }
        return object
      }
      servers[outcome.server.rawValue] = entry
    }
    let targets = verdicts().map { verdict -> [String: Any] in
      var object: [String: Any] = [
        "name": verdict.name,
        "concurrency": verdict.concurrency,
        "target": verdict.target,
        "status": verdict.status,
      ]
      if let value = verdict.value { object["value"] = value }
      return object
    }
    let object: [String: Any] = [
      "payload_bytes": payload,
      "seconds": seconds,
      "warmup_seconds": warmup,
      "rounds": rounds,
      "max_connections": maxConnections,
      "concurrency": levels,
      "cores": ProcessInfo.processInfo.activeProcessorCount,
      "notes": notes,
      "servers": servers,
      "targets": targets,
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }
}
