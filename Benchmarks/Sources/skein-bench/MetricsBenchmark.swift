import ArgumentParser
import CoreMetrics
import Foundation
import SkeinDemoIDL
import SkeinMetrics
import SkeinRPC
import SkeinThrift

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `skein-bench metrics`: what the metrics middleware adds to a call, and what a route costs
/// in memory.
struct MetricsBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "metrics",
    abstract: "Cost of the metrics middleware per call (with and without), and memory per route.",
    discussion: """
      Calls a trivial endpoint through a middleware chain with and without MetricsMiddleware \
      (reporting to Skein's aggregator), on one task and then on one task per core at once \
      (the same route, so any contention between cores shows), then calls that fail with a \
      handler's own error (the server side's error path). Each round measures every chain in \
      turn, so a busy neighbour slows all of them alike; best of the rounds. "added cpu" is the \
      same difference in the process's CPU time per call, which a neighbour taking a core does \
      not inflate but contention between cores does.
      Target: under 200 ns per call added, on every core count.
      """
  )

  @Option(help: "Calls per round.")
  var calls = 2_000_000

  @Option(help: "Rounds; each chain's best round counts.")
  var rounds = 5

  @Option(help: "Routes to create for the memory figure.")
  var routes = 100

  func run() async throws {
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let aggregator = MetricsAggregator()
    let chains = [
      MiddlewareChain([]),
      // What any middleware costs by being one (a closure and an async frame): the floor.
      MiddlewareChain([PassThrough()]),
      MiddlewareChain([MetricsMiddleware(side: .server, factory: aggregator, tasks: TaskGauge())]),
    ]
    let context = CallContext(
      route: try FiveTuple(path: "/gateway/c1/example/c1/Visit"),
      logID: "bench",
      deadline: nil
    )
    print("Metrics middleware: \(calls) calls per round, best of \(rounds) rounds, ns per call")
    print(
      "\(padded("tasks", 6))  \(padded("without", 9))  \(padded("empty mw", 9))  \(padded("with", 9))  \(padded("added", 9))  \(padded("added cpu", 9))"
    )
    var worst = 0.0
    let cases =
      Set([1, cores]).sorted().map { ($0, Self.answering, String($0)) } + [
        (1, Self.failing, "1 fail")
      ]
    for (tasks, endpoint, name) in cases {
      let best = try await Self.bestNanosecondsPerCall(
        chains.map { $0.wrap(endpoint) },
        context,
        calls: calls,
        tasks: tasks,
        rounds: rounds
      )
      let (without, empty, with) = (best.wall[0], best.wall[1], best.wall[2])
      let addedCPU = best.cpu[2] - best.cpu[0]
      worst = max(worst, with - without)
      print(
        "\(padded(name, 6))  \(padded(fixed(without), 9))  \(padded(fixed(empty), 9))  \(padded(fixed(with), 9))  \(padded(fixed(with - without), 9))  \(padded(fixed(addedCPU), 9))"
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
      _ = try await chain.wrap(Self.answering)(
        route,
        ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: "x"))
      )
    }
    let bytes = routeAggregator.histogramBytes / routes
    print(
      "memory per route and side: \(bytes / 1024) KiB of latency histograms (\(cores * 2) shards, 2 significant digits, 1 us to 60 s)"
    )
  }

  static let answering = Endpoint<ExampleServiceMethods.Visit> { _, _ in
    ExampleServiceMethods.VisitResult(success: ExampleResponse(resp: "ok"))
  }

  /// Fails as a handler does, with an error of its own: the middleware's slowest
  /// classification (none of the known kinds).
  static let failing = Endpoint<ExampleServiceMethods.Visit> { _, _ in
    throw HandlerFailure()
  }

  private struct HandlerFailure: Error {}

  /// Each endpoint's best nanoseconds per call over `rounds` rounds, each of `tasks` tasks
  /// making `calls` calls at once, in wall-clock time per task and in the process's CPU time
  /// per call; a round measures every endpoint in turn after a warm-up.
  static func bestNanosecondsPerCall(
    _ endpoints: [Endpoint<ExampleServiceMethods.Visit>],
    _ context: CallContext,
    calls: Int,
    tasks: Int,
    rounds: Int
  ) async throws -> (wall: [Double], cpu: [Double]) {
    let args = ExampleServiceMethods.VisitArgs(req: ExampleRequest(name: "x"))
    func round(
      _ endpoint: Endpoint<ExampleServiceMethods.Visit>,
      calls: Int
    ) async -> (wall: Double, cpu: Double) {
      let (start, startCPU) = (ContinuousClock.now, processCPUNanoseconds())
      await withTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
          group.addTask {
            for _ in 0..<calls { blackHole(try? await endpoint(context, args)) }
          }
        }
      }
      let cpu = Double(processCPUNanoseconds() - startCPU) / Double(calls * tasks)
      return (nanoseconds(ContinuousClock.now - start) / Double(calls), cpu)
    }
    for endpoint in endpoints { _ = await round(endpoint, calls: max(1, calls / 10)) }
    var best = (
      wall: [Double](repeating: .infinity, count: endpoints.count),
      cpu: [Double](repeating: .infinity, count: endpoints.count)
    )
    for _ in 0..<max(1, rounds) {
      for (index, endpoint) in endpoints.enumerated() {
        let measured = await round(endpoint, calls: calls)
        best.wall[index] = min(best.wall[index], measured.wall)
        best.cpu[index] = min(best.cpu[index], measured.cpu)
      }
    }
    return best
  }

  /// CPU time the whole process has used, in nanoseconds.
  static func processCPUNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
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
