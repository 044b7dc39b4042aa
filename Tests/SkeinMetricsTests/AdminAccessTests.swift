import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkeinHTTP
import SkeinMetrics
import SkeinRPC
import Testing

@Suite("Admin endpoint: who may read it", .timeLimit(.minutes(1)))
struct AdminAccessTests {
  static let secret = "admin-token-for-tests-0123456789"

  private func snapshotter() -> Snapshotter {
    Snapshotter(
      identity: .init(service: "gateway", cluster: "c1", instance: "g1", address: nil),
      aggregator: MetricsAggregator(),
      tasks: TaskGauge()
    )
  }

  private func get(_ address: String, _ path: String, authorization: String? = nil) async throws
    -> Int
  {
    var request = HTTPClientRequest(url: "http://\(address)\(path)")
    if let authorization { request.headers.add(name: "Authorization", value: authorization) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    _ = try await response.body.collect(upTo: 1 << 20)
    return Int(response.status.code)
  }

  @Test("it listens on loopback by default; another address needs allowNonLoopback and a token")
  func listeningBeyondLoopback() async throws {
    let local = try await AdminServer.bind(snapshotter: snapshotter())
    #expect(local.localAddress.host == "127.0.0.1")
    let refused = await #expect(throws: ListenRefused.self) {
      _ = try await AdminServer.bind(
        snapshotter: snapshotter(),
        configuration: .init(host: "0.0.0.0")
      )
    }
    #expect(refused?.message.contains("allowNonLoopback") == true)
    let noToken = await #expect(throws: ListenRefused.self) {
      _ = try await AdminServer.bind(
        snapshotter: snapshotter(),
        configuration: .init(host: "::", allowNonLoopback: true)
      )
    }
    #expect(noToken?.message.contains("without a token") == true)
  }

  @Test("with a token, every request needs it; without one, loopback readers need none")
  func tokenGuardsReads() async throws {
    let open = try await AdminServer.bind(snapshotter: snapshotter())
    let openTask = Task { try await open.run() }
    #expect(try await get("\(open.localAddress)", "/snapshot") == 200)

    let guarded = try await AdminServer.bind(
      snapshotter: snapshotter(),
      configuration: .init(
        host: "0.0.0.0",
        allowNonLoopback: true,
        token: AccessToken(Self.secret)
      )
    )
    let guardedTask = Task { try await guarded.run() }
    let address = "127.0.0.1:\(guarded.localAddress.port)"
    for path in ["/metrics", "/snapshot", "/stream"] {
      #expect(try await get(address, path) == 401, "\(path)")
      #expect(try await get(address, path, authorization: "Bearer wrong-\(Self.secret)") == 401)
    }
    #expect(try await get(address, "/metrics", authorization: "Bearer \(Self.secret)") == 200)
    #expect(try await get(address, "/snapshot", authorization: Self.secret) == 200)
    openTask.cancel()
    guardedTask.cancel()
  }
}
