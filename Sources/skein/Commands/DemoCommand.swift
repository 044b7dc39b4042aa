import ArgumentParser
import Foundation
import SkeinDemoIDL
import SkeinExample
import SkeinGovernance
import SkeinMetrics
import SkeinRPC

/// `skein demo`: a small mesh of real RPC nodes on loopback and a live view of its routes.
///
/// Today the view is the `skein stats` table per interval on the terminal; the mesh of
/// `demo/mesh.yaml` and the ncurses dashboard replace it as they land. The pieces are the real
/// ones already: the embedded config store served on loopback (so `skein ctl` and
/// `skein stats` join in from another terminal), the registry, a governed client, the metrics
/// middleware on both sides and an admin endpoint.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run a demo mesh of real RPC nodes on loopback and show its routes live.",
    discussion: """
      Starts the embedded config store on loopback (its memory:// URL is printed first), \
      `example` servers in two clusters (c1, c2) registered in it, and a `gateway` that calls \
      them through a governed client (traffic split, degrade, breakers, retries from the \
      store), then prints each route's QPS, errors and latency every interval until Ctrl-C \
      (or --seconds). From another terminal, steer it and read it:

        skein ctl traffic /gateway/default/example/*/Visit c1=80,c2=20 --registry memory://…
        skein ctl degrade /gateway/default/example/c2/Visit on --registry memory://…
        skein stats --registry memory://…

      Examples:
        skein demo
        skein demo --instances 3 --concurrency 32 --seconds 10
      """
  )

  @Option(help: "Servers per cluster.")
  var instances = 2

  @Option(help: "Calls the gateway keeps in flight.")
  var concurrency = 8

  @Option(help: "Milliseconds each server call takes (simulated work).")
  var delayMs = 1

  @Option(help: "Stop after this many seconds (0: run until Ctrl-C).")
  var seconds = 0

  @Option(help: "Seconds between two lines of figures.")
  var interval = 1.0

  func validate() throws {
    guard (1...16).contains(instances) else { throw ValidationError("--instances must be 1-16.") }
    guard (1...1024).contains(concurrency) else {
      throw ValidationError("--concurrency must be 1-1024.")
    }
    guard delayMs >= 0 else { throw ValidationError("--delay-ms cannot be negative.") }
    guard seconds >= 0 else { throw ValidationError("--seconds cannot be negative.") }
    guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1.") }
  }

  func run() async throws {
    let store = MemoryConfigStore()
    let storeServer = try await ConfigStoreServer.bind(store: store)
    // First: scripts and other terminals wait for the URL.
    printNow("skein demo: config store \(storeServer.url)")
    let registry = Registry(store: store)
    let state = GovernanceState(store: store)
    let aggregator = MetricsAggregator()
    let example = try ServiceName("example")
    let gateway = ServiceIdentity(name: try ServiceName("gateway"))
    var servers: [RPCServer<ExampleServiceProcessor<ExampleHandler>>] = []
    for cluster in [try Cluster("c1"), try Cluster("c2")] {
      for _ in 0..<instances {
        servers.append(
          try await RPCServer.bind(
            ExampleServiceProcessor(ExampleHandler(delay: .milliseconds(delayMs))),
            configuration: .init(
              port: 0,
              identity: ServiceIdentity(name: example, cluster: cluster)
            ),
            middleware: [MetricsMiddleware(side: .server, factory: aggregator)]
          )
        )
      }
    }
    let client = GovernedClient(
      caller: gateway,
      target: example,
      registry: registry,
      state: state,
      middleware: [MetricsMiddleware(side: .client, factory: aggregator)]
    )
    let admin = try await AdminServer.bind(
      snapshotter: Snapshotter(
        identity: .init(service: "demo", cluster: "default", instance: "demo", address: nil),
        aggregator: aggregator,
        governance: GovernanceView(state: state, clients: [client]).view
      ),
      configuration: .init(interval: .milliseconds(Int64(interval * 1000)))
    )
    var registrations: [Registration] = []
    for server in servers {
      registrations.append(
        try await registry.register(
          ServiceInstance(
            service: server.configuration.identity.name,
            cluster: server.configuration.identity.cluster,
            address: server.localAddress,
            admin: admin.localAddress
          )
        )
      )
    }
    printNow("  admin endpoint \(admin.localAddress) (GET /metrics, /snapshot, /stream)")
    for server in servers {
      printNow("  \(server.configuration.identity) on \(server.localAddress)")
    }
    printNow(
      "  gateway calling example with \(concurrency) in flight; without a traffic key the calls spread over c1 and c2"
    )
    printNow("Ctrl-C stops. The ncurses dashboard comes with a later release; this is its data.\n")
    let (concurrency, seconds, interval) = (self.concurrency, self.seconds, self.interval)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await storeServer.run() }
      group.addTask { try await admin.run() }
      group.addTask { await state.run() }
      group.addTask { await client.run() }
      for registration in registrations { group.addTask { await registration.run() } }
      for server in servers { group.addTask { try await server.run() } }
      let service = ExampleServiceClient(client)
      for worker in 0..<concurrency {
        group.addTask {
          let request = ExampleRequest(name: "demo-\(worker)", id64: Int64(worker), id32: 1)
          while !Task.isCancelled {
            do {
              _ = try await service.visit(req: request)
            } catch {
              // A call that fails fast (degraded, breaker open, no instance yet) must not
              // spin: it would hold a thread the rest of the demo needs.
              try? await Task.sleep(for: .milliseconds(10))
            }
          }
        }
      }
      group.addTask {
        let started = ContinuousClock.now
        while seconds == 0 || ContinuousClock.now - started < .seconds(seconds) {
          try await Task.sleep(for: .seconds(interval))
          // The admin endpoint's ticker takes the snapshots; this shows its latest.
          if let snapshot = admin.snapshotter.last {
            printNow(StatsCommand.table(MeshStats(snapshots: [snapshot])))
          }
        }
      }
      // The reporter ends the demo when --seconds is given; Ctrl-C ends the process.
      try await group.next()
      group.cancelAll()
    }
    await client.shutdown()
  }
}
