import NIOCore
import NIOPosix
import SkeinRPC
import SkeinThrift
import Synchronization
import Testing

/// Records what handlers saw, across tasks.
final class Recorder: Sendable {
  private let state = Mutex<(runs: Int, notes: [String])>((0, []))

  func ran() { state.withLock { $0.runs += 1 } }
  func note(_ text: String) { state.withLock { $0.notes.append(text) } }
  var runs: Int { state.withLock { $0.runs } }
  var notes: [String] { state.withLock { $0.notes } }
}

struct Undeclared: Error {}

/// The test service's handler.
struct TestHandler: TestService {
  let recorder: Recorder
  var downstream: TestServiceClient?

  static func remainingMilliseconds() -> Int64 {
    CallContext.current?.remaining().map {
      $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000
    } ?? -1
  }

  func call(req: Request) async throws -> Response {
    recorder.ran()
    if req.delayMs > 0 {
      do {
        try await Task.sleep(for: .milliseconds(Int(req.delayMs)))
      } catch {
        recorder.note("cancelled \(req.text)")
        throw error
      }
    }
    if req.fail { throw Undeclared() }
    if req.failDeclared { throw Boom(why: "declared: \(req.text)") }
    let context = CallContext.current
    return Response(
      text: req.text,
      logID: context?.logID ?? "",
      caller: context?.route.from.rawValue ?? "",
      remainingMs: Self.remainingMilliseconds()
    )
  }

  func notify(req: Request) async throws {
    recorder.note(req.text)
  }

  func relay(req: Request) async throws -> Response {
    let own = Self.remainingMilliseconds()
    let logID = CallContext.current?.logID ?? ""
    guard req.hops > 0, let downstream else {
      return Response(text: req.text, logID: logID, hopBudgets: [own])
    }
    var next = req
    next.hops -= 1
    if req.delayMs > 0 { try await Task.sleep(for: .milliseconds(Int(req.delayMs))) }
    let rest = try await downstream.relay(req: next)
    return Response(text: rest.text, logID: rest.logID, hopBudgets: [own] + rest.hopBudgets)
  }
}

/// A server on a free loopback port, serving until stopped.
struct RunningServer: Sendable {
  let server: RPCServer<TestServiceProcessor<TestHandler>>
  let task: Task<Void, any Error>

  var address: InstanceAddress { server.localAddress }

  static func start(
    _ handler: TestHandler,
    name: String = "test-server",
    maxConcurrentCallsPerConnection: Int = 1024,
    handlersRunOnEventLoop: Bool = true,
    middleware: [any Middleware] = []
  ) async throws -> RunningServer {
    let server = try await RPCServer.bind(
      TestServiceProcessor(handler),
      configuration: .init(
        port: 0,
        identity: ServiceIdentity(name: try ServiceName(name)),
        maxConcurrentCallsPerConnection: maxConcurrentCallsPerConnection,
        handlersRunOnEventLoop: handlersRunOnEventLoop
      ),
      middleware: middleware
    )
    return RunningServer(server: server, task: Task { try await server.run() })
  }

  func stop() async {
    task.cancel()
    _ = try? await task.value
  }
}

/// A client of the test service at `address`.
func makeClient(
  _ addresses: [InstanceAddress],
  caller: String = "test-client",
  timeout: Duration = .seconds(5),
  connections: Int = 1,
  maxPending: Int = 1024,
  idleTimeout: Duration = .seconds(60),
  middleware: [any Middleware] = []
) throws -> RPCClient {
  RPCClient(
    configuration: .init(
      caller: ServiceIdentity(name: try ServiceName(caller), cluster: try Cluster("c1")),
      target: ServiceIdentity(name: try ServiceName("test-server")),
      instances: addresses,
      timeout: timeout,
      connectTimeout: .milliseconds(500),
      connectionsPerInstance: connections,
      maxPendingCallsPerInstance: maxPending,
      idleTimeout: idleTimeout
    ),
    middleware: middleware
  )
}

/// The RPC error a call failed with, or a test issue when it did not fail that way.
func rpcError(
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async -> RPCError? {
  do {
    try await body()
    Issue.record("expected an RPCError, the call succeeded", sourceLocation: sourceLocation)
  } catch let error as RPCError {
    return error
  } catch {
    Issue.record("expected an RPCError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}
