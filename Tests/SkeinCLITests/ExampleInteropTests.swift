import Foundation
import SkeinDemoIDL
import SkeinRPC
import SkeinTestSupport
import Testing

// `skein example serve` and `skein example call` as a user runs them, against Apache Thrift's
// Python library (TFramedTransport + TBinaryProtocol) on both sides, and a server killed with
// SIGKILL in the middle of a call.

let pythonThrift = IntegrationPeer.apacheThrift

/// Python code generated from demo/idl by Apache Thrift's compiler, once per run.
let pythonExample = Task { () throws -> (python: String, script: String, generated: String) in
  let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  let generated = FileManager.default.temporaryDirectory
    .appending(path: "skein-example-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: generated, withIntermediateDirectories: true)
  try await ProcessResult.check(
    try pythonThrift.executable("thrift"),
    ["-r", "--gen", "py", "-out", generated, root.appending(path: "demo/idl/example.thrift").path]
  )
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appending(path: "example_peer.py").path
  return (try pythonThrift.executable("python3"), script, generated)
}

/// Starts `skein example serve` on a free port and returns it with its port.
func startSkeinServer(_ extra: [String] = []) async throws -> (RunningProcess, Int) {
  let server = try RunningProcess(
    try skeinExecutable(),
    ["example", "serve", "--port", "0"] + extra
  )
  let line = try await server.waitForLine(containing: "serving ExampleService")
  guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
    throw IntegrationError(message: "no port in: \(line)")
  }
  return (server, port)
}

@Suite("skein example against Apache Thrift", .timeLimit(.minutes(2)))
struct ExampleInteropTests {
  @Test(
    "a Python client calls skein example serve",
    .enabled(if: pythonThrift.shouldRun, Comment(rawValue: pythonThrift.skipReason))
  )
  func pythonClientCallsSkein() async throws {
    let (python, script, generated) = try await pythonExample.value
    let (server, port) = try await startSkeinServer()
    let result = try await ProcessResult.check(
      python,
      [script, generated, "client", String(port), "py"]
    )
    #expect(result.output.contains("resp=hello, py"))
    #expect(result.output.contains("log_id=python-log-id"), "the LogID Python sent is echoed")
    server.signal()
    #expect(try await server.waitForExit() == 0, "SIGTERM is a graceful, successful exit")
  }

  @Test(
    "skein example call calls a Python server",
    .enabled(if: pythonThrift.shouldRun, Comment(rawValue: pythonThrift.skipReason))
  )
  func skeinCallsPythonServer() async throws {
    let (python, script, generated) = try await pythonExample.value
    let server = try RunningProcess(python, [script, generated, "server"])
    defer { server.signal(SIGKILL) }
    let line = try await server.waitForLine(containing: "PORT ")
    let port = String(line.split(separator: " ").last ?? "")
    let call = try await ProcessResult.check(
      try skeinExecutable(),
      [
        "example", "call", "--port", port, "--name", "skein", "--count", "40", "--concurrency", "4",
        "--json",
      ]
    )
    let report = try JSONSerialization.jsonObject(with: Data(call.output.utf8)) as? [String: Any]
    #expect(report?["calls"] as? Int == 40)
    #expect(report?["errors"] as? Int == 0)
    for key in ["seconds", "qps", "p50_ms", "p99_ms", "p999_ms"] {
      #expect(report?[key] is Double, "\(key) in \(call.output)")
    }
    let single = try await ProcessResult.check(
      try skeinExecutable(),
      ["example", "call", "--port", port, "--name", "skein"]
    )
    #expect(single.output.contains("Resp: hello, skein"))
  }

  @Test("a server killed mid-call gives the caller a transport error, not a hang")
  func serverKilledMidCall() async throws {
    let (server, port) = try await startSkeinServer(["--delay-ms", "5000"])
    let client = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("killer")),
        target: ServiceIdentity(name: try ServiceName("example")),
        instances: [InstanceAddress(host: "127.0.0.1", port: port)],
        timeout: .seconds(30)
      )
    )
    let call = Task {
      try await ExampleServiceClient(client).visit(req: ExampleRequest(name: "doomed"))
    }
    // Kill once the call is on a connection (a loaded machine may take a while to connect),
    // and a little later, so its request has left.
    let address = InstanceAddress(host: "127.0.0.1", port: port)
    let connected = ContinuousClock.now + .seconds(10)
    while client.poolLoad()[address]?.connections != 1, ContinuousClock.now < connected {
      try await Task.sleep(for: .milliseconds(20))
    }
    try await Task.sleep(for: .milliseconds(200))
    server.signal(SIGKILL)
    let killed = ContinuousClock.now
    do {
      _ = try await call.value
      Issue.record("the call succeeded against a killed server")
    } catch let error as RPCError {
      #expect(error.code == .transport, "\(error)")
    }
    #expect(ContinuousClock.now - killed < .seconds(2))
    await client.shutdown()
  }

  @Test("bad options get a clear error and no crash")
  func badOptions() async throws {
    let skein = try skeinExecutable()
    let noPort = try await ProcessResult.run(skein, ["example", "call", "--name", "x"])
    #expect(noPort.status != 0)
    #expect(noPort.errorOutput.contains("Missing expected argument '--port <port>'"))
    let badPort = try await ProcessResult.run(skein, ["example", "serve", "--port", "70000"])
    #expect(badPort.status != 0)
    #expect(badPort.errorOutput.contains("--port must be 0-65535"))
    let refused = try await ProcessResult.run(
      skein,
      ["example", "call", "--port", "1", "--name", "x"]
    )
    #expect(refused.status != 0)
    #expect(refused.output.contains("connect_failed"))
  }
}
