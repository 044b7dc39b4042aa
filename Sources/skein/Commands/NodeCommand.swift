import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SkeinGovernance
import SkeinHTTP
import SkeinMesh
import SkeinRPC
import UnixSignals

/// `skein node`: one instance of a mesh as its own process, so the same mesh runs as many
/// processes on one machine, or across hosts through etcd.
struct NodeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "node",
    abstract: "Run one instance of a mesh service as its own process.",
    discussion: """
      Serves the service's methods as the mesh file describes them (simulated work, then \
      real calls to its downstream services found in the registry), registers the instance \
      and its admin endpoint in the config store, and seeds the mesh's starting traffic \
      splits and balancers where they are not set yet. On SIGINT or SIGTERM it deregisters, \
      lets its calls in flight finish and exits.

      Examples:
        skein node --service feed --cluster c1 --instance 0 --registry etcd://127.0.0.1:2379
        skein node --mesh demo/mesh.yaml --service storage --cluster c2 --instance 1 \\
          --registry memory://127.0.0.1:2380 --log /tmp/storage-c2-1.log
        SKEIN_TOKEN=… skein node --service feed --cluster c1 --registry memory://10.0.0.5:2380

      Registering writes to the store: a store served with a token needs it ($SKEIN_TOKEN or \
      --token), an etcd with authentication a user with write rights on /skein/ \
      (--etcd-user or etcd://USER@HOST:PORT, $SKEIN_ETCD_PASSWORD).
      """
  )

  @OptionGroup var meshOptions: MeshOptions

  @Option(help: "The service to run (a service of the mesh file).")
  var service: String

  @Option(help: "Its cluster.")
  var cluster: String

  @Option(help: "Its index in the cluster, from 0.")
  var instance: Int

  @Option(help: "The port to serve on (0 picks a free one).")
  var port = 0

  @Option(help: "The admin endpoint's port (0 picks a free one).")
  var adminPort = 0

  @Option(
    help: "The address to listen on and register; beyond loopback it needs an admin token."
  )
  var host = "127.0.0.1"

  @OptionGroup var adminToken: AdminTokenOptions

  @OptionGroup var store: ControlCommand.StoreOptions

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535.") }
    guard (0...65535).contains(adminPort) else {
      throw ValidationError("--admin-port must be 0-65535.")
    }
    // The node's admin endpoint listens where it serves: refused here, in words a person can
    // act on, rather than as the endpoint's bind error.
    let token = try adminToken.token()
    guard ListenPolicy.isLoopback(host) || token != nil else {
      throw ValidationError(
        "--host \(host) is beyond loopback: the node's admin endpoint would show its routes and "
          + "load to anyone who reaches \(host); give it a token in SKEIN_ADMIN_TOKEN (or "
          + "--admin-token), which skein stats and skein top then send"
      )
    }
  }

  func run() async throws {
    let mesh = try meshOptions.load()
    let chosen = mesh.instances.first {
      $0.service.rawValue == service && $0.cluster.rawValue == cluster && $0.index == instance
    }
    guard let chosen else {
      let known = mesh.instances.map { "\($0.service)/\($0.cluster)/\($0.index)" }
      throw ValidationError(
        "the mesh '\(mesh.name)' has no instance \(service)/\(cluster)/\(instance); it has "
          + known.joined(separator: ", ")
      )
    }
    let log = try meshOptions.logFile(default: "skein-node-\(service)-\(cluster)-\(instance).log")
    let opened = try store.open()
    try await MeshGovernance.seed(mesh, into: opened)
    let environment = MeshEnvironment(
      store: opened,
      log: log,
      logLevel: meshOptions.level,
      host: host,
      adminToken: try adminToken.token(),
      cpuScale: meshOptions.cpuScale
    )
    let node = try MeshNode(
      mesh: mesh,
      instance: chosen,
      environment: environment,
      port: port,
      adminPort: adminPort
    )
    let meshHost = MeshHost(mesh: mesh, environment: environment, nodes: [node])
    printNow(
      "skein node: \(chosen) of mesh '\(mesh.name)' in \(store.shownRegistry); logs: \(log.path)"
    )
    let group = ServiceGroup(
      configuration: .init(
        services: [meshHost],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: environment.logger("skein.node")
      )
    )
    try await group.run()
    try? await opened.shutdown()
  }
}
