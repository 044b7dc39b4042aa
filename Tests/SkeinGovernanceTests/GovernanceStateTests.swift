import SkeinGovernance
import SkeinRPC
import SkeinThrift
import Synchronization
import Testing

/// Events a GovernanceState reported.
final class EventLog: Sendable {
  let events = Mutex<[GovernanceEvent]>([])
}

/// Waits up to two seconds for `condition`.
func eventually(_ condition: () -> Bool) async throws -> Bool {
  let deadline = ContinuousClock.now + .seconds(2)
  while !condition() {
    if ContinuousClock.now > deadline { return false }
    try await Task.sleep(for: .milliseconds(5))
  }
  return true
}

@Suite struct GovernanceStateTests {
  let route = try! FiveTuple(path: "/gateway/c1/example/c2/Visit")

  @Test("switches in the store are in force, changes follow, deletes clear")
  func followsTheStore() async throws {
    let store = MemoryConfigStore()
    let all = try RoutePattern(path: "/*/*/example/*/*")
    try await store.put(GovernanceSwitch.traffic.key(for: all), #"{"c1":80,"c2":20}"#)
    let state = GovernanceState(store: store)
    let running = Task { await state.run() }
    #expect(try await eventually { state.trafficWeights(route) == ["c1": 80, "c2": 20] })
    #expect(!state.isDegraded(route))
    try await store.put(GovernanceSwitch.degrade.key(for: RoutePattern(route)), #"{"on":true}"#)
    #expect(try await eventually { state.isDegraded(route) })
    try await store.put(
      GovernanceSwitch.config.key(for: all),
      #"{"timeout_ms":250,"balancer":"p2c","breaker":{"failure_rate":0.3}}"#
    )
    #expect(try await eventually { state.config(route).timeoutMilliseconds == 250 })
    #expect(state.config(route).balancer == "p2c")
    #expect(state.config(route).breaker?.failureRate == 0.3)
    try await store.delete(GovernanceSwitch.degrade.key(for: RoutePattern(route)))
    #expect(try await eventually { !state.isDegraded(route) })
    running.cancel()
  }

  @Test("a malformed value is reported and the last good one stays in force")
  func malformed() async throws {
    let store = MemoryConfigStore()
    let log = EventLog()
    let state = GovernanceState(store: store) { event in log.events.withLock { $0.append(event) } }
    let running = Task { await state.run() }
    let key = GovernanceSwitch.traffic.key(for: RoutePattern(route))
    try await store.put(key, #"{"c1":100}"#)
    #expect(try await eventually { state.trafficWeights(route) == ["c1": 100] })
    for bad in [#"{"c1":"lots"}"#, "not json", #"{"C1":10}"#, #"{"c1":0}"#] {
      try await store.put(key, bad)
    }
    #expect(try await eventually { log.events.withLock { $0.count } == 4 })
    #expect(state.trafficWeights(route) == ["c1": 100])
    #expect(
      log.events.withLock { $0 }.allSatisfy {
        $0.key == key && $0.message.contains("the last good value stays")
      }
    )
    running.cancel()
  }

  @Test("a degraded route fails fast with the degraded code, without the network")
  func degradeMiddleware() async throws {
    let store = MemoryConfigStore()
    let state = GovernanceState(store: store)
    let running = Task { await state.run() }
    try await store.put(GovernanceSwitch.degrade.key(for: RoutePattern(route)), #"{"on":true}"#)
    #expect(try await eventually { state.isDegraded(route) })
    let reached = Mutex(false)
    let endpoint = MiddlewareChain([DegradeMiddleware(state: state)]).wrap(
      Endpoint<ProbeMethod> { _, _ in
        reached.withLock { $0 = true }
        return ThriftOnewayResult()
      }
    )
    do {
      _ = try await endpoint(CallContext(route: route, logID: "x"), ProbeArgs())
      Issue.record("a degraded call went through")
    } catch let error as RPCError {
      #expect(error.code == .degraded)
    }
    #expect(!reached.withLock { $0 })

    // With a fallback registered for the method, the degraded call gets its answer instead.
    var fallbacks = DegradeFallbacks()
    let fellBack = Mutex(0)
    fallbacks.register(ProbeMethod.self) { context, _ in
      #expect(context.route == route)
      fellBack.withLock { $0 += 1 }
      return ThriftOnewayResult()
    }
    let withFallback = MiddlewareChain([DegradeMiddleware(state: state, fallbacks: fallbacks)])
      .wrap(
        Endpoint<ProbeMethod> { _, _ in
          reached.withLock { $0 = true }
          return ThriftOnewayResult()
        }
      )
    _ = try await withFallback(CallContext(route: route, logID: "x"), ProbeArgs())
    #expect(fellBack.withLock { $0 } == 1)
    #expect(!reached.withLock { $0 }, "the network is still not touched")
    running.cancel()
  }
}

/// A method for driving a middleware without generated code.
enum ProbeMethod: ThriftMethod {
  typealias Args = ProbeArgs
  typealias Result = ThriftOnewayResult
  static var serviceName: String { "Probe" }
  static var name: String { "Visit" }
  static var isOneway: Bool { true }
}

struct ProbeArgs: ThriftArgs {
  init() {}
  init(from reader: inout ThriftBinaryReader) throws { try reader.skip(.struct) }
  func write(to writer: inout ThriftBinaryWriter) { writer.writeFieldStop() }
}
