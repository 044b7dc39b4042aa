import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SkeinDemoIDL
import SkeinExample
import SkeinGovernance
import SkeinMetrics
import SkeinRPC
import UnixSignals

/// `skein example`: the seed service, served and called.
struct ExampleCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "example",
    abstract: "Serve or call the seed service, ExampleService.Visit.",
    subcommands: [Serve.self, Call.self]
  )

  /// `skein example serve`.
  struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Serve ExampleService over framed binary Thrift until SIGINT or SIGTERM.",
      discussion: """
        Replies Resp = "hello, <Name>" and echoes the request's LogID in \
        BaseResp.Extra["log_id"]. On SIGINT or SIGTERM the server stops accepting and lets \
        calls in flight finish before it exits.

        With --admin-port the server also measures every call and serves its figures on an \
        admin endpoint (GET /metrics, /snapshot, /stream; read them with `skein stats`).

        Examples:
          skein example serve --port 9090
          skein example serve --port 9090 --admin-port 9091
        """
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one and prints it).")
    var port: Int

    @Option(help: "The service name this server serves as.")
    var service = "example"

    @Option(help: "The cluster this server belongs to.")
    var cluster = "default"

    @Option(help: "Milliseconds each call waits before it answers (simulated work).")
    var delayMs = 0

    @Option(help: "Serve metrics on this loopback port (0 picks a free one); none by default.")
    var adminPort: Int?

    @Option(
      help: """
        Register in this config store (etcd://HOST:PORT or memory://HOST:PORT) while serving; \
        deregister on SIGTERM. Not registered by default.
        """
    )
    var registry: String?

    func validate() throws {
      guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535.") }
      if let adminPort, !(0...65535).contains(adminPort) {
        throw ValidationError("--admin-port must be 0-65535.")
      }
      if let registry { _ = try ControlCommand.StoreOptions.url(registry) }
      guard delayMs >= 0 else { throw ValidationError("--delay-ms cannot be negative.") }
      do {
        _ = try ServiceName(service)
        _ = try Cluster(cluster)
      } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
      let identity = try ServiceIdentity(name: ServiceName(service), cluster: Cluster(cluster))
      let logger = Logger(label: "skein.example")
      let aggregator = MetricsAggregator()
      let server = try await RPCServer.bind(
        ExampleServiceProcessor(ExampleHandler(delay: .milliseconds(delayMs))),
        configuration: .init(host: host, port: port, identity: identity),
        middleware: adminPort == nil ? [] : [MetricsMiddleware(side: .server, factory: aggregator)]
      )
      var services: [any Service] = [server]
      var announcement =
        "skein example: serving ExampleService as \(identity) on \(server.localAddress)"
      var adminAddress: InstanceAddress?
      if let adminPort {
        let admin = try await AdminServer.bind(
          snapshotter: Snapshotter(
            identity: .init(
              service: service,
              cluster: cluster,
              instance: server.localAddress.description,
              address: server.localAddress
            ),
            aggregator: aggregator
          ),
          configuration: .init(port: adminPort)
        )
        services.append(admin)
        adminAddress = admin.localAddress
        announcement += ", admin on \(admin.localAddress)"
      }
      var store: EtcdConfigStore?
      if let registry {
        let opened = try ControlCommand.StoreOptions.url(registry).open()
        store = opened
        let instance = ServiceInstance(
          service: identity.name,
          cluster: identity.cluster,
          address: server.localAddress,
          admin: adminAddress
        )
        services.append(try await Registry(store: opened).register(instance))
        announcement += ", registered in \(registry)"
      }
      // Written unbuffered: scripts and tests wait for this line to learn the ports.
      printNow(announcement)
      let group = ServiceGroup(
        configuration: .init(
          services: services,
          gracefulShutdownSignals: [.sigterm, .sigint],
          logger: logger
        )
      )
      try await group.run()
      try? await store?.shutdown()
    }
  }

  /// `skein example call`.
  struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Call ExampleService.Visit and print the results and latency percentiles.",
      discussion: """
        Works against any server of demo/idl/example.thrift speaking framed binary Thrift.

        Examples:
          skein example call --port 9090 --name world
          skein example call --port 9090 --name x --count 100000 --concurrency 64 --payload 1024
          skein example call --port 9090 --name x --count 1000 --json
        """
    )

    @Option(help: "The server's address.")
    var host = "127.0.0.1"

    @Option(help: "The server's port.")
    var port: Int

    @Option(help: "The Name to send.")
    var name: String

    @Option(help: "How many calls to make.")
    var count = 1

    @Option(help: "How many calls to keep in flight at once.")
    var concurrency = 1

    @Option(help: "Pad Name with 'x' to this many bytes (0: send Name as it is).")
    var payload = 0

    @Option(help: "Each call's timeout in milliseconds.")
    var timeout = 1000

    @Flag(help: "Print one JSON object: calls, errors, seconds, qps, p50_ms, p99_ms, p999_ms.")
    var json = false

    func validate() throws {
      guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535.") }
      guard count >= 1 else { throw ValidationError("--count must be at least 1.") }
      guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1.") }
      guard payload >= 0 else { throw ValidationError("--payload cannot be negative.") }
      guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 ms.") }
    }

    func run() async throws {
      let client = RPCClient(
        configuration: .init(
          caller: ServiceIdentity(name: try ServiceName("skein-cli")),
          target: ServiceIdentity(name: try ServiceName("example")),
          instances: [InstanceAddress(host: host, port: port)],
          timeout: .milliseconds(timeout),
          connectionsPerInstance: max(1, min(concurrency / 16, 8)),
          maxPendingCallsPerInstance: max(1024, concurrency)
        )
      )
      let service = ExampleServiceClient(client)
      let padded =
        name.utf8.count >= payload
        ? name : name + String(repeating: "x", count: payload - name.utf8.count)
      let request = ExampleRequest(name: padded, id64: 1, id32: 1)
      let report = await LoadReport.measure(count: count, concurrency: concurrency) {
        try await service.visit(req: request)
      }
      await client.shutdown()
      if json {
        print(report.json)
      } else {
        if let first = report.firstResult {
          print("Resp: \(first.resp.prefix(80))\(first.resp.count > 80 ? "…" : "")")
          print("LogID echoed: \(first.baseResp?.extra?["log_id"] ?? "(none)")")
        }
        print(report.table)
      }
      if report.errors == report.calls { throw ExitCode.failure }
    }
  }
}
