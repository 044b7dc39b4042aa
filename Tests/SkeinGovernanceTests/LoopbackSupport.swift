import SkeinGovernance
import SkeinRPC
import SkeinTestSupport
import SkeinThrift
import Synchronization
import Testing

// A one-method service written by hand (this target has no build plugin): `Echo` answers with
// the tag of the server that ran it, after an optional delay, or fails when asked to.

/// `Echo`'s descriptor.
enum EchoMethod: ThriftMethod {
  typealias Args = EchoArgs
  typealias Result = EchoResult
  static var serviceName: String { "Echo" }
  static var name: String { "Echo" }
  static var isOneway: Bool { false }
}

/// `Echo`'s arguments: `1: i32 delayMs, 2: bool fail, 255: Base`. The `Base` sits in the
/// arguments themselves (not in a request struct, as the IDL's would), which is enough for the
/// client to fill the caller in and the server to read it (access control needs it).
struct EchoArgs: ThriftArgs {
  var delayMs: Int32 = 0
  var fail = false
  var requestBase: ThriftBase?

  init(delayMs: Int32 = 0, fail: Bool = false) {
    self.delayMs = delayMs
    self.fail = fail
  }

  init(from reader: inout ThriftBinaryReader) throws {
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .i32): delayMs = try reader.readI32()
      case (2, .bool): fail = try reader.readBool()
      case (255, .struct): requestBase = try ThriftBase(from: &reader)
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.i32, id: 1)
    writer.writeI32(delayMs)
    writer.writeFieldBegin(.bool, id: 2)
    writer.writeBool(fail)
    if let requestBase {
      writer.writeFieldBegin(.struct, id: 255)
      requestBase.write(to: &writer)
    }
    writer.writeFieldStop()
  }
}

/// `Echo`'s result: `0: string success`, the answering server's tag.
struct EchoResult: ThriftResult {
  var success: String?

  init(success: String) { self.success = success }

  init(from reader: inout ThriftBinaryReader) throws {
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      if field.id == 0, field.type == .string {
        success = try reader.readString()
      } else {
        try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  func write(to writer: inout ThriftBinaryWriter) {
    if let success {
      writer.writeFieldBegin(.string, id: 0)
      writer.writeString(success)
    }
    writer.writeFieldStop()
  }

  func get() throws -> String {
    guard let success else { throw ThriftApplicationException(.missingResult, "no result") }
    return success
  }
}

struct EchoFailure: Error {}

/// Serves `Echo`, counting the calls that reached it.
final class EchoService: ThriftService {
  let tag: String
  private let count = Mutex(0)
  /// Whether every call fails (a remote exception), whatever it asks.
  let failing = Mutex(false)

  init(tag: String) { self.tag = tag }

  /// Calls that reached the handler.
  var calls: Int { count.withLock { $0 } }

  static var serviceName: String { "Echo" }
  static var methodNames: [String] { ["Echo"] }

  func dispatch<Visitor: ThriftMethodVisitor>(method: String, to visitor: Visitor) async throws
    -> Visitor.Output?
  {
    guard method == EchoMethod.name else { return nil }
    return try await visitor.visit(EchoMethod.self) { args in
      self.count.withLock { $0 += 1 }
      if args.delayMs > 0 { try await Task.sleep(for: .milliseconds(Int(args.delayMs))) }
      if args.fail || self.failing.withLock({ $0 }) { throw EchoFailure() }
      return EchoResult(success: self.tag)
    }
  }
}

/// An `Echo` server on a free loopback port, serving until stopped.
final class EchoServer: Sendable {
  let server: RPCServer<EchoService>
  let service: EchoService
  let task: Task<Void, any Error>

  var address: InstanceAddress { server.localAddress }
  /// Calls that reached the handler.
  var calls: Int { service.calls }

  /// Makes every call fail from now on, or succeed again.
  func setFailing(_ failing: Bool) { service.failing.withLock { $0 = failing } }

  private init(server: RPCServer<EchoService>, service: EchoService) {
    self.server = server
    self.service = service
    self.task = Task { try await server.run() }
  }

  static func start(tag: String, cluster: String = "c1") async throws -> EchoServer {
    let service = EchoService(tag: tag)
    let server = try await RPCServer.bind(
      service,
      configuration: .init(
        port: 0,
        identity: ServiceIdentity(name: try ServiceName("example"), cluster: try Cluster(cluster))
      )
    )
    return EchoServer(server: server, service: service)
  }

  func stop() async {
    task.cancel()
    _ = try? await task.value
  }
}

/// A loopback address that refuses connections and that no other test can take.
func closedPort() throws -> InstanceAddress {
  InstanceAddress(host: "127.0.0.1", port: try RefusingPort.make())
}

/// Calls `Echo` once through `invoker`.
func echo(_ invoker: any ThriftCallInvoker, delayMs: Int32 = 0, fail: Bool = false) async throws
  -> String
{
  try await invoker.invoke(EchoMethod.self, args: EchoArgs(delayMs: delayMs, fail: fail)).get()
}

/// A client of `example` at `addresses`; with a manual clock its instance breakers run on it,
/// and with a log their transitions are written to it as `port from->to`.
func exampleClient(
  _ addresses: [InstanceAddress],
  timeout: Duration = .seconds(5),
  retries: Int = 0,
  maxPending: Int = 1024,
  instanceBreaker: BreakerConfiguration = BreakerConfiguration(),
  policy: (any RoutePolicyProvider)? = nil,
  time: ManualTime = ManualTime(),
  log: TransitionLog = TransitionLog()
) throws -> RPCClient {
  RPCClient(
    configuration: .init(
      caller: gateway,
      target: ServiceIdentity(name: try ServiceName("example")),
      instances: addresses,
      timeout: timeout,
      connectTimeout: .milliseconds(500),
      maxPendingCallsPerInstance: maxPending,
      retries: retries,
      instanceBreaker: instanceBreaker
    ),
    policy: policy,
    breakerClock: { time.now },
    onInstanceBreakerTransition: { address, from, to in
      log.lines.withLock { $0.append("\(address.port) \(from.rawValue)->\(to.rawValue)") }
    }
  )
}

let gateway = ServiceIdentity(name: try! ServiceName("gateway"), cluster: try! Cluster("c1"))
