import AsyncHTTPClient
import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import SkeinMetrics
import SkeinRPC
import SkeinTestSupport
import Testing

/// Prometheus' own checker (Debian's `prometheus` package).
private let promtool = IntegrationPeer(
  name: "promtool (prometheus)",
  needs: [("promtool", [], nil)]
)

@Suite("Admin endpoint: /metrics, /snapshot, /stream", .timeLimit(.minutes(1)))
struct AdminServerTests {
  /// An admin endpoint over an aggregator that already counted 5 calls (1 failed) on one route,
  /// whose method name came off the wire with a quote in it.
  private func startAdmin(interval: Duration = .milliseconds(100)) async throws -> (
    AdminServer, Task<Void, any Error>
  ) {
    let aggregator = MetricsAggregator()
    let dimensions: [(String, String)] = [
      ("side", "client"), ("from", "gateway"), ("from_cluster", "c1"), ("to", "feed"),
      ("to_cluster", "c2"), ("method", "Get\"x"),
    ]
    Counter(label: MetricsMiddleware.Label.requests, dimensions: dimensions, factory: aggregator)
      .increment(by: 5)
    Counter(label: MetricsMiddleware.Label.successes, dimensions: dimensions, factory: aggregator)
      .increment(by: 4)
    Counter(
      label: MetricsMiddleware.Label.errors,
      dimensions: dimensions + [("kind", "timeout")],
      factory: aggregator
    ).increment(by: 1)
    let timer = CoreMetrics.Timer(
      label: MetricsMiddleware.Label.duration,
      dimensions: dimensions,
      factory: aggregator
    )
    for ms in [1, 2, 3, 4, 50] { timer.recordNanoseconds(Int64(ms) * 1_000_000) }
    let snapshotter = Snapshotter(
      identity: .init(service: "gateway", cluster: "c1", instance: "g1", address: nil),
      aggregator: aggregator,
      tasks: TaskGauge()
    )
    let admin = try await AdminServer.bind(
      snapshotter: snapshotter,
      configuration: .init(interval: interval)
    )
    return (admin, Task { try await admin.run() })
  }

  private func get(_ admin: AdminServer, _ path: String) async throws -> (Int, String) {
    let response = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: "http://\(admin.localAddress)\(path)"),
      timeout: .seconds(5)
    )
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: body))
  }

  @Test("/snapshot is the node's JSON snapshot with its routes")
  func snapshot() async throws {
    let (admin, serving) = try await startAdmin(interval: .seconds(60))
    defer { serving.cancel() }
    let (status, body) = try await get(admin, "/snapshot")
    #expect(status == 200)
    let snapshot = try JSONDecoder().decode(NodeSnapshot.self, from: Data(body.utf8))
    #expect(snapshot.schema == 1 && snapshot.node.instance == "g1")
    let route = try #require(snapshot.routes.first)
    #expect(route.requests == 5 && route.successes == 4 && route.errors == ["timeout": 1])
    #expect(route.latencyMilliseconds.max >= 50 && route.latencyMilliseconds.max < 50.6)
  }

  @Test("/metrics is Prometheus text with escaped labels, accepted by promtool")
  func prometheus() async throws {
    let (admin, serving) = try await startAdmin(interval: .seconds(60))
    defer { serving.cancel() }
    let (status, body) = try await get(admin, "/metrics")
    #expect(status == 200)
    #expect(body.contains("# TYPE skein_requests_total counter\n"))
    #expect(
      body.contains(
        #"skein_requests_total{side="client",from="gateway",from_cluster="c1",to="feed",to_cluster="c2",method="Get\"x"} 5"#
      )
    )
    #expect(body.contains(#"kind="timeout"} 1"#))
    #expect(body.contains("skein_tasks{service=\"gateway\",cluster=\"c1\",instance=\"g1\"} 0"))
    if promtool.shouldRun {
      let file = FileManager.default.temporaryDirectory.appendingPathComponent(
        "skein-\(UUID()).prom"
      )
      try Data(body.utf8).write(to: file)
      defer { try? FileManager.default.removeItem(at: file) }
      // promtool reads the exposition on stdin.
      let checked = try await ProcessResult.run(
        "/bin/sh",
        ["-c", "\"$0\" check metrics < \"$1\"", try promtool.executable("promtool"), file.path]
      )
      #expect(checked.status == 0, "promtool: \(checked.output) \(checked.errorOutput)")
    } else {
      print("skipping promtool check: \(promtool.skipReason)")
    }
  }

  @Test("/stream sends one snapshot per interval, newline-delimited")
  func stream() async throws {
    let (admin, serving) = try await startAdmin(interval: .milliseconds(100))
    defer { serving.cancel() }
    let response = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: "http://\(admin.localAddress)/stream"),
      timeout: .seconds(5)
    )
    #expect(response.headers.first(name: "Content-Type") == "application/x-ndjson")
    var buffered = ""
    var snapshots: [NodeSnapshot] = []
    let started = ContinuousClock.now
    for try await chunk in response.body {
      buffered += String(buffer: chunk)
      while let newline = buffered.firstIndex(of: "\n") {
        snapshots.append(
          try JSONDecoder().decode(NodeSnapshot.self, from: Data(buffered[..<newline].utf8))
        )
        buffered = String(buffered[buffered.index(after: newline)...])
      }
      if snapshots.count >= 3 { break }
    }
    #expect(snapshots.count >= 3)
    #expect(ContinuousClock.now - started < .seconds(2), "100 ms apart, not 1 s")
    // Counts carry over; the latencies were the first interval's only.
    #expect(snapshots.last?.routes.first?.requests == 5)
    #expect(snapshots.last?.routes.first?.latencyMilliseconds.max == 0)
  }

  @Test("/stream?format=thrift sends framed Thrift snapshots that equal the JSON ones")
  func thriftStream() async throws {
    let (admin, serving) = try await startAdmin(interval: .milliseconds(100))
    defer { serving.cancel() }
    let response = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: "http://\(admin.localAddress)/stream?format=thrift"),
      timeout: .seconds(5)
    )
    #expect(response.headers.first(name: "Content-Type") == StreamFormat.thrift.contentType)
    var pending = ByteBuffer()
    var snapshots: [NodeSnapshot] = []
    for try await chunk in response.body {
      pending.writeImmutableBuffer(chunk)
      while let snapshot = try MeshStatsClient.nextFrame(&pending) { snapshots.append(snapshot) }
      if snapshots.count >= 2 { break }
    }
    let last = try #require(snapshots.last)
    #expect(last.node.service == "gateway" && last.routes.first?.requests == 5)
    // The same snapshot through JSON and through Thrift reads the same.
    let json = try JSONDecoder().decode(
      NodeSnapshot.self,
      from: try StreamFormat.json.encode(last)
    )
    var frame = ByteBuffer(bytes: try StreamFormat.thrift.encode(json))
    #expect(try MeshStatsClient.nextFrame(&frame) == json)
    let bad = try await HTTPClient.shared.execute(
      HTTPClientRequest(url: "http://\(admin.localAddress)/stream?format=xml"),
      timeout: .seconds(5)
    )
    #expect(bad.status == .badRequest)
  }

  @Test("unknown paths and methods get a clear error")
  func badRequests() async throws {
    let (admin, serving) = try await startAdmin(interval: .seconds(60))
    defer { serving.cancel() }
    let (status, body) = try await get(admin, "/nope")
    #expect(status == 404 && body.contains("/metrics, /snapshot and /stream"))
  }
}
