import GRPCCore
import GRPCEchoSupport
import GRPCNIOTransportHTTP2
import NIOCore
import Synchronization

/// A cross-check of the gRPC figures: the same gRPC server driven by grpc-swift-2's own client
/// (`GRPCClient` over its HTTP/2 Posix transport) instead of the load client's raw HTTP/2
/// connections. It runs one Swift task per call in flight, so it costs the machine more CPU
/// than the event-loop client: its QPS is a floor, not the server's ceiling.
enum GRPCSwiftClientLoad {
  /// What the call tasks share.
  private struct State {
    var phase = LoadRun.Phase.warmingUp
    var latencies: [UInt64] = []
    var errors = 0
    var firstError: String?
  }

  /// ``State`` behind a lock, shared by reference with the call tasks.
  private final class SharedState: Sendable {
    let mutex = Mutex(State())
    func withLock<R>(_ body: (inout State) -> R) -> R { mutex.withLock { body(&$0) } }
  }

  /// Warms up, measures for `seconds` and returns the figures, like ``LoadClient/run``.
  static func run(
    port: Int,
    serverPID: Int32,
    concurrency: Int,
    payload: Int,
    warmup: Double,
    seconds: Double,
    eventLoopGroup: any EventLoopGroup
  ) async throws -> RunResult {
    let name = (0..<payload).map { UInt8(97 + $0 % 26) }
    let expected = GRPCEcho.greeting + name
    let state = SharedState()
    let transport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: "127.0.0.1", port: port),
      transportSecurity: .plaintext,
      eventLoopGroup: eventLoopGroup
    )
    var result = RunResult(concurrency: concurrency)
    result.connections = 1
    try await withGRPCClient(transport: transport) { client in
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
          group.addTask {
            while state.withLock({ $0.phase != .draining }) {
              let start = monotonicNanoseconds()
              do {
                let reply = try await client.unary(
                  request: ClientRequest(message: name),
                  descriptor: GRPCEcho.visit,
                  serializer: RawBytesSerializer(),
                  deserializer: RawBytesDeserializer(),
                  options: .defaults
                ) { try $0.message }
                let latency = monotonicNanoseconds() &- start
                guard reply == expected else { throw LoadError("wrong reply bytes") }
                state.withLock {
                  if $0.phase == .measuring { $0.latencies.append(latency) }
                }
              } catch {
                state.withLock {
                  $0.errors += 1
                  if $0.firstError == nil { $0.firstError = "\(error)" }
                }
              }
            }
          }
        }
        try await Task.sleep(for: .seconds(warmup))
        let serverStart = ProcessStats.cpuSeconds(String(serverPID))
        let clientStart = ProcessStats.cpuSeconds("self")
        let machineStart = ProcessStats.machineBusySeconds()
        let windowStart = monotonicNanoseconds()
        state.withLock {
          $0.latencies.removeAll(keepingCapacity: true)
          $0.phase = .measuring
        }
        try await Task.sleep(for: .seconds(seconds))
        var latencies = state.withLock {
          $0.phase = .draining
          return $0.latencies
        }
        let window = Double(monotonicNanoseconds() &- windowStart) / 1e9
        if let start = serverStart, let end = ProcessStats.cpuSeconds(String(serverPID)) {
          result.serverCPU = (end - start) / window * 100
        }
        if let start = clientStart, let end = ProcessStats.cpuSeconds("self") {
          result.clientCPU = (end - start) / window * 100
        }
        if let start = machineStart, let end = ProcessStats.machineBusySeconds() {
          result.machineCPU = (end - start) / window * 100
        }
        result.serverRSSKiB = ProcessStats.residentKiB(String(serverPID))
        result.windowSeconds = window
        result.qps = Double(latencies.count) / window
        result.latency = LatencySummary(sorting: &latencies)
        try await group.waitForAll()
      }
      client.beginGracefulShutdown()
    }
    let errors = state.withLock { ($0.errors, $0.firstError) }
    result.errors = errors.0
    result.firstError = errors.1
    return result
  }
}
