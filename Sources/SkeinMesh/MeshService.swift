public import SkeinRPC

/// One service of the mesh: where its IDL is, where its instances run, and what each of its
/// methods does when called.
public struct MeshService: Sendable, Hashable {
  /// The service's name in the registry and in every five-tuple.
  public var name: ServiceName
  /// The IDL file (relative to the mesh's IDL folder) and the service in it whose methods
  /// this service serves.
  public var idl: IDLReference
  /// Its clusters, in the file's order.
  public var clusters: [MeshCluster]
  /// The methods it simulates, in the file's order.
  public var methods: [MeshMethod]

  /// Creates a service.
  public init(name: ServiceName, idl: IDLReference, clusters: [MeshCluster], methods: [MeshMethod])
  {
    self.name = name
    self.idl = idl
    self.clusters = clusters
    self.methods = methods
  }

  /// The cluster with this name, if the service has it.
  public func cluster(named name: Cluster) -> MeshCluster? {
    clusters.first { $0.name == name }
  }

  /// The clusters a caller in `callerCluster` sends this service's calls to: those `split`
  /// weights above 0, or, without a split, what the governed client does by default (the
  /// caller's own cluster when this service has it, every cluster otherwise).
  public func clusters(reachedFrom callerCluster: Cluster, split: [Cluster: Int]?) -> [Cluster] {
    if let split {
      return clusters.map(\.name).filter { (split[$0] ?? 0) > 0 }
    }
    if cluster(named: callerCluster) != nil { return [callerCluster] }
    return clusters.map(\.name)
  }

  /// The method with this name, if the service simulates it.
  public func method(named name: String) -> MeshMethod? {
    methods.first { $0.name == name }
  }
}

/// Where a service's methods are declared: `file: gateway.thrift, service: GatewayService`.
public struct IDLReference: Sendable, Hashable {
  /// The `.thrift` file, relative to the mesh's `idl_dir`.
  public var file: String
  /// The IDL service's name in that file.
  public var service: String

  /// Creates a reference.
  public init(file: String, service: String) {
    self.file = file
    self.service = service
  }
}

/// A named group of a service's instances.
public struct MeshCluster: Sendable, Hashable {
  /// The cluster's name (`c1`).
  public var name: Cluster
  /// How many instances run in it.
  public var instances: Int
  /// The weight each instance registers with (weighted balancers read it); 100 by default, the
  /// registry's default.
  public var weight: Int

  /// The weight an instance has when the file does not say.
  public static let defaultWeight = 100

  /// Creates a cluster.
  public init(name: Cluster, instances: Int, weight: Int = MeshCluster.defaultWeight) {
    self.name = name
    self.instances = instances
    self.weight = weight
  }
}

/// One method's simulated behaviour: the work it does itself, then its downstream calls.
public struct MeshMethod: Sendable, Hashable {
  /// The method, as the IDL names it (`GetFeed`).
  public var name: String
  /// The work the handler does on its own.
  public var work: SimulatedWork
  /// Its downstream calls: the steps run one after another; the calls of a parallel step run at
  /// once and share the step's time.
  public var calls: [CallStep]

  /// Creates a method.
  public init(name: String, work: SimulatedWork, calls: [CallStep] = []) {
    self.name = name
    self.work = work
    self.calls = calls
  }
}

/// What a simulated handler spends and how often it fails, so the mesh behaves like a real one:
/// latency spread with a tail, a trickle of errors, and CPU that contends with the runtime.
public struct SimulatedWork: Sendable, Hashable {
  /// How long the handler waits (not counting downstream calls).
  public var latency: LatencyDistribution
  /// The share of calls that fail with an application error, 0...1.
  public var errorRate: Double
  /// Microseconds of busy CPU work per call, on top of the latency.
  public var cpuMicroseconds: Int

  /// Creates simulated work.
  public init(latency: LatencyDistribution, errorRate: Double = 0, cpuMicroseconds: Int = 0) {
    self.latency = latency
    self.errorRate = errorRate
    self.cpuMicroseconds = cpuMicroseconds
  }
}

/// A step of a method's downstream calls: one call, or several at once (fan-out).
public enum CallStep: Sendable, Hashable {
  /// A call that must finish before the next step starts.
  case call(MeshCall)
  /// Calls made at once; the step ends when all have.
  case parallel([MeshCall])

  /// The step's calls.
  public var calls: [MeshCall] {
    switch self {
    case .call(let call): [call]
    case .parallel(let calls): calls
    }
  }
}

/// One downstream call: which method, how long the caller waits, and the route's starting
/// traffic split and balancer.
public struct MeshCall: Sendable, Hashable {
  /// The called method.
  public var target: MethodReference
  /// The call's timeout in milliseconds; `nil` leaves it to the caller's deadline.
  public var timeoutMilliseconds: Int?
  /// The starting split over the callee's clusters; `nil` keeps the client's default.
  public var traffic: [Cluster: Int]?
  /// The starting balancer kind; `nil` keeps the client's default.
  public var balancer: String?

  /// Creates a call.
  public init(
    target: MethodReference,
    timeoutMilliseconds: Int? = nil,
    traffic: [Cluster: Int]? = nil,
    balancer: String? = nil
  ) {
    self.target = target
    self.timeoutMilliseconds = timeoutMilliseconds
    self.traffic = traffic
    self.balancer = balancer
  }
}

/// `service.Method`, the way mesh files name a call's target.
public struct MethodReference: Sendable, Hashable, CustomStringConvertible {
  /// The service.
  public var service: ServiceName
  /// The method.
  public var method: String

  /// Creates a reference.
  public init(service: ServiceName, method: String) {
    self.service = service
    self.method = method
  }

  /// `service.Method`.
  public var description: String { "\(service).\(method)" }
}
