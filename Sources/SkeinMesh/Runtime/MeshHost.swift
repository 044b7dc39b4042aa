public import ServiceLifecycle
public import SkeinGovernance
import SkeinMetrics
import SkeinRPC

/// Runs nodes of a mesh in this process, and its edge load when asked: every instance for
/// `skein demo`, one for `skein node`, none but the edge for `skein load`.
///
/// It also keeps the shared views current (switches, faults) and gives the edge an admin
/// endpoint, registered as service `edge`, so `skein stats` sees the client side of the edge
/// routes too.
public final class MeshHost: Service, Sendable {
  /// The mesh.
  public let mesh: MeshDescription
  /// The shared views and logs.
  public let environment: MeshEnvironment
  /// The nodes run here.
  public let nodes: [MeshNode]
  /// The edge load, if it runs here.
  public let load: LoadGenerator?

  /// A host for `instances` of `mesh` and, when given, its edge load.
  ///
  /// - Throws: ``MeshRuntimeError`` for an instance the mesh does not have.
  public convenience init(
    mesh: MeshDescription,
    environment: MeshEnvironment,
    instances: [MeshInstance],
    load: LoadGenerator? = nil
  ) throws {
    self.init(
      mesh: mesh,
      environment: environment,
      nodes: try instances.map { try MeshNode(mesh: mesh, instance: $0, environment: environment) },
      load: load
    )
  }

  /// A host for nodes made by the caller (with their own ports) and, when given, the edge load.
  public init(
    mesh: MeshDescription,
    environment: MeshEnvironment,
    nodes: [MeshNode],
    load: LoadGenerator? = nil
  ) {
    self.mesh = mesh
    self.environment = environment
    self.nodes = nodes
    self.load = load
  }

  /// Runs the nodes until cancelled. With a `loadDuration`, `atEnd` runs when it has passed,
  /// while the load still runs (to read the mesh's figures as it was), then the load stops,
  /// its calls in flight end and `run` returns; without one the load runs until cancelled.
  public func run(
    loadDuration: Duration? = nil,
    atEnd: @escaping @Sendable () async -> Void = {}
  ) async throws {
    var edge: (admin: AdminServer, registration: Registration)?
    if let load { edge = try await bindEdge(load) }
    await withDiscardingTaskGroup { group in
      group.addTask { await self.environment.state.run() }
      group.addTask { await self.environment.faults.run() }
      group.addTask { await self.environment.access.run() }
      if let interval = environment.memoryTrimInterval {
        group.addTask { await MemoryTrimmer(interval: interval).run() }
      }
      if let edge {
        group.addTask { try? await edge.admin.run() }
        group.addTask { await edge.registration.run() }
      }
      await withDiscardingTaskGroup { work in
        for node in nodes { work.addTask { await node.run() } }
        guard let load else { return }
        guard let loadDuration else { return await load.run() }
        work.addTask {
          try? await Task.sleep(for: loadDuration)
          await atEnd()
          load.stop()
        }
        await load.run()
        work.cancelAll()
      }
      // A run that ended on its own leaves no registration behind to lapse.
      try? await edge?.registration.deregister()
      group.cancelAll()
    }
  }

  /// Runs until cancelled, or until a graceful shutdown (SIGTERM in a `ServiceGroup`) has
  /// deregistered the nodes and let their calls in flight finish.
  public func run() async throws {
    try await run(loadDuration: nil)
  }

  private func bindEdge(_ load: LoadGenerator) async throws -> (
    admin: AdminServer, registration: Registration
  ) {
    let caller = load.profile.caller
    let admin = try await AdminServer.bind(
      snapshotter: Snapshotter(
        identity: .init(
          service: caller.rawValue,
          cluster: Cluster.default.rawValue,
          instance: load.instance,
          address: nil
        ),
        aggregator: load.aggregator,
        tasks: load.tasks,
        governance: GovernanceView(state: environment.state, clients: load.clients).view
      ),
      configuration: .init(host: environment.host)
    )
    // The edge serves no calls; its registration exists for its admin endpoint, so the
    // address it gives is that endpoint's.
    let registration = try await environment.registry.register(
      ServiceInstance(
        service: caller,
        cluster: .default,
        address: admin.localAddress,
        id: load.instance,
        admin: admin.localAddress
      ),
      ttl: environment.registrationTTL
    )
    return (admin, registration)
  }
}

/// The mesh file's starting traffic splits and balancers, written as governance keys so the
/// dashboard and `skein ctl` can change them later.
public enum MeshGovernance {
  /// The keys and values `mesh` starts with: per caller service, callee service and method,
  /// for every caller and callee cluster (`/from/*/to/*/method/{traffic,config}`).
  public static func seeds(_ mesh: MeshDescription) throws -> [(key: String, value: String)] {
    var seeds: [(key: String, value: String)] = []
    for policy in mesh.routePolicies {
      let pattern = try RoutePattern(
        path: "/\(policy.from)/*/\(policy.to)/*/\(policy.method)"
      )
      if let traffic = policy.traffic {
        let weights = Dictionary(uniqueKeysWithValues: traffic.map { ($0.key.rawValue, $0.value) })
        seeds.append((GovernanceSwitch.traffic.key(for: pattern), try SwitchValue.traffic(weights)))
      }
      if let balancer = policy.balancer {
        seeds.append(
          (
            GovernanceSwitch.config.key(for: pattern),
            try SwitchValue.config(RouteConfig(balancer: balancer))
          )
        )
      }
    }
    return seeds
  }

  /// Writes each seed whose key is not set yet: what an operator changed stays changed when
  /// another node starts.
  public static func seed(_ mesh: MeshDescription, into store: any ConfigStore) async throws {
    for (key, value) in try seeds(mesh) where try await store.get(key) == nil {
      try await store.put(key, value)
    }
  }
}
