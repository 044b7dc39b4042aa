public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
public import SkeinGovernance
public import SkeinHTTP
public import SkeinMetrics
import SkeinRPC
import SkeinThrift
import Synchronization

/// What every node of a mesh shares in one process: the config store's views (registry,
/// switches, faults) and where logs go. `skein demo` hosts every node on one of these;
/// `skein node` one.
public struct MeshEnvironment: Sendable {
  /// Where instances register and callers find them.
  public var registry: Registry
  /// The governance switches in force.
  public var state: GovernanceState
  /// The injected faults in force.
  public var faults: FaultBook
  /// Who may call which method (`/skein/access/…`), which every node's server obeys.
  public var access: AccessRules
  /// Where nodes log; `nil` logs nothing.
  public var log: LogFile?
  /// The lowest level logged.
  public var logLevel: Logger.Level
  /// The address nodes listen on.
  public var host: String
  /// The token nodes' admin endpoints ask for; with one, nodes may listen beyond loopback
  /// (their admin endpoints show their routes and load), without one only on loopback.
  public var adminToken: AccessToken?
  /// How long a node's registration outlives it: a killed node's callers see it this long.
  public var registrationTTL: Duration
  /// The multiple of each method's simulated CPU that handlers burn: 0 spares a small or
  /// shared machine, 2 shows a mesh short of cores.
  public var cpuScale: Double
  /// How often a host hands the memory a burst left free back to the system (see
  /// ``MemoryTrimmer``); `nil` never does.
  public var memoryTrimInterval: Duration?

  /// The default lease a node registers under.
  public static let defaultRegistrationTTL = Duration.seconds(10)

  /// An environment over `store`'s registry, switches and faults.
  public init(
    store: any ConfigStore,
    log: LogFile? = nil,
    logLevel: Logger.Level = .info,
    host: String = "127.0.0.1",
    adminToken: AccessToken? = nil,
    registrationTTL: Duration = MeshEnvironment.defaultRegistrationTTL,
    cpuScale: Double = 1,
    memoryTrimInterval: Duration? = MemoryTrimmer.defaultInterval
  ) {
    let log = log
    let onEvent: @Sendable (GovernanceEvent) -> Void = { event in
      log?.logger("skein.governance").notice("\(event)")
    }
    self.registry = Registry(store: store)
    self.state = GovernanceState(store: store, onEvent: onEvent)
    self.faults = FaultBook(store: store, onEvent: onEvent)
    self.access = AccessRules(store: store, onEvent: onEvent)
    self.log = log
    self.logLevel = logLevel
    self.host = host
    self.adminToken = adminToken
    self.registrationTTL = registrationTTL
    self.cpuScale = max(0, cpuScale)
    self.memoryTrimInterval = memoryTrimInterval
  }

  /// A logger for `label`: to the log file, or nowhere.
  public func logger(_ label: String) -> Logger {
    guard let log else { return Logger(label: label) { _ in SwiftLogNoOpLogHandler() } }
    return log.logger(label, level: logLevel)
  }
}

/// One instance of a mesh service: a real Skein server on its own port, registered in the
/// config store with its admin endpoint, whose handlers do the method's simulated work and
/// then call its downstream methods through governed clients — real calls over real sockets.
///
/// It obeys its fault key (see ``InstanceFault``): added latency and errors apply to the next
/// call; `down` closes its server and admin endpoint and stops renewing its lease (as a crash
/// would), and clearing it starts them again on the same ports when they are free.
public final class MeshNode: Sendable {
  /// Which instance this is.
  public let instance: MeshInstance
  /// Its service in the mesh.
  public let service: MeshService
  /// Its clients, one per downstream service, for the metrics' governance view.
  public let clients: [GovernedClient]
  /// Its metrics.
  public let aggregator: MetricsAggregator
  /// Its live tasks: calls served and made.
  public let tasks: TaskGauge
  private let environment: MeshEnvironment
  private let clientsByService: [ServiceName: GovernedClient]
  private let faultKey: String
  private let logger: Logger
  private let serverMetrics: MetricsMiddleware
  /// The ports of the last incarnation, reused by the next.
  private let ports: Ports

  /// Retries of a downstream call on another instance, for errors that are safe to retry.
  public static let downstreamRetries = 1

  /// A node for `instance` of `mesh`, listening on `port` and `adminPort` (0: free ones).
  ///
  /// - Throws: ``MeshRuntimeError`` when the mesh has no such service.
  public init(
    mesh: MeshDescription,
    instance: MeshInstance,
    environment: MeshEnvironment,
    port: Int = 0,
    adminPort: Int = 0
  ) throws {
    guard let service = mesh.service(named: instance.service) else {
      throw MeshRuntimeError("the mesh '\(mesh.name)' has no service '\(instance.service)'")
    }
    self.instance = instance
    self.service = service
    self.environment = environment
    self.faultKey = InstanceFault.key(of: instance)
    self.logger = environment.logger("skein.node.\(instance)")
    let aggregator = MetricsAggregator()
    let tasks = TaskGauge()
    self.aggregator = aggregator
    self.tasks = tasks
    self.serverMetrics = MetricsMiddleware(side: .server, factory: aggregator, tasks: tasks)
    let caller = ServiceIdentity(name: instance.service, cluster: instance.cluster)
    let downstream = Set(
      service.methods.flatMap { $0.calls.flatMap(\.calls).map(\.target.service) }
    )
    var clients: [ServiceName: GovernedClient] = [:]
    for target in downstream.sorted() {
      clients[target] = GovernedClient(
        caller: caller,
        target: target,
        registry: environment.registry,
        state: environment.state,
        middleware: [MetricsMiddleware(side: .client, factory: aggregator, tasks: tasks)],
        tuning: { $0.retries = MeshNode.downstreamRetries },
        onEvent: { [logger] event in logger.notice("\(event)") }
      )
    }
    self.clientsByService = clients
    self.clients = clients.keys.sorted().compactMap { clients[$0] }
    self.ports = Ports(rpc: port, admin: adminPort)
  }

  /// Runs the node until the task is cancelled: follows its callees in the registry, and
  /// serves while its fault key does not say `down`.
  public func run() async {
    await withDiscardingTaskGroup { group in
      // Background work counts among the node's live tasks, beside the calls.
      for client in clients { group.addTask { await self.tasks.track { await client.run() } } }
      await serveWhileUp()
      group.cancelAll()
    }
    for client in clients { await client.shutdown() }
  }

  /// Starts an incarnation whenever the node should be up and none runs; ends it when the
  /// fault key says `down`. On a graceful shutdown the incarnation, which inherits it,
  /// deregisters and drains; this waits for that.
  private func serveWhileUp() async {
    var incarnation: Task<Void, Never>?
    while !Task.isCancelled {
      if Task.isShuttingDownGracefully {
        await incarnation?.value
        return
      }
      let down = environment.faults.fault(faultKey).down == true
      if down, let running = incarnation {
        logger.warning("killed by its fault key: closing the server, letting the lease lapse")
        running.cancel()
        await running.value
        incarnation = nil
      } else if !down, incarnation == nil || incarnation?.isCancelled == true {
        do {
          incarnation = try await startIncarnation()
        } catch {
          logger.error("cannot start: \(error); trying again")
        }
      }
      try? await Task.sleep(for: FaultBook.pollInterval)
    }
    incarnation?.cancel()
    await incarnation?.value
  }

  /// Binds the server and admin endpoint, registers, and serves until cancelled.
  private func startIncarnation() async throws -> Task<Void, Never> {
    let server = try await bindServer()
    let admin: AdminServer
    do {
      admin = try await bindAdmin(server.localAddress)
    } catch {
      // Nothing runs the server yet: closing it is running it cancelled.
      let closing = Task { try? await server.run() }
      closing.cancel()
      await closing.value
      throw error
    }
    ports.remember(rpc: server.localAddress.port, admin: admin.localAddress.port)
    let registration = try await environment.registry.register(
      ServiceInstance(
        service: instance.service,
        cluster: instance.cluster,
        address: server.localAddress,
        id: String(instance.index),
        weight: instance.weight,
        admin: admin.localAddress
      ),
      ttl: environment.registrationTTL
    )
    logger.info(
      "serving \(service.idl.service) on \(server.localAddress), admin on \(admin.localAddress)"
    )
    return Task {
      await withDiscardingTaskGroup { group in
        group.addTask { await self.tasks.track { try? await server.run() } }
        group.addTask { await self.tasks.track { try? await admin.run() } }
        group.addTask { await self.tasks.track { await registration.run() } }
      }
    }
  }

  private func bindServer() async throws -> RPCServer<SimulatedService> {
    let service = self.service
    let simulated = SimulatedService(
      idlServiceName: service.idl.service,
      methods: Set(service.methods.map(\.name))
    ) { [self] name, _ in try await self.handle(name) }
    return try await Self.bindPreferring(ports.rpc) { port in
      try await RPCServer.bind(
        simulated,
        configuration: .init(
          host: environment.host,
          port: port,
          identity: ServiceIdentity(name: instance.service, cluster: instance.cluster)
        ),
        // Metrics outside access control, so a node counts the calls it refused too.
        middleware: [serverMetrics, AccessControlMiddleware(policy: environment.access)],
        logger: logger
      )
    }
  }

  private func bindAdmin(_ address: InstanceAddress) async throws -> AdminServer {
    let snapshotter = Snapshotter(
      identity: .init(
        service: instance.service.rawValue,
        cluster: instance.cluster.rawValue,
        instance: String(instance.index),
        address: address
      ),
      aggregator: aggregator,
      tasks: tasks,
      governance: GovernanceView(state: environment.state, clients: clients).view
    )
    return try await Self.bindPreferring(ports.admin) { port in
      try await AdminServer.bind(
        snapshotter: snapshotter,
        configuration: .init(
          host: environment.host,
          port: port,
          allowNonLoopback: environment.adminToken != nil,
          token: environment.adminToken
        )
      )
    }
  }

  /// Binds on `port`, or on a free port when it is taken (a restarted node whose old port
  /// another process took meanwhile).
  private static func bindPreferring<T>(_ port: Int, _ bind: (Int) async throws -> T)
    async throws -> T
  {
    guard port != 0 else { return try await bind(0) }
    do {
      return try await bind(port)
    } catch {
      return try await bind(0)
    }
  }

  /// One call of `name`: the fault in force, the method's own work, then its downstream
  /// calls, step by step.
  private func handle(_ name: String) async throws -> SimulatedResult {
    guard let method = service.method(named: name) else {
      throw MeshRuntimeError("no method '\(name)'")
    }
    let fault = environment.faults.fault(faultKey)
    if fault.partitioned == true {
      // A partitioned node never answers: the caller's deadline ends the call, as it would
      // across a dead network link.
      let wait = CallContext.current?.remaining() ?? .seconds(60)
      try await Task.sleep(for: wait + .seconds(1))
      throw MeshRuntimeError("partitioned")
    }
    var random = SystemRandomNumberGenerator()
    SimulatedWork.burn(
      microseconds: Int(Double(method.work.cpuMicroseconds) * environment.cpuScale)
    )
    let added = Duration.milliseconds(fault.latencyMilliseconds ?? 0)
    try await Task.sleep(for: method.work.latency.sample(using: &random) + added)
    let errorRate = max(method.work.errorRate, fault.errorRate ?? 0)
    if errorRate > 0, Double.random(in: 0..<1, using: &random) < errorRate {
      logger.warning("simulated failure of \(service.name).\(name)")
      throw MeshRuntimeError("simulated failure of \(service.name).\(name)")
    }
    for step in method.calls {
      switch step {
      case .call(let call):
        try await self.call(call)
      case .parallel(let calls):
        try await withThrowingTaskGroup(of: Void.self) { group in
          for call in calls { group.addTask { try await self.call(call) } }
          try await group.waitForAll()
        }
      }
    }
    let logID = CallContext.current?.logID ?? ""
    return SimulatedResult(success: ThriftBaseResp(extra: ["log_id": logID]))
  }

  /// One downstream call, within the call's timeout and the incoming deadline. A degraded
  /// callee is what degradation is for: the node answers without that part.
  private func call(_ call: MeshCall) async throws {
    guard let client = clientsByService[call.target.service] else { return }
    var context = CallContext.current
    if let milliseconds = call.timeoutMilliseconds, let incoming = context {
      let own = ContinuousClock.now + .milliseconds(milliseconds)
      context?.deadline = min(incoming.deadline ?? own, own)
    }
    do {
      _ = try await CallContext.$current.withValue(context) {
        try await client.invoke(SimulatedMethod.self, named: call.target.method, args: .init())
      }
    } catch let error as RPCError where error.code == .degraded {
      logger.debug("\(call.target) degraded; answering without it")
    } catch {
      logger.warning("call to \(call.target) failed: \(error)")
      throw error
    }
  }

  /// The ports of the last incarnation.
  private final class Ports: Sendable {
    private let state: Mutex<(rpc: Int, admin: Int)>
    init(rpc: Int, admin: Int) { state = Mutex((rpc, admin)) }
    var rpc: Int { state.withLock { $0.rpc } }
    var admin: Int { state.withLock { $0.admin } }
    func remember(rpc: Int, admin: Int) { state.withLock { $0 = (rpc, admin) } }
  }
}

extension SimulatedWork {
  /// Keeps the thread busy for `microseconds`: CPU a handler spends, which contends with the
  /// runtime for the same cores, as a real handler's would.
  static func burn(microseconds: Int) {
    guard microseconds > 0 else { return }
    let end = ContinuousClock.now + .microseconds(microseconds)
    while ContinuousClock.now < end {}
  }
}

/// A mesh that cannot run as asked, and why.
public struct MeshRuntimeError: Error, CustomStringConvertible {
  /// What is wrong.
  public let description: String

  /// Creates the error.
  public init(_ description: String) { self.description = description }
}
