import ArgumentParser
import Foundation
import SkeinDemoIDL
import SkeinGovernance
import SkeinRPC
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// How long a degrade switch takes to reach a mesh: callers each with their own store client,
/// governance state and RPC client (degrade middleware first) call a real server in a loop; a
/// separate store client flips the switch on and off, and each flip is timed until every
/// caller's calls obey it (fail with `degraded`, or succeed again).
///
/// The time runs from just before the write to the completion of the last caller's first
/// obeying call, so it covers the write, the store's watch, each caller's governance state and
/// the next call through the middleware: what a person flipping a switch waits for.
struct PropagationBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "propagation",
    abstract: "Degrade-switch propagation to every caller of a mesh: embedded store vs etcd.",
    discussion: """
      --store memory serves an embedded store (ConfigStoreServer) in this process; --store etcd \
      starts a real etcd (from PATH, or --etcd) on free loopback ports in a temporary \
      directory. Every caller talks to the store over loopback HTTP with its own client.

      Example:
        skein-bench propagation --store memory --store etcd --callers 10 --flips 20
      """
  )

  /// Which store carries the switch.
  enum StoreKind: String, ExpressibleByArgument, CaseIterable {
    case memory
    case etcd

    /// The p99 the issue sets as the goal, in milliseconds.
    var targetMilliseconds: Double { self == .memory ? 100 : 500 }
  }

  @Option(help: "The store to measure (memory or etcd); repeat for both. Default: both.")
  var store: [StoreKind] = []

  @Option(help: "Callers in the mesh.")
  var callers = 10

  @Option(help: "Flips of the switch (on, off, on, …).")
  var flips = 20

  @Option(help: "Milliseconds each caller waits between calls.")
  var callIntervalMs = 1

  @Option(help: "Milliseconds between one flip obeyed everywhere and the next.")
  var pauseMs = 50

  @Option(help: "The etcd executable (default: etcd on PATH).")
  var etcd: String?

  func validate() throws {
    guard callers >= 1 else { throw ValidationError("--callers must be at least 1.") }
    guard flips >= 1 else { throw ValidationError("--flips must be at least 1.") }
    guard callIntervalMs >= 0, pauseMs >= 0 else {
      throw ValidationError("--call-interval-ms and --pause-ms cannot be negative.")
    }
  }

  func run() async throws {
    let stores = store.isEmpty ? StoreKind.allCases : store
    print(
      "Propagation: \(callers) callers, \(flips) flips of \(Self.switchPath)'s degrade switch, "
        + "a call every \(callIntervalMs) ms per caller"
    )
    print("store    p50 ms   p99 ms   max ms   target p99")
    for kind in stores {
      let samples = try await measure(kind)
      var nanoseconds = samples.map(\.nanoseconds)
      let summary = LatencySummary(sorting: &nanoseconds)
      let p99 = Double(summary.p99) / 1e6
      print(
        kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
          + padded(fixed(Double(summary.p50) / 1e6, 1), 9)
          + padded(fixed(p99, 1), 9)
          + padded(fixed(Double(summary.max) / 1e6, 1), 9)
          + "   < \(fixed(kind.targetMilliseconds, 0)) ms: "
          + (p99 < kind.targetMilliseconds ? "met" : "MISSED")
      )
    }
  }

  /// The route pattern the benchmark degrades: every caller's calls to example's Visit.
  static let switchPath = "/*/*/example/*/Visit"

  /// Runs the mesh against one store and returns each flip's propagation time.
  func measure(_ kind: StoreKind) async throws -> [Duration] {
    let host = try await StoreHost.start(kind, etcd: etcd)
    defer { host.stop() }
    let server = try await RPCServer.bind(
      ExampleServiceProcessor(OKHandler()),
      configuration: .init(port: 0, identity: ServiceIdentity(name: try ServiceName("example")))
    )
    let serving = Task { try await server.run() }
    defer { serving.cancel() }

    let observer = Observer(callers: callers)
    let mesh = try (0..<callers).map { index in
      try Caller(index: index, endpoint: host.endpoint, server: server.localAddress)
    }
    let controller = EtcdConfigStore(endpoint: host.endpoint)
    let key = GovernanceSwitch.degrade.key(for: try RoutePattern(path: Self.switchPath))
    let interval = Duration.milliseconds(callIntervalMs)
    return try await withThrowingTaskGroup(of: Void.self) { group in
      for caller in mesh {
        group.addTask { await caller.state.run() }
        group.addTask { await caller.callForever(every: interval, reportingTo: observer) }
      }
      defer { group.cancelAll() }
      // Every caller must be calling, undegraded, before the first flip.
      try await observer.waitUntilAll(obey: false, timeout: .seconds(10))
      var samples: [Duration] = []
      for flip in 0..<flips {
        let on = flip % 2 == 0
        let start = ContinuousClock.now
        observer.expect(on)
        try await controller.put(key, #"{"on":\#(on)}"#)
        let obeyed = try await observer.waitUntilAll(obey: on, timeout: .seconds(10))
        samples.append(obeyed - start)
        try await Task.sleep(for: .milliseconds(pauseMs))
      }
      try await controller.delete(key)
      try await controller.shutdown()
      for caller in mesh { await caller.shutdown() }
      return samples
    }
  }
}

/// Answers every Visit at once: the benchmark measures the switch, not the handler.
private struct OKHandler: ExampleService {
  func visit(req: ExampleRequest) async throws -> ExampleResponse {
    ExampleResponse(resp: "ok")
  }
}

/// One caller of the mesh: its own store client, governance state, and RPC client with the
/// degrade middleware in front.
private struct Caller: Sendable {
  let index: Int
  let store: EtcdConfigStore
  let state: GovernanceState
  let client: RPCClient

  init(index: Int, endpoint: String, server: InstanceAddress) throws {
    self.index = index
    store = EtcdConfigStore(endpoint: endpoint)
    state = GovernanceState(store: store)
    client = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("caller-\(index)")),
        target: ServiceIdentity(name: try ServiceName("example")),
        instances: [server]
      ),
      middleware: [DegradeMiddleware(state: state)]
    )
  }

  /// Calls until cancelled, telling `observer` whether each call was degraded.
  func callForever(every interval: Duration, reportingTo observer: Observer) async {
    let service = ExampleServiceClient(client)
    let request = ExampleRequest(name: "propagation")
    while !Task.isCancelled {
      do {
        _ = try await service.visit(req: request)
        observer.report(caller: index, degraded: false)
      } catch let error as RPCError where error.code == .degraded {
        observer.report(caller: index, degraded: true)
      } catch {
        // Another failure says nothing about the switch.
      }
      if interval > .zero { try? await Task.sleep(for: interval) }
    }
  }

  func shutdown() async {
    await client.shutdown()
    try? await store.shutdown()
  }
}

/// What each caller's calls did since the switch last changed.
private final class Observer: Sendable {
  private struct State {
    var expected = false
    /// When each caller's first call obeying `expected` completed; `nil` until it did.
    var obeyedAt: [ContinuousClock.Instant?]
  }

  private let state: Mutex<State>

  init(callers: Int) {
    state = Mutex(State(obeyedAt: Array(repeating: nil, count: callers)))
  }

  /// Starts a flip: from now on, callers obey when their calls match `degraded`.
  func expect(_ degraded: Bool) {
    state.withLock { state in
      state.expected = degraded
      state.obeyedAt = Array(repeating: nil, count: state.obeyedAt.count)
    }
  }

  func report(caller: Int, degraded: Bool) {
    let now = ContinuousClock.now
    state.withLock { state in
      if degraded == state.expected {
        if state.obeyedAt[caller] == nil { state.obeyedAt[caller] = now }
      } else {
        // A caller that went back on the switch has not obeyed yet.
        state.obeyedAt[caller] = nil
      }
    }
  }

  /// Waits (up to `timeout`) until every caller's calls obey `degraded` and returns when the
  /// last one first did.
  @discardableResult
  func waitUntilAll(obey degraded: Bool, timeout: Duration) async throws
    -> ContinuousClock.Instant
  {
    let deadline = ContinuousClock.now + timeout
    while true {
      let last = state.withLock { state -> ContinuousClock.Instant? in
        guard state.expected == degraded else { return nil }
        let times = state.obeyedAt.compactMap { $0 }
        return times.count == state.obeyedAt.count ? times.max() : nil
      }
      if let last { return last }
      guard ContinuousClock.now < deadline else {
        throw PeerError("not every caller obeyed degrade=\(degraded) within \(timeout)")
      }
      try await Task.sleep(for: .microseconds(200))
    }
  }
}

/// The store the switch lives in, started for the run and stopped after it.
private final class StoreHost {
  /// The HTTP endpoint every store client talks to.
  let endpoint: String
  private let stopping: () -> Void

  private init(endpoint: String, stop: @escaping () -> Void) {
    self.endpoint = endpoint
    self.stopping = stop
  }

  func stop() { stopping() }

  static func start(_ kind: PropagationBenchmark.StoreKind, etcd: String?) async throws
    -> StoreHost
  {
    switch kind {
    case .memory:
      let server = try await ConfigStoreServer.bind()
      let serving = Task { try await server.run() }
      return StoreHost(endpoint: server.url.endpoint, stop: { serving.cancel() })
    case .etcd:
      return try await startEtcd(executable: etcd)
    }
  }

  /// One etcd node on free loopback ports with a temporary data directory, removed on stop.
  private static func startEtcd(executable: String?) async throws -> StoreHost {
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let found = searchPath.split(separator: ":").map { "\($0)/etcd" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
    guard let path = executable ?? found else {
      throw PeerError("etcd is not on PATH; pass --etcd")
    }
    let directory = NSTemporaryDirectory() + "skein-bench-etcd-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let clientPort = try freeLoopbackPort()
    let client = "http://127.0.0.1:\(clientPort)"
    let peer = "http://127.0.0.1:\(try freeLoopbackPort())"
    let process = try ServerProcess(
      name: "etcd",
      executable: path,
      arguments: [
        "--name", "default", "--data-dir", directory + "/data",
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "default=\(peer)",
      ]
    )
    let host = StoreHost(endpoint: client) {
      process.stop()
      try? FileManager.default.removeItem(atPath: directory)
    }
    do {
      try process.waitUntilListening(port: clientPort, timeout: 20)
      // Listening is not serving yet: wait until a read succeeds.
      let probe = EtcdConfigStore(endpoint: client)
      let deadline = ContinuousClock.now + .seconds(20)
      while (try? await probe.list(prefix: "/")) == nil, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
      }
      let serving = (try? await probe.list(prefix: "/")) != nil
      try await probe.shutdown()
      guard serving else {
        throw PeerError("etcd at \(client) did not serve: \(process.logTail())")
      }
    } catch {
      host.stop()
      throw error
    }
    return host
  }
}

extension Duration {
  /// Whole nanoseconds, for ``LatencySummary``.
  fileprivate var nanoseconds: UInt64 {
    UInt64(components.seconds) * 1_000_000_000 + UInt64(components.attoseconds / 1_000_000_000)
  }
}
