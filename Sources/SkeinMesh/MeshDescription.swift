public import SkeinRPC

/// A mesh as `demo/mesh.yaml` describes it: which services run, in which clusters and how many
/// instances, what each method simulates and calls downstream, and how the edge loads it.
///
/// It is data only: the node runtime, the load generator and the dashboard read it to start
/// servers, wire clients and seed governance, so a mesh is described once and runs the same in
/// one process (`skein demo`) or as many (`skein node`). Values come out of
/// ``MeshLoader`` checked, so code that reads them can trust every reference.
public struct MeshDescription: Sendable, Hashable {
  /// The mesh's name, shown by the dashboard and in logs.
  public var name: String
  /// The services, in the file's order.
  public var services: [MeshService]
  /// The edge load generator's defaults.
  public var load: LoadProfile

  /// Creates a description; ``MeshLoader`` is how a checked one is made from a file.
  public init(name: String, services: [MeshService], load: LoadProfile) {
    self.name = name
    self.services = services
    self.load = load
  }

  /// The service with this name, if the mesh has it.
  public func service(named name: ServiceName) -> MeshService? {
    services.first { $0.name == name }
  }

  /// Every instance to start, service by service, cluster by cluster: what `skein demo` starts
  /// in one process and what `skein node --service S --cluster C --instance I` picks one of.
  public var instances: [MeshInstance] {
    services.flatMap { service in
      service.clusters.flatMap { cluster in
        (0..<cluster.instances).map { index in
          MeshInstance(
            service: service.name,
            cluster: cluster.name,
            index: index,
            weight: cluster.weight
          )
        }
      }
    }
  }

  /// Every five-tuple the mesh's traffic can take, sorted by path and without repeats: each
  /// caller cluster × each callee cluster its traffic split reaches × method, the edge load
  /// generator's calls included. It is what an integration test expects to see traffic on and
  /// what the dashboard lists before the first call.
  public var routes: [FiveTuple] {
    let splits = Dictionary(
      uniqueKeysWithValues: routePolicies.map { ("\($0.from) \($0.to).\($0.method)", $0.traffic) }
    )
    var routes = Set<FiveTuple>()
    for (caller, callerClusters, call) in allCalls {
      guard let callee = service(named: call.target.service) else { continue }
      let split = splits["\(caller) \(call.target)"] ?? nil
      for callerCluster in callerClusters {
        for calleeCluster in callee.clusters(reachedFrom: callerCluster, split: split) {
          // The loader checked the method is an identifier, so this never drops a route.
          let route = try? FiveTuple(
            from: caller,
            fromCluster: callerCluster,
            to: callee.name,
            toCluster: calleeCluster,
            method: call.target.method
          )
          if let route { routes.insert(route) }
        }
      }
    }
    return routes.sorted()
  }

  /// The traffic split and balancer to seed governance with, one per caller service, callee
  /// service and method that sets either; the runtime writes them as the routes' `/…/traffic`
  /// and `/…/config` keys so the dashboard can change them later. The key is per route, not per
  /// call, so what several calls of one route set is merged (the loader rejects conflicts).
  public var routePolicies: [MeshRoutePolicy] {
    var policies: [MeshRoutePolicy] = []
    var indexes: [String: Int] = [:]
    for (caller, _, call) in allCalls where call.traffic != nil || call.balancer != nil {
      let key = "\(caller) \(call.target)"
      guard let index = indexes[key] else {
        indexes[key] = policies.count
        policies.append(
          MeshRoutePolicy(
            from: caller,
            to: call.target.service,
            method: call.target.method,
            traffic: call.traffic,
            balancer: call.balancer
          )
        )
        continue
      }
      policies[index].traffic = policies[index].traffic ?? call.traffic
      policies[index].balancer = policies[index].balancer ?? call.balancer
    }
    return policies
  }

  /// Each call of the mesh with its caller and the caller's clusters, the edge's included.
  private var allCalls: [(ServiceName, [Cluster], MeshCall)] {
    let services = self.services.flatMap { service in
      service.methods.flatMap { method in
        method.calls.flatMap(\.calls).map { (service.name, service.clusters.map(\.name), $0) }
      }
    }
    let edge = load.mix.map { (load.caller, [Cluster.default], $0.call) }
    return services + edge
  }
}

/// One instance to start: `feed/c1#0` is the first instance of feed's cluster c1.
public struct MeshInstance: Sendable, Hashable, CustomStringConvertible {
  /// Its service.
  public var service: ServiceName
  /// Its cluster.
  public var cluster: Cluster
  /// Its number within the cluster, from 0.
  public var index: Int
  /// The weight it registers with, which weighted balancers read.
  public var weight: Int

  /// Creates an instance.
  public init(service: ServiceName, cluster: Cluster, index: Int, weight: Int) {
    self.service = service
    self.cluster = cluster
    self.index = index
    self.weight = weight
  }

  /// `service/cluster#index`.
  public var description: String { "\(service)/\(cluster)#\(index)" }
}

/// The governance a route starts with: how a caller splits one method's calls over the
/// callee's clusters, and which balancer picks the instance.
public struct MeshRoutePolicy: Sendable, Hashable {
  /// The calling service (for every one of its clusters).
  public var from: ServiceName
  /// The called service.
  public var to: ServiceName
  /// The called method.
  public var method: String
  /// Weights by callee cluster, as the `/…/traffic` key holds them; `nil` keeps the client's
  /// default (the caller's own cluster when the callee has it, all clusters evenly otherwise).
  public var traffic: [Cluster: Int]?
  /// One of ``LoadBalancerKind/all``; `nil` keeps the client's default (`round_robin`).
  public var balancer: String?

  /// Creates a policy.
  public init(
    from: ServiceName,
    to: ServiceName,
    method: String,
    traffic: [Cluster: Int]?,
    balancer: String?
  ) {
    self.from = from
    self.to = to
    self.method = method
    self.traffic = traffic
    self.balancer = balancer
  }
}
