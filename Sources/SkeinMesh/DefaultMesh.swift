/// The default demo mesh (`demo/mesh.yaml` and its IDL), built into the binary so `skein demo`
/// runs from any directory with nothing to install; a mesh file on disk, when named, wins.
///
/// The copy is generated from `demo/` and committed; a test fails when it is stale and says
/// how to regenerate it.
public enum DefaultMesh {
  /// Where the default mesh lives in the repository, relative to its root.
  public static let path = "demo/mesh.yaml"
  /// The folder the built-in files pretend to live in, so errors and includes resolve.
  static let folder = "/built-in/demo"

  /// Loads and checks the built-in copy.
  ///
  /// - Throws: ``MeshValidationError`` (only if the committed copy is broken).
  public static func load() throws(MeshValidationError) -> MeshDescription {
    let files = DefaultMeshFiles.files
    return try MeshLoader.load(
      yaml: files["mesh.yaml"] ?? "",
      file: "\(folder)/mesh.yaml",
      folder: folder,
      idlReader: { path in
        path.hasPrefix(folder + "/") ? files[String(path.dropFirst(folder.count + 1))] : nil
      }
    )
  }

  /// The Swift source of the built-in copy of `files` (paths relative to `demo/`, such as
  /// `mesh.yaml` and `idl/feed.thrift`).
  public static func source(embedding files: [String: String]) -> String {
    var lines = [
      "// Generated from demo/ by DefaultMeshTests. Do not edit: change demo/ and regenerate with",
      "// SKEIN_REGENERATE=1 swift test --filter DefaultMeshTests",
      "// swift-format-ignore-file",
      "",
      "/// The files of the default mesh, by path relative to `demo/`.",
      "enum DefaultMeshFiles {",
      "  static let files: [String: String] = [",
    ]
    for (path, text) in files.sorted(by: { $0.key < $1.key }) {
      lines.append("\"\(path)\": ##\"\"\"")
      lines.append(text)
      lines.append("\"\"\"##,")
    }
    lines += ["  ]", "}", ""]
    return lines.joined(separator: "\n")
  }
}
