import Foundation
import PackagePlugin

/// Generates Swift from the `.thrift` files of a target at build time, the way swift-protobuf
/// and grpc-swift users get code from `.proto` files.
///
/// Every `.thrift` file in the target is generated together (so they may include each other)
/// into one Swift file each, declared `internal` unless the target holds a file
/// `skein-gen.json` with `{"accessLevel": "public"}`.
@main
struct SkeinThriftPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
    guard let sourceTarget = target as? SourceModuleTarget else { return [] }
    let inputs = sourceTarget.sourceFiles(withSuffix: "thrift").map(\.url)
    guard !inputs.isEmpty else { return [] }
    let tool = try context.tool(named: "skein-gen")
    let outputFolder = context.pluginWorkDirectoryURL.appending(path: "Generated")
    let outputs = inputs.map {
      outputFolder.appending(path: $0.deletingPathExtension().lastPathComponent + ".swift")
    }
    var arguments = inputs.map { $0.path() }
    arguments += [
      "--out", outputFolder.path(), "--access-level", try accessLevel(of: sourceTarget),
    ]
    return [
      .buildCommand(
        displayName: "Generating Swift from \(inputs.count) Thrift file(s) in \(target.name)",
        executable: tool.url,
        arguments: arguments,
        inputFiles: inputs,
        outputFiles: outputs
      )
    ]
  }

  /// The access level the target asks for in `skein-gen.json`, or `internal`.
  private func accessLevel(of target: any SourceModuleTarget) throws -> String {
    guard
      let file = target.sourceFiles.first(where: { $0.url.lastPathComponent == "skein-gen.json" })
    else { return "internal" }
    let options = try JSONDecoder().decode(Options.self, from: Data(contentsOf: file.url))
    guard let level = options.accessLevel else { return "internal" }
    guard ["public", "package", "internal"].contains(level) else {
      throw PluginError(
        "\(file.url.path()): accessLevel must be \"public\", \"package\" or \"internal\", not \"\(level)\""
      )
    }
    return level
  }
}

/// The contents of `skein-gen.json`.
private struct Options: Decodable {
  var accessLevel: String?
}

/// A problem with the plugin's configuration, shown by the build.
private struct PluginError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
