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
}
