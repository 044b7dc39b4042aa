import Foundation
import SkeinMesh
import SkeinRPC
import SkeinTestSupport
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The default mesh as a user spreads it over processes: one `skein node` per instance on a
/// registry, each logging to a file of its own in a temporary folder.
final class MeshProcesses: Sendable {
  let skein: String
  let registry: String
  let mesh: MeshDescription
  private let logs: URL
  private let running = Mutex<[MeshInstance: RunningProcess]>([:])

  /// Starts every instance of the default mesh, one at a time: 22 processes starting at once
  /// would take both cores for seconds.
  static func start(registry: String) async throws -> MeshProcesses {
    let processes = try MeshProcesses(registry: registry)
    for instance in processes.mesh.instances { _ = try await processes.start(instance) }
    return processes
  }

  private init(registry: String) throws {
    skein = try skeinExecutable()
    self.registry = registry
    mesh = try DefaultMesh.load()
    logs = FileManager.default.temporaryDirectory.appending(path: "skein-mesh-\(UUID())")
    try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
  }

  deinit {
    killAll()
    try? FileManager.default.removeItem(at: logs)
  }

  /// Kills every node (SIGKILL): what a test's `defer` does, which also keeps this alive until
  /// the test's end.
  func killAll() {
    for node in nodes { node.signal(SIGKILL) }
  }

  /// Starts `instance`'s node (again, after it was killed) and waits until it serves.
  func start(_ instance: MeshInstance) async throws -> RunningProcess {
    // No simulated CPU: 22 processes share this machine with the rest of the suite.
    let node = try RunningProcess(
      skein,
      [
        "node", "--service", instance.service.rawValue, "--cluster", instance.cluster.rawValue,
        "--instance", String(instance.index), "--registry", registry, "--cpu-scale", "0",
        "--log",
        logs.appending(path: "\(instance.service)-\(instance.cluster)-\(instance.index).log").path,
      ]
    )
    running.withLock { $0[instance] = node }
    _ = try await node.waitForLine(containing: "skein node:")
    return node
  }

  /// The running node of `instance`.
  func node(_ instance: MeshInstance) -> RunningProcess? { running.withLock { $0[instance] } }

  /// Every node.
  var nodes: [RunningProcess] { running.withLock { Array($0.values) } }
}
