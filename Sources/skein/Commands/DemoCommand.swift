import ArgumentParser
import Foundation
import SkeinDashboard
import SkeinGovernance
import SkeinMesh
import SkeinMetrics
import SkeinRPC

/// `skein demo`: the demo mesh of real RPC nodes on loopback, driven by its edge load, with
/// its routes shown live.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run the demo mesh of real RPC nodes on loopback and show its routes live.",
    discussion: """
      Starts the embedded config store on loopback (its memory:// URL is printed first), every \
      instance of the mesh as a real server on its own 127.0.0.1 port, registered in the \
      store with an admin endpoint, and the open-loop edge load. Nodes call their downstream \
      methods through governed clients: traffic splits, degrade switches, breakers and \
      retries come from the store, so from another terminal you can steer the mesh and read it:

        skein stats --registry memory://…
        skein ctl traffic '/feed/*/recommend/*/Rank' c1=0,c2=100 --registry memory://…
        skein ctl degrade '/gateway/*/ad/*/GetAds' on --registry memory://…
        skein ctl fault storage/c1/0 --down --registry memory://…

      On a terminal the dashboard opens on the mesh (q quits, ? lists the keys); when standard \
      output is not a terminal the routes table is printed every --interval instead. With \
      --headless nothing is printed until the end, when `skein stats` is (--json: as JSON). \
      The exit code is 0 when the mesh served traffic.

      Who may: the store and every node listen on 127.0.0.1. To let another machine's \
      `skein top` or `skein ctl` reach the store, give --store-host with --allow-remote and a \
      token ($SKEIN_TOKEN or --token); changes then need the token, reads do not.

      Examples:
        skein demo
        skein demo --headless --duration 10 --rate 500 --json
        skein demo --theme light --read-only
        skein demo --mesh my-mesh.yaml --log /tmp/mesh.log
        SKEIN_TOKEN=$(openssl rand -hex 32) skein demo --store-host 0.0.0.0 --allow-remote
      """
  )

  @OptionGroup var meshOptions: MeshOptions

  @Flag(help: "Run without the live view; print `skein stats` at the end.")
  var headless = false

  @Option(help: "Stop after this many seconds (0: run until Ctrl-C).")
  var duration = 0.0

  @Option(help: "The edge load in calls per second (default: the mesh file's rate).")
  var rate: Double?

  @Flag(help: "With --headless: print the final stats as JSON, as `skein stats --json` does.")
  var json = false

  @OptionGroup(title: "Dashboard") var dashboardOptions: DashboardOptions

  @Option(help: "The embedded config store's port (0 picks a free one).")
  var storePort = 0

  @Option(
    help:
      "The embedded config store's address; anything but loopback needs --allow-remote and a token."
  )
  var storeHost = "127.0.0.1"

  @Flag(help: "Allow --store-host to be an address beyond loopback (a token is then required).")
  var allowRemote = false

  @Option(
    help: """
      The token changes to the store must carry (at least 16 characters). Default: \
      $SKEIN_TOKEN. A flag shows in `ps`: prefer the variable.
      """
  )
  var token: String?

  func validate() throws {
    guard duration >= 0 else { throw ValidationError("--duration cannot be negative.") }
    let maxRate = MeshLimits().maxRate
    if let rate, !(0...maxRate).contains(rate) {
      throw ValidationError("--rate must be 0-\(Int(maxRate)).")
    }
    guard (0...65535).contains(storePort) else {
      throw ValidationError("--store-port must be 0-65535.")
    }
    guard !json || headless else { throw ValidationError("--json needs --headless.") }
    _ = try StoreCommand.accessToken(token)
  }

  func run() async throws {
    let mesh = try meshOptions.load()
    let started = ContinuousClock.now
    let store = MemoryConfigStore()
    let storeServer = try await ConfigStoreServer.bind(
      store: store,
      configuration: .init(
        host: storeHost,
        port: storePort,
        allowNonLoopback: allowRemote,
        token: try StoreCommand.accessToken(token)
      )
    )
    // First: scripts and other terminals wait for the URL.
    printNow("skein demo: config store \(storeServer.url)")
    let log = try meshOptions.logFile(default: "skein-demo.log")
    let environment = MeshEnvironment(
      store: store,
      log: log,
      logLevel: meshOptions.level,
      cpuScale: meshOptions.cpuScale
    )
    try await MeshGovernance.seed(mesh, into: store)
    var profile = mesh.load
    if let rate { profile.rate = rate }
    let load = LoadGenerator(profile: profile, environment: environment)
    let host = try MeshHost(
      mesh: mesh,
      environment: environment,
      instances: mesh.instances,
      load: load
    )
    printNow(
      "  mesh '\(mesh.name)': \(mesh.services.count) services, \(mesh.instances.count) instances, "
        + "\(mesh.routes.count) routes; edge load \(Self.rate(profile)) (\(profile.shape.kind))"
    )
    printNow("  logs: \(log.path)")
    printNow(headless ? "  running headless; Ctrl-C stops" : "  the dashboard opens; q quits")
    let seconds = duration
    let headless = self.headless
    let json = self.json
    let interval = dashboardOptions.interval
    let dashboardOptions = dashboardOptions.options(
      meshName: mesh.name,
      storeURL: storeServer.url.description,
      demo: true
    )
    let final = Final()
    try await withThrowingTaskGroup(of: Bool.self) { group in
      group.addTask {
        try await storeServer.run()
        return false
      }
      group.addTask {
        try await host.run(loadDuration: seconds > 0 ? .seconds(seconds) : nil) {
          // The live figures of the mesh's last interval, before the load stops.
          await final.set(try? await Self.stats(environment.registry))
        }
        return true
      }
      group.addTask {
        try await Self.announceWhenUp(environment.registry, mesh: mesh, since: started)
        guard !headless else { return false }
        guard isatty(STDOUT_FILENO) == 1 else {
          // Not a terminal (a pipe, a file): the routes table every interval instead.
          while true {
            try await Task.sleep(for: .seconds(interval))
            if let stats = try? await Self.stats(environment.registry) {
              printNow(StatsCommand.table(stats))
            }
          }
        }
        let dashboard = Dashboard(
          store: store,
          options: dashboardOptions,
          catalog: ThemeCatalog.load()
        )
        try await dashboard.run()
        return true
      }
      // The host returns when the load ran its --duration, the dashboard when `q` is pressed.
      while let ended = try await group.next(), !ended {}
      group.cancelAll()
    }
    let report = load.report
    if let stats = await final.stats {
      printNow(json ? try StatsCommand.json(stats) : StatsCommand.table(stats), terminator: "")
    }
    if !json {
      printNow("edge: \(report.summary)")
    }
    if report.succeeded == 0 { throw ExitCode.failure }
  }

  /// Waits until every instance of the mesh is registered, then says how long it took.
  private static func announceWhenUp(
    _ registry: Registry,
    mesh: MeshDescription,
    since started: ContinuousClock.Instant
  ) async throws {
    let expected = mesh.instances.count
    while try await registry.allInstances().filter({ $0.service != mesh.load.caller.rawValue })
      .count < expected
    {
      try await Task.sleep(for: .milliseconds(20))
    }
    let seconds = Double((ContinuousClock.now - started).nanoseconds) / 1e9
    printNow("  \(expected) instances up in \(String(format: "%.2f", seconds)) s")
  }

  /// The merged view of every registered node's admin endpoint.
  static func stats(_ registry: Registry) async throws -> MeshStats {
    await MeshStatsClient().collect(registered: try await registry.allInstances())
  }

  private static func rate(_ profile: LoadProfile) -> String {
    "\(profile.rate.formatted(.number.precision(.fractionLength(0...1)))) calls/s"
  }

  /// The figures read after the load ended, before the nodes stop.
  private actor Final {
    var stats: MeshStats?
    func set(_ stats: MeshStats?) { self.stats = stats }
  }
}
