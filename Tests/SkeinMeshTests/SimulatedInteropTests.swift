import Foundation
import SkeinGovernance
import SkeinMesh
import SkeinRPC
import SkeinTestSupport
import SkeinThrift
import Testing

/// The mesh's nodes serve and call methods by name, with the simulated types; Apache Thrift
/// peers generated from the same IDL must not notice. Python's `thrift` library on both sides.
@Suite(
  "Simulated services against Apache Thrift",
  .enabled(
    if: IntegrationPeer.apacheThrift.shouldRun,
    Comment(rawValue: IntegrationPeer.apacheThrift.skipReason)
  ),
  .timeLimit(.minutes(1))
)
struct SimulatedInteropTests {
  /// Python code generated from demo/idl/storage.thrift by Apache Thrift's compiler.
  static func generatePython() async throws -> (python: String, script: String, folder: String) {
    let peer = IntegrationPeer.apacheThrift
    let folder = FileManager.default.temporaryDirectory
      .appending(path: "skein-mesh-py-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try await ProcessResult.check(
      try peer.executable("thrift"),
      [
        "-r", "--gen", "py", "-out", folder,
        packageRoot.appending(path: "demo/idl/storage.thrift").path,
      ]
    )
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appending(path: "mesh_peer.py").path
    return (try peer.executable("python3"), script, folder)
  }

  @Test("Apache Thrift's client calls a mesh node and gets the IDL's response with its LogID")
  func pythonCallsNode() async throws {
    let (python, script, folder) = try await Self.generatePython()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let mesh = try MeshLoader.load(contentsOf: defaultMeshPath)
    let store = MemoryConfigStore()
    let environment = MeshEnvironment(store: store, cpuScale: 0)
    let storage = try #require(mesh.instances.first { $0.service.rawValue == "storage" })
    let host = try MeshHost(mesh: mesh, environment: environment, instances: [storage])
    let running = Task { try await host.run() }
    defer { running.cancel() }
    var address: InstanceAddress?
    let deadline = ContinuousClock.now + .seconds(10)
    while address == nil, ContinuousClock.now < deadline {
      address = try await environment.registry.instances(of: storage.service).first?.address
      try await Task.sleep(for: .milliseconds(20))
    }
    let port = try #require(address?.port)
    let called = try await ProcessResult.check(python, [script, folder, "client", String(port)])
    #expect(called.output.contains("found=None"), "the simulated response leaves Found unset")
    #expect(called.output.contains("log_id=python-log-id"), "\(called.output)")
  }

  @Test("a generic call reaches Apache Thrift's server by name and decodes its response")
  func nodeCallsPython() async throws {
    let (python, script, folder) = try await Self.generatePython()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let server = try RunningProcess(python, [script, folder, "server"])
    // SIGKILL: a Python peer may never see SIGTERM (see `RunningProcess.signal`); each run
    // of the suite left one behind.
    defer { server.signal(SIGKILL) }
    let line = try await server.waitForLine(containing: "PORT ")
    let port = try #require(line.split(separator: " ").last.flatMap { Int($0) })
    let client = RPCClient(
      configuration: .init(
        caller: ServiceIdentity(name: try ServiceName("user")),
        target: ServiceIdentity(name: try ServiceName("storage")),
        instances: [InstanceAddress(host: "127.0.0.1", port: port)],
        timeout: .seconds(5)
      )
    )
    let context = CallContext(
      route: try FiveTuple(path: "/user/default/storage/default/Get"),
      logID: "skein-log-id",
      deadline: nil
    )
    let result = try await CallContext.$current.withValue(context) {
      try await client.invoke(SimulatedMethod.self, named: "Get", args: SimulatedArgs())
    }
    #expect(try result.get()?.extra?["log_id"] == "skein-log-id")
    let unknown = await #expect(throws: RPCError.self) {
      try await client.invoke(SimulatedMethod.self, named: "Put", args: SimulatedArgs())
    }
    #expect(unknown?.code == .remote, "Apache Thrift answers an unknown method with an exception")
    await client.shutdown()
  }
}
