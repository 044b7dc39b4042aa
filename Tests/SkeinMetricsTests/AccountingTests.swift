import Foundation
import SkeinDemoIDL
import SkeinGovernance
import SkeinMetrics
import SkeinRPC
import Testing

/// Answers after a delay long enough to miss the caller's timeout, or at once for "fast" names.
private struct SlowHandler: ExampleService {
  func visit(req: ExampleRequest) async throws -> ExampleResponse {
    if !req.name.hasPrefix("fast") { try await Task.sleep(for: .milliseconds(300)) }
    return ExampleResponse(resp: req.name)
  }
}

@Suite("Nothing lost, nothing counted twice", .timeLimit(.minutes(1)))
struct AccountingTests {
  @Test("successes + errors = calls made, with calls cut short by timeouts and a route breaker")
  func everyCallCountedOnce() async throws {
    let aggregator = MetricsAggregator()
    let example = try ServiceName("example")
    let server = try await RPCServer.bind(
      ExampleServiceProcessor(SlowHandler()),
      configuration: .init(port: 0, identity: ServiceIdentity(name: example))
    )
    let serving = Task { try await server.run() }
    defer { serving.cancel() }
    // The route breaker opens after 5 calls at a 50% failure rate and stays open.
    let breaker = BreakerMiddleware(configuration: { _ in
      BreakerConfiguration(minimumCalls: 5, failureRate: 0.5, coolDown: .seconds(60))
    })
    let client = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("gateway")),
        target: ServiceIdentity(name: example),
        instances: [server.localAddress],
        timeout: .milliseconds(50)
      ),
      middleware: [
        MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge()), breaker,
      ]
    )
    let service = ExampleServiceClient(client)
    var outcomes: [String: Int64] = [:]
    let calls = 40
    for index in 0..<calls {
      let name = index % 4 == 0 ? "fast\(index)" : "slow\(index)"
      do {
        _ = try await service.visit(req: ExampleRequest(name: name))
        outcomes["success", default: 0] += 1
      } catch let error as RPCError {
        outcomes[error.code.name, default: 0] += 1
      }
    }
    await client.shutdown()
    #expect((outcomes["timeout"] ?? 0) > 0 && (outcomes["breaker_open"] ?? 0) > 0, "\(outcomes)")
    let snapshot = Snapshotter(
      identity: .init(service: "gateway", cluster: "default", instance: "0", address: nil),
      aggregator: aggregator
    ).take()
    let route = try #require(snapshot.routes.first { $0.side == .client })
    #expect(route.requests == Int64(calls))
    #expect(route.successes + route.errorCount == Int64(calls), "every call ended counted once")
    #expect(route.successes == outcomes["success"] ?? 0)
    for (kind, count) in outcomes where kind != "success" {
      #expect(route.errors[kind] == count, "\(kind)")
    }
    #expect(route.inflight == 0)
  }
}
