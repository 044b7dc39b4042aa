import ArgumentParser
import Foundation
import ServiceLifecycle
import SkeinGovernance
import SkeinMesh
import SkeinMetrics
import SkeinRPC
import UnixSignals

/// `skein load`: the mesh's edge load as its own process, against nodes found in the registry.
struct LoadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "load",
    abstract: "Drive a mesh's edge methods at a rate, open-loop, through the registry.",
    discussion: """
      Calls the edge methods of the mesh file's load section as its caller (`edge` in the \
      default mesh), at --rate calls per second in the file's shape (or --shape), whatever \
      the mesh answers: a slow mesh shows as latency and errors, not as less load. Every call \
      ends counted: succeeded, failed by kind, or shed when too many are in flight. The \
      generator registers an admin endpoint, so `skein stats` shows the edge's side too.

      Examples:
        skein load --registry etcd://127.0.0.1:2379 --rate 500 --duration 30
        skein load --registry memory://127.0.0.1:2380 --shape spike --json
      """
  )

  @OptionGroup var meshOptions: MeshOptions

  @Option(help: "Calls per second (default: the mesh file's rate).")
  var rate: Double?

  @Option(
    help: """
      The rate's shape: steady, ramp (to the rate over 10 s) or spike (3× for 2 s of every \
      10 s); default: the mesh file's.
      """
  )
  var shape: String?

  @Option(help: "Stop after this many seconds (0: run until Ctrl-C).")
  var duration = 0.0

  @Option(help: "Calls in flight beyond which new ones are shed.")
  var maxInFlight = LoadGenerator.defaultMaxInFlight

  @Flag(help: "Print the counts at the end as one JSON object.")
  var json = false

  @OptionGroup var store: ControlCommand.StoreOptions

  /// The shapes `--shape` names.
  static let shapes: [String: LoadShape] = [
    "steady": .steady,
    "ramp": .ramp(seconds: 10),
    "spike": .spike(every: 10, duration: 2, factor: 3),
  ]

  func validate() throws {
    let maxRate = MeshLimits().maxRate
    if let rate, !(0...maxRate).contains(rate) {
      throw ValidationError("--rate must be 0-\(Int(maxRate)).")
    }
    if let shape, Self.shapes[shape] == nil {
      throw ValidationError(
        "--shape must be one of \(Self.shapes.keys.sorted().joined(separator: ", "))."
      )
    }
    guard duration >= 0 else { throw ValidationError("--duration cannot be negative.") }
    guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1.") }
  }

  func run() async throws {
    let mesh = try meshOptions.load()
    let log = try meshOptions.logFile(default: "skein-load.log")
    let opened = try store.open()
    let environment = MeshEnvironment(store: opened, log: log, logLevel: meshOptions.level)
    var profile = mesh.load
    if let rate { profile.rate = rate }
    if let shape { profile.shape = Self.shapes[shape] ?? profile.shape }
    let load = LoadGenerator(
      profile: profile,
      environment: environment,
      instance: "\(ProcessInfo.processInfo.hostName)-\(getpid())",
      maxInFlight: maxInFlight
    )
    let host = MeshHost(mesh: mesh, environment: environment, nodes: [], load: load)
    printNow(
      "skein load: \(profile.rate) calls/s (\(profile.shape.kind)) into mesh '\(mesh.name)' via \(store.shownRegistry)"
    )
    // SIGINT or SIGTERM stops the load gracefully: the calls in flight end and are counted.
    let group = ServiceGroup(
      configuration: .init(
        services: [
          .init(
            service: TimedRun(host: host, duration: duration > 0 ? .seconds(duration) : nil),
            successTerminationBehavior: .gracefullyShutdownGroup
          )
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: environment.logger("skein.load")
      )
    )
    try await group.run()
    try? await opened.shutdown()
    let report = load.report
    if json {
      print(String(decoding: try MetricsJSON.line(report), as: UTF8.self), terminator: "")
    } else {
      print("edge: \(report.summary)")
    }
    if report.succeeded == 0 { throw ExitCode.failure }
  }
}

/// A host's run with its load for a while, as a service.
private struct TimedRun: Service {
  let host: MeshHost
  let duration: Duration?

  func run() async throws { try await host.run(loadDuration: duration) }
}
