import Foundation
import SkeinTestSupport
import Testing

/// `skein mesh check` as a person runs it: the built binary, a file on disk.
@Suite("skein mesh check", .timeLimit(.minutes(1)))
struct MeshCommandTests {
  @Test func aBadFileGetsPlacedErrorsAndExitCode1() async throws {
    let folder = FileManager.default.temporaryDirectory
      .appending(path: "skein-mesh-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appending(path: "mesh.yaml").path
    let idl = packageRoot.appending(path: "demo/idl").path
    let yaml = breaking("name: test", with: "name: test\nidl_dir: \(idl)")
      .replacingOccurrences(of: "to: storage.Get", with: "to: storag.Get")
    try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))

    let run = try await ProcessResult.run(try skeinExecutable(), ["mesh", "check", file])
    #expect(run.status == 1)
    #expect(
      run.errorOutput
        == "\(file):21:17: services.user.methods.GetUser.calls[0].to: unknown service 'storag' (known: gateway, user, storage)\n"
    )
    #expect(run.output.isEmpty)
  }

  @Test func theDefaultMeshGetsASummary() async throws {
    let run = try await ProcessResult.run(
      try skeinExecutable(),
      ["mesh", "check", defaultMeshPath]
    )
    #expect(run.status == 0, "\(run.errorOutput)")
    #expect(run.output.contains("mesh 'social' is valid"))
    #expect(
      run.output.contains("7 services, 13 clusters, 22 instances, 27 routes (6 from the edge)")
    )
  }

  @Test func jsonListsTheRoutes() async throws {
    let run = try await ProcessResult.run(
      try skeinExecutable(),
      ["mesh", "check", defaultMeshPath, "--json"]
    )
    #expect(run.status == 0, "\(run.errorOutput)")
    let routes = try #require(
      try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: String]]
    )
    #expect(routes.count == 27)
    #expect(
      routes.contains { $0["path"] == "/feed/c1/recommend/c2/Rank" && $0["to_cluster"] == "c2" }
    )
  }
}
