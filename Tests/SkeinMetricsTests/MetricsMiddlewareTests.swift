import CoreMetrics
import Foundation
import SkeinDemoIDL
import SkeinMetrics
import SkeinRPC
import Testing

/// Answers `Visit` after a fixed delay; names starting with "fail" throw.
private struct FixedLatencyHandler: ExampleService {
  var delay: Duration

  func visit(req: ExampleRequest) async throws -> ExampleResponse {
    try await Task.sleep(for: delay)
    if req.name.hasPrefix("fail") { throw HandlerFailure() }
    return ExampleResponse(resp: "hello, " + req.name)
  }

  struct HandlerFailure: Error {}
}

@Suite("Metrics middleware on a real server and client", .timeLimit(.minutes(1)))
struct MetricsMiddlewareTests {
  /// Runs `calls` calls (the first `failures` fail) from gateway/c2 to example/c1 through a
  /// real server and client, both with the metrics middleware, all reporting to `aggregator`.
  private func driveKnownTraffic(
    calls: Int,
    failures: Int,
    aggregator: MetricsAggregator,
    gauge: TaskGauge
  ) async throws -> InstanceAddress {
    let example = try ServiceName("example")
    let server = try await RPCServer.bind(
      ExampleServiceProcessor(FixedLatencyHandler(delay: .milliseconds(20))),
      configuration: .init(
        port: 0,
        identity: ServiceIdentity(name: example, cluster: try Cluster("c1"))
      ),
      middleware: [MetricsMiddleware(side: .server, factory: aggregator, tasks: gauge)]
    )
    let serving = Task { try await server.run() }
    let client = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("gateway"), cluster: try Cluster("c2")),
        target: ServiceIdentity(name: example, cluster: try Cluster("c1")),
        instances: [server.localAddress],
        // The counts are the test, not the time: a loaded machine's stall must not turn
        // calls into timeouts.
        timeout: .seconds(10)
      ),
      middleware: [MetricsMiddleware(side: .client, factory: aggregator, tasks: gauge)]
    )
    let service = ExampleServiceClient(client)
    await withTaskGroup(of: Void.self) { group in
      for i in 0..<calls {
        group.addTask {
          _ = try? await service.visit(
            req: ExampleRequest(name: i < failures ? "fail\(i)" : "n\(i)")
          )
        }
      }
    }
    await client.shutdown()
    serving.cancel()
    return server.localAddress
  }

  @Test("N calls with K errors are counted exactly on both sides; percentiles match the delay")
  func countsKnownTraffic() async throws {
    let aggregator = MetricsAggregator()
    let gauge = TaskGauge()
    let (calls, failures) = (60, 7)
    _ = try await driveKnownTraffic(
      calls: calls,
      failures: failures,
      aggregator: aggregator,
      gauge: gauge
    )
    #expect(gauge.live == 0)
    #expect(gauge.peak >= 2, "calls ran concurrently on both sides")

    let reading = aggregator.collect()
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    for side in MetricsMiddleware.Side.allCases {
      func counter(_ label: String, _ extra: [(String, String)] = []) -> Int64? {
        reading.counters.first { key, _ in
          key.label == label
            && RouteDimensions.route(of: key).map { $0 == side && $1 == route } == true
            && extra.allSatisfy { key[$0.0] == $0.1 }
        }?.value
      }
      #expect(counter(MetricsMiddleware.Label.requests) == Int64(calls), "\(side)")
      #expect(counter(MetricsMiddleware.Label.successes) == Int64(calls - failures), "\(side)")
      #expect(
        counter(MetricsMiddleware.Label.errors, [(RouteDimensions.kind, "remote")])
          == Int64(failures),
        "\(side): a handler's error is a remote exception"
      )
      let latency = try #require(
        reading.latencies.first { key, _ in
          key.label == MetricsMiddleware.Label.duration
            && RouteDimensions.route(of: key).map { $0 == side && $1 == route } == true
        }?.value
      )
      #expect(latency.count == calls)
      // Every call slept 20 ms: no percentile can be below that (within 1% precision). How far
      // above depends on the machine's load, so it is not asserted here; the precision is,
      // in `percentilesWithinPrecision`.
      #expect(latency.p50 >= 20 * 0.99, "\(side) p50 \(latency.p50)")
      #expect(
        latency.max >= latency.p999 && latency.p999 >= latency.p99 && latency.p99 >= latency.p90
      )
    }
    // Timers restart per interval; counters count since start.
    let next = aggregator.collect()
    #expect(next.latencies.values.allSatisfy { $0.count == 0 })
    #expect(next.counters.values.reduce(0, +) == reading.counters.values.reduce(0, +))
  }

  @Test("a snapshot carries the route's counts, QPS, latencies and the node's tasks, as JSON")
  func snapshot() async throws {
    let aggregator = MetricsAggregator()
    let gauge = TaskGauge()
    let snapshotter = Snapshotter(
      identity: .init(service: "gateway", cluster: "c2", instance: "g1", address: nil),
      aggregator: aggregator,
      tasks: gauge,
      governance: { route, side in
        side == .client
          ? RouteGovernance(breaker: "closed", degraded: false, traffic: ["c1": 100]) : nil
      }
    )
    _ = try await driveKnownTraffic(calls: 40, failures: 4, aggregator: aggregator, gauge: gauge)
    let snapshot = snapshotter.take()
    #expect(snapshot.schema == NodeSnapshot.currentSchema)
    #expect(snapshot.node.tasks == 0 && snapshot.node.tasksPeak >= 2)
    #expect(snapshot.node.rssBytes > 1_000_000)
    try #require(snapshot.routes.map(\.side) == [.client, .server])
    for stats in snapshot.routes {
      #expect(stats.route == (try FiveTuple(path: "/gateway/c2/example/c1/Visit")))
      #expect(stats.requests == 40 && stats.successes == 36 && stats.errors == ["remote": 4])
      #expect(stats.inflight == 0)
      #expect(stats.qps > 0)
      #expect(stats.latencyMilliseconds.p50 >= 19.8)
    }
    #expect(snapshot.routes[0].breaker == "closed" && snapshot.routes[0].traffic == ["c1": 100])
    #expect(snapshot.routes[1].breaker == nil)

    let json =
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(snapshot)) as? [String: Any]
    let route = try #require((json?["routes"] as? [[String: Any]])?.first)
    for key in [
      "from", "fromCluster", "to", "toCluster", "method", "requests", "successes", "errors", "qps",
      "latency_ms", "inflight", "breaker", "degraded", "traffic",
    ] {
      #expect(route[key] != nil, "route JSON has \(key)")
    }
    #expect(
      Set((route["latency_ms"] as? [String: Any])?.keys ?? [:].keys) == [
        "p50", "p90", "p99", "p999", "max",
      ]
    )
    let node = try #require(json?["node"] as? [String: Any])
    for key in [
      "service", "cluster", "instance", "tasks", "tasksPeak", "rssBytes", "cpuPercent", "up",
    ] {
      #expect(node[key] != nil, "node JSON has \(key)")
    }
    // The next interval has no new calls: QPS 0, latencies empty, counts kept.
    let quiet = snapshotter.take()
    #expect(
      quiet.routes.allSatisfy {
        $0.qps == 0 && $0.latencyMilliseconds.max == 0 && $0.requests == 40
      }
    )
  }

  /// Makes `calls` calls of `route` through `middleware`, the first `failures` failing with
  /// errors of several kinds, each call taking about a millisecond.
  private func call(
    through middleware: MetricsMiddleware,
    route: FiveTuple,
    calls: Int,
    failures: Int
  ) async throws {
    let failed: [any Error] = [
      RPCError(.connectFailed, "refused"), DeadlineExceeded(overdue: .milliseconds(1)),
      CancellationError(),
    ]
    let endpoint = MiddlewareChain([middleware])
      .wrap(
        Endpoint<ExampleServiceMethods.Visit> { _, args in
          try await Task.sleep(for: .milliseconds(1))
          if let index = Int(args.req?.name ?? ""), index < failures {
            throw failed[index % failed.count]
          }
          return ExampleServiceMethods.VisitResult(success: ExampleResponse(resp: "ok"))
        }
      )
    let context = CallContext(route: route, logID: "test")
    for index in 0..<calls {
      _ = try? await endpoint(
        context,
        ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: String(index)))
      )
    }
  }

  @Test("through another factory the middleware reads the same as straight into the aggregator")
  func genericFactoryCountsTheSame() async throws {
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    let direct = MetricsAggregator()
    let wrapped = MetricsAggregator()
    // A multiplexing factory is not the aggregator: the middleware takes the generic path.
    let multiplexed = MultiplexMetricsHandler(factories: [wrapped])
    for (factory, aggregator) in [(direct as any MetricsFactory, direct), (multiplexed, wrapped)] {
      let middleware = MetricsMiddleware(side: .client, factory: factory, tasks: TaskGauge())
      try await call(through: middleware, route: route, calls: 40, failures: 7)
      #expect(aggregator.collect().counters.count == 5, "requests, successes, three error kinds")
    }
    // Read again: both intervals are empty, both counts the same.
    let (fast, generic) = (direct.collect(), wrapped.collect())
    #expect(fast.counters == generic.counters)
    let total: Int64 = fast.counters.values.reduce(0, +)
    #expect(total == 40 + 33 + 7)
    let timeouts = fast.counters.first { key, _ in
      key.label == MetricsMiddleware.Label.errors && key[RouteDimensions.kind] == "timeout"
    }
    #expect(timeouts?.value == 2)
    #expect(fast.latencies == generic.latencies)
    #expect(fast.latencies.count == 1 && fast.latencies.values.allSatisfy { $0.count == 0 })
  }

  @Test("a route's latencies are kept as any timer's: the same values read the same")
  func routeLatenciesMatchTimer() async throws {
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    let aggregator = MetricsAggregator(configuration: .init(highestLatency: .seconds(2)))
    let middleware = MetricsMiddleware(side: .server, factory: aggregator, tasks: TaskGauge())
    try await call(through: middleware, route: route, calls: 20, failures: 0)
    let first = aggregator.collect()
    let key = try #require(first.latencies.keys.first)
    #expect(first.latencies[key].map { $0.count == 20 && $0.p50 >= 1 } == true)
    // A Timer named like the route's duration records into the route; one of another name
    // is a timer of its own. The same latencies must summarize the same in both.
    let routeTimer = CoreMetrics.Timer(
      label: key.label,
      dimensions: key.dimensions.map { ($0.name, $0.value) },
      factory: aggregator
    )
    let plainTimer = CoreMetrics.Timer(label: "reference", factory: aggregator)
    for ms in (1...1000).shuffled() + [5000] {
      routeTimer.recordNanoseconds(Int64(ms) * 1_000_000)
      plainTimer.recordNanoseconds(Int64(ms) * 1_000_000)
    }
    let reading = aggregator.collect()
    #expect(reading.latencies[key]?.count == 1001)
    #expect(reading.latencies[key] == reading.latencies[MetricKey("reference", [])])
  }

  @Test("a swift-metrics Counter named like the middleware's adds to the same count")
  func handlesShareTheMiddlewaresCounts() async throws {
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    let aggregator = MetricsAggregator()
    let middleware = MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())
    let dimensions = [
      (RouteDimensions.side, "client"), (RouteDimensions.from, "gateway"),
      (RouteDimensions.fromCluster, "c2"), (RouteDimensions.to, "example"),
      (RouteDimensions.toCluster, "c1"), (RouteDimensions.method, "Visit"),
    ]
    // Made before the middleware's first call, and after: both share the route's counts.
    let before = Counter(
      label: MetricsMiddleware.Label.requests,
      dimensions: dimensions,
      factory: aggregator
    )
    before.increment(by: 100)
    try await call(through: middleware, route: route, calls: 10, failures: 1)
    let after = Counter(
      label: MetricsMiddleware.Label.errors,
      dimensions: dimensions + [(RouteDimensions.kind, "connect_failed")],
      factory: aggregator
    )
    after.increment(by: 2)
    let unused = Counter(
      label: MetricsMiddleware.Label.errors,
      dimensions: dimensions + [(RouteDimensions.kind, "denied")],
      factory: aggregator
    )
    _ = unused
    let reading = aggregator.collect()
    #expect(reading.counters[MetricKey(MetricsMiddleware.Label.requests, dimensions)] == 110)
    #expect(reading.counters[MetricKey(MetricsMiddleware.Label.successes, dimensions)] == 9)
    let errors = { kind in
      reading.counters[
        MetricKey(MetricsMiddleware.Label.errors, dimensions + [(RouteDimensions.kind, kind)])
      ]
    }
    #expect(errors("connect_failed") == 3)
    #expect(errors("denied") == 0)
  }

  @Test("a route whose metric name another kind took is still counted, through swift-metrics")
  func routeNameClashFallsBack() async throws {
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    let aggregator = MetricsAggregator()
    let dimensions = [
      (RouteDimensions.side, "client"), (RouteDimensions.from, "gateway"),
      (RouteDimensions.fromCluster, "c2"), (RouteDimensions.to, "example"),
      (RouteDimensions.toCluster, "c1"), (RouteDimensions.method, "Visit"),
    ]
    let clash = CoreMetrics.Timer(
      label: MetricsMiddleware.Label.requests,
      dimensions: dimensions,
      factory: aggregator
    )
    _ = clash
    let middleware = MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())
    try await call(through: middleware, route: route, calls: 6, failures: 2)
    let reading = aggregator.collect()
    #expect(reading.counters[MetricKey(MetricsMiddleware.Label.successes, dimensions)] == 4)
    #expect(reading.latencies[MetricKey(MetricsMiddleware.Label.duration, dimensions)]?.count == 6)
    #expect(reading.counters[MetricKey(MetricsMiddleware.Label.requests, dimensions)] == nil)
  }

  @Test("a route's latencies take the configured shards' worth of memory")
  func routeMemoryFollowsShards() async throws {
    let route = try FiveTuple(path: "/gateway/c2/example/c1/Visit")
    var bytes: [Int] = []
    for shards in [1, 4] {
      let aggregator = MetricsAggregator(configuration: .init(shards: shards))
      let middleware = MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())
      try await call(through: middleware, route: route, calls: 1, failures: 0)
      bytes.append(aggregator.histogramBytes)
    }
    #expect(bytes[0] > 1000 && bytes[0] < 16 * 1024, "one histogram of 2 digits: about 11 KB")
    // Four shards, four histograms: to within 1% (a histogram's storage varies by a few bytes).
    #expect(abs(bytes[1] - 4 * bytes[0]) <= bytes[0] / 100, "\(bytes)")
  }

  @Test("the task gauge counts tasks entered and left on many threads; its peak sees a climb")
  func taskGaugeAcrossThreads() async {
    let gauge = TaskGauge()
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<8 {
        group.addTask {
          for _ in 0..<1000 { await gauge.track { await Task.yield() } }
        }
      }
    }
    #expect(gauge.live == 0)
    #expect(gauge.peak >= 1 && gauge.peak <= 8)
    for _ in 0..<5 { gauge.enter() }
    #expect(gauge.live == 5 && gauge.peak >= 5)
    for _ in 0..<5 { gauge.leave() }
    #expect(gauge.live == 0 && gauge.peak >= 5)
  }

  @Test("the same label and dimensions are one metric; a kind clash is not a crash")
  func sharedMetrics() {
    let aggregator = MetricsAggregator()
    let a = Counter(label: "x", dimensions: [("k", "v")], factory: aggregator)
    let b = Counter(label: "x", dimensions: [("k", "v")], factory: aggregator)
    a.increment(by: 2)
    b.increment(by: 3)
    let clash = CoreMetrics.Timer(label: "x", dimensions: [("k", "v")], factory: aggregator)
    clash.recordNanoseconds(1000)
    let reading = aggregator.collect()
    #expect(reading.counters[MetricKey("x", [("k", "v")])] == 5)
    #expect(reading.latencies.isEmpty)
  }

  @Test("percentiles of known latencies are exact within the histogram's 1% precision")
  func percentilesWithinPrecision() {
    let aggregator = MetricsAggregator()
    let timer = CoreMetrics.Timer(label: "t", factory: aggregator)
    // 1 ms, 2 ms, … 1000 ms, shuffled: the n-th percentile is n × 10 ms.
    for ms in (1...1000).shuffled() { timer.recordNanoseconds(Int64(ms) * 1_000_000) }
    let summary = aggregator.collect().latencies[MetricKey("t", [])]
    #expect(summary?.count == 1000)
    for (measured, exact) in [
      (summary?.p50, 500.0), (summary?.p90, 900.0), (summary?.p99, 990.0), (summary?.p999, 999.0),
      (summary?.max, 1000.0),
    ] {
      let value = measured ?? 0
      #expect(value >= exact && value <= exact * 1.01, "\(value) for \(exact)")
    }
  }

  @Test("latencies beyond the histogram's range count as its highest value")
  func clampsLongLatencies() {
    let aggregator = MetricsAggregator(configuration: .init(highestLatency: .seconds(1)))
    let timer = CoreMetrics.Timer(label: "t", factory: aggregator)
    timer.recordNanoseconds(5_000_000_000)
    timer.recordNanoseconds(-1)
    let summary = aggregator.collect().latencies[MetricKey("t", [])]
    #expect(summary?.count == 2)
    #expect(
      summary.map { $0.max >= 999 && $0.max <= 1011 } == true,
      "\(String(describing: summary))"
    )
  }
}
