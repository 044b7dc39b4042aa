import ServiceLifecycle
public import SkeinGovernance
public import SkeinMetrics
import SkeinRPC
import Synchronization

/// The mesh's edge: calls its entry methods at a rate and in a shape, open-loop — each call
/// starts on schedule whatever the mesh answers, so a slow mesh shows up as latency and
/// errors, never as quietly lower load.
///
/// Every call it starts ends counted: a success, an error by kind, or shed (not started
/// because ``maxInFlight`` calls were already waiting). ``report`` adds up.
public final class LoadGenerator: Sendable {
  /// The profile it runs: the caller's name, rate, shape and mix.
  public let profile: LoadProfile
  /// Its instance name under the caller's service, for its registration and snapshots.
  public let instance: String
  /// The edge's metrics, as a node's (its calls are the client side of the edge routes).
  public let aggregator: MetricsAggregator
  /// Its live calls.
  public let tasks: TaskGauge
  /// Its clients, one per target service and timeout.
  public let clients: [GovernedClient]
  /// Calls in flight beyond which new ones are shed instead of started.
  public let maxInFlight: Int
  private let targets: [Target]
  private let counts = Mutex(LoadCounts())
  private let rate: Mutex<Double>
  private let stopped = Atomic<Bool>(false)

  /// The default bound on calls in flight: far above what the default mesh needs, low enough
  /// that a dead mesh cannot pile up unbounded tasks.
  public static let defaultMaxInFlight = 10_000
  /// How long the generator waits for its callees to register before it starts anyway.
  public static let startupWait = Duration.seconds(5)
  /// How often the generator starts the calls that are due.
  public static let tick = Duration.milliseconds(5)

  private struct Target: Sendable {
    var call: MeshCall
    var weight: Int
    var client: GovernedClient
  }

  /// A generator for `profile`, calling through `environment`'s registry and switches, named
  /// `instance` (generators sharing a registry need different names).
  public init(
    profile: LoadProfile,
    environment: MeshEnvironment,
    instance: String = "0",
    maxInFlight: Int = LoadGenerator.defaultMaxInFlight
  ) {
    self.profile = profile
    self.instance = instance
    self.maxInFlight = max(1, maxInFlight)
    self.rate = Mutex(profile.rate)
    let aggregator = MetricsAggregator()
    let tasks = TaskGauge()
    self.aggregator = aggregator
    self.tasks = tasks
    let caller = ServiceIdentity(name: profile.caller, cluster: .default)
    // One client per callee and timeout: a client's timeout is its calls' budget.
    var clients: [String: GovernedClient] = [:]
    var targets: [Target] = []
    for target in profile.mix {
      let timeout = target.call.timeoutMilliseconds.map { Duration.milliseconds($0) }
      let key = "\(target.call.target.service) \(target.call.timeoutMilliseconds ?? 0)"
      let client =
        clients[key]
        ?? GovernedClient(
          caller: caller,
          target: target.call.target.service,
          registry: environment.registry,
          state: environment.state,
          middleware: [MetricsMiddleware(side: .client, factory: aggregator, tasks: tasks)],
          tuning: { configuration in
            if let timeout { configuration.timeout = timeout }
            configuration.retries = MeshNode.downstreamRetries
          }
        )
      clients[key] = client
      targets.append(Target(call: target.call, weight: target.weight, client: client))
    }
    self.targets = targets
    self.clients = clients.keys.sorted().compactMap { clients[$0] }
  }

  /// The full rate now, in calls per second; the shape scales it.
  public var fullRate: Double {
    get { rate.withLock { $0 } }
    set { rate.withLock { $0 = max(0, newValue) } }
  }

  /// Ends the run: no call starts after this; the calls in flight finish.
  public func stop() { stopped.store(true, ordering: .relaxed) }

  /// What the generator did so far.
  public var report: LoadCounts { counts.withLock { $0 } }

  /// Follows the callees in the registry and starts calls on schedule until ``stop()``, a
  /// graceful shutdown or cancellation, then waits for the calls in flight to end.
  public func run() async {
    await withDiscardingTaskGroup { group in
      for client in clients { group.addTask { await client.run() } }
      await waitForInstances()
      await withDiscardingTaskGroup { calls in
        await generate(into: &calls)
      }
      group.cancelAll()
    }
    for client in clients { await client.shutdown() }
  }

  /// Waits until every callee has instances, for at most ``startupWait``: a mesh that is
  /// still registering would otherwise greet the first calls with `no_instance`.
  private func waitForInstances() async {
    let deadline = ContinuousClock.now + Self.startupWait
    while clients.contains(where: \.clusters.isEmpty), ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  private func generate(into calls: inout DiscardingTaskGroup) async {
    let started = ContinuousClock.now
    var last = started
    var due = 0.0
    var random = SystemRandomNumberGenerator()
    let totalWeight = targets.reduce(0) { $0 + $1.weight }
    guard totalWeight > 0 else { return }
    while !Task.isCancelled, !Task.isShuttingDownGracefully, !stopped.load(ordering: .relaxed) {
      let now = ContinuousClock.now
      let elapsed = Double((now - started).nanoseconds) / 1e9
      let step = Double((now - last).nanoseconds) / 1e9
      last = now
      due += profile.shape.factor(atSecond: elapsed) * fullRate * step
      while due >= 1 {
        due -= 1
        var point = Int.random(in: 0..<totalWeight, using: &random)
        guard
          let target = targets.first(where: {
            point -= $0.weight; return point < 0
          })
        else {
          continue
        }
        guard admit() else { continue }
        calls.addTask { await self.call(target) }
      }
      try? await Task.sleep(for: Self.tick)
    }
  }

  /// Counts a call as started, or as shed when too many are in flight.
  private func admit() -> Bool {
    counts.withLock { counts in
      guard counts.inFlight < maxInFlight else {
        counts.shed += 1
        return false
      }
      counts.started += 1
      return true
    }
  }

  private func call(_ target: Target) async {
    let began = ContinuousClock.now
    var failure: String?
    do {
      _ = try await target.client.invoke(
        SimulatedMethod.self,
        named: target.call.target.method,
        args: .init()
      )
    } catch {
      failure = (error as? RPCError)?.code.name ?? "other"
    }
    let took = ContinuousClock.now - began
    counts.withLock { counts in
      if let failure {
        counts.failed[failure, default: 0] += 1
      } else {
        counts.succeeded += 1
      }
      counts.note(took)
    }
  }
}

/// What a ``LoadGenerator`` did: every call it was due to make is in exactly one count.
public struct LoadCounts: Sendable, Hashable, Codable {
  /// Calls started.
  public var started = 0
  /// Calls that got an answer.
  public var succeeded = 0
  /// Calls that failed, by error kind (`timeout`, `connect_failed`, …).
  public var failed: [String: Int] = [:]
  /// Calls due but not started because too many were in flight.
  public var shed = 0
  /// The longest any call took to end, success or error, in milliseconds: what shows a call
  /// that hung past its deadline.
  public var slowestMilliseconds = 0.0

  enum CodingKeys: String, CodingKey {
    case started, succeeded, failed, shed
    case slowestMilliseconds = "slowest_ms"
  }

  /// Creates counts.
  public init(
    started: Int = 0,
    succeeded: Int = 0,
    failed: [String: Int] = [:],
    shed: Int = 0,
    slowestMilliseconds: Double = 0
  ) {
    self.started = started
    self.succeeded = succeeded
    self.failed = failed
    self.shed = shed
    self.slowestMilliseconds = slowestMilliseconds
  }

  /// Reads counts; reports from before `slowest_ms` read as 0 there.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    started = try container.decode(Int.self, forKey: .started)
    succeeded = try container.decode(Int.self, forKey: .succeeded)
    failed = try container.decode([String: Int].self, forKey: .failed)
    shed = try container.decode(Int.self, forKey: .shed)
    slowestMilliseconds =
      try container.decodeIfPresent(Double.self, forKey: .slowestMilliseconds) ?? 0
  }

  mutating func note(_ took: Duration) {
    slowestMilliseconds = max(slowestMilliseconds, Double(took.nanoseconds) / 1e6)
  }

  /// Calls that failed, of any kind.
  public var failures: Int { failed.values.reduce(0, +) }

  /// Calls started that have not ended yet.
  public var inFlight: Int { started - succeeded - failures }

  /// `N calls started, N succeeded, N failed (kind=N, …), N shed, slowest N ms`.
  public var summary: String {
    let kinds = failed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return "\(started) calls started, \(succeeded) succeeded, \(failures) failed"
      + (kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))") + ", \(shed) shed"
      + ", slowest \(Int(slowestMilliseconds.rounded())) ms"
  }
}
