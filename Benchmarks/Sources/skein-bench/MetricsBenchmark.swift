import ArgumentParser
import CoreMetrics
import Foundation
import SkeinDemoIDL
import SkeinMetrics
import SkeinRPC
import SkeinThrift

/// `skein-bench metrics`: what the metrics middleware adds to a call, and what a route costs
/// in memory.
struct MetricsBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "metrics",
    abstract: "Cost of the metrics middleware per call (with and without), and memory per route.",
    discussion: """
      Calls a trivial endpoint through a middleware chain with and without MetricsMiddleware \
      (reporting to Skein's aggregator), on one task and then on one task per core at once \
      (the same route, so any contention between cores shows). Best of 5 rounds.
      Target: under 200 ns per call added, on every core count.
      """
  )

  @Option(help: "Calls per round.")
  var calls = 2_000_000

  @Option(help: "Routes to create for the memory figure.")
  var routes = 100

  func run() async throws {
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let aggregator = MetricsAggregator()
    let bare = MiddlewareChain([])
    let measured = MiddlewareChain([
      MetricsMiddleware(side: .client, factory: aggregator, tasks: TaskGauge())
    ])
    // What any middleware costs by being one (a closure and an async frame): the floor.
    let passThrough = MiddlewareChain([PassThrough()])
    let context = CallContext(
      route: try FiveTuple(path: "/gateway/c1/example/c1/Visit"),
      logID: "bench",
      deadline: nil
    )
    print("Metrics middleware: \(calls) calls per round, best of 5 rounds, ns per call")
    print(
      "\(padded("tasks", 6))  \(padded("without", 9))  \(padded("empty mw", 9))  \(padded("with", 9))  \(padded("added", 9))"
    )
    var worst = 0.0
    for tasks in Set([1, cores]).sorted() {
      let without = try await Self.nanosecondsPerCall(bare, context, calls: calls, tasks: tasks)
      let empty = try await Self.nanosecondsPerCall(
        passThrough,
        context,
        calls: calls,
        tasks: tasks
      )
      let with = try await Self.nanosecondsPerCall(measured, context, calls: calls, tasks: tasks)
      worst = max(worst, with - without)
      print(
        "\(padded(String(tasks), 6))  \(padded(fixed(without), 9))  \(padded(fixed(empty), 9))  \(padded(fixed(with), 9))  \(padded(fixed(with - without), 9))"
      )
    }
    print(
      "target: added < 200 ns per call: \(worst < 200 ? "PASS" : "MISS") (worst \(fixed(worst)) ns)"
    )

    let routeAggregator = MetricsAggregator()
    let middleware = MetricsMiddleware(side: .client, factory: routeAggregator, tasks: TaskGauge())
    let chain = MiddlewareChain([middleware])
    for index in 0..<routes {
      let route = CallContext(
        route: try FiveTuple(path: "/gateway/c1/service\(index)/c1/Visit"),
        logID: "bench",
        deadline: nil
      )
      _ = try await chain.wrap(Self.endpoint)(
        route,
        ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: "x"))
      )
    }
    let bytes = routeAggregator.histogramBytes / routes
    print(
      "memory per route and side: \(bytes / 1024) KiB of latency histograms (\(cores * 2) shards, 2 significant digits, 1 us to 60 s)"
    )
  }

  static let endpoint = Endpoint<ExampleServiceMethods.Visit> { _, _ in
    ExampleServiceMethods.VisitResult(success: ExampleResponse(resp: "ok"))
  }

  /// Best-of-5 nanoseconds per call, each of `tasks` tasks making `calls` calls at once.
  static func nanosecondsPerCall(
    _ chain: MiddlewareChain,
    _ context: CallContext,
    calls: Int,
    tasks: Int
  ) async throws -> Double {
    let endpoint = chain.wrap(Self.endpoint)
    let args = ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: "x"))
    return try await nanosecondsPerIteration(iterations: calls) { count in
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
          group.addTask {
            for _ in 0..<count { blackHole(try await endpoint(context, args)) }
          }
        }
        try await group.waitForAll()
      }
    }
  }
}

/// A middleware that only calls on: what being in the chain costs.
private struct PassThrough: Middleware {
  func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    try await next(context, args)
  }
}
