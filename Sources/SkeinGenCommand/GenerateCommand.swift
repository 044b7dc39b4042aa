public import ArgumentParser
import Foundation
import SkeinIDL

/// `skein gen`: generates Swift from Thrift IDL. Shared by `skein gen` and the `skein-gen`
/// tool that the build plugin runs.
public struct GenerateCommand: ParsableCommand {
  /// The command's name and help.
  public static let configuration = CommandConfiguration(
    commandName: "gen",
    abstract: "Generate Swift code from Thrift IDL.",
    discussion: """
      Writes one Swift file per IDL file into the output folder: types (structs, unions, enums, \
      exceptions, constants, typedefs) and, for each service, a handler protocol, a client stub \
      and a processor for Skein's runtime. Files that include each other may be generated together \
      into one module; their type names must then be unique.

      Examples:
        skein gen demo/idl/*.thrift --out Sources/Demo/Generated
        skein gen idl/*.thrift -I shared --out Gen --access-level internal
        skein gen idl/*.thrift --out Gen --check    # fails if Gen is stale
      """
  )

  /// The IDL files to generate.
  @Argument(help: "The .thrift files to generate.")
  public var files: [String] = []

  /// The output folder.
  @Option(name: [.short, .long], help: "The folder to write the Swift files into.")
  public var out: String

  /// Extra folders to search for included files.
  @Option(
    name: [.customShort("I"), .customLong("include")],
    help: "A folder to search for included files."
  )
  public var includePaths: [String] = []

  /// Access level of the generated declarations.
  @Option(help: "Access level of generated declarations: public, package or internal.")
  public var accessLevel: String = "public"

  /// Also generate the files the given ones include.
  @Flag(help: "Also generate every file the given files include.")
  public var withIncludes = false

  /// Only check that the output is up to date.
  @Flag(help: "Write nothing; exit with an error if any output file would change.")
  public var check = false

  /// Creates the command (ArgumentParser fills its options).
  public init() {}

  /// Checks the options before running.
  public func validate() throws {
    if files.isEmpty { throw ValidationError("Name at least one .thrift file.") }
    if SwiftGenerator.AccessLevel(rawValue: accessLevel) == nil {
      throw ValidationError(
        "--access-level must be public, package or internal, not '\(accessLevel)'."
      )
    }
  }

  /// Runs the generator.
  public func run() throws {
    let accessLevel = SwiftGenerator.AccessLevel(rawValue: accessLevel) ?? .public
    let program: IDLProgram
    let generated: [SwiftGenerator.File]
    do {
      program = try IDLProgram.load(files: files, includePaths: includePaths)
      let generator = SwiftGenerator(program: program, accessLevel: accessLevel)
      generated = try generator.generate(
        modules: withIncludes ? program.documents.map(\.module) : nil
      )
    } catch let error as IDLError {
      // The compiler's form (`file:line:column: error: …`) with nothing around it, so editors
      // and build logs can jump to the spot.
      try? FileHandle.standardError.write(contentsOf: Data((error.description + "\n").utf8))
      throw ExitCode.failure
    }
    var stale: [String] = []
    let fileManager = FileManager.default
    if !check { try fileManager.createDirectory(atPath: out, withIntermediateDirectories: true) }
    for file in generated {
      let path = (out.hasSuffix("/") ? out : out + "/") + file.name
      let existing = fileManager.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
      guard existing != file.contents else { continue }
      stale.append(path)
      if !check {
        // Unchanged files are left alone so build systems do not rebuild needlessly.
        try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path))
      }
    }
    if check && !stale.isEmpty {
      throw StaleOutput(files: stale)
    }
  }
}

/// `--check` found generated files that differ from what the IDL produces.
struct StaleOutput: Error, CustomStringConvertible {
  /// The files that would change.
  var files: [String]

  var description: String {
    "generated code is out of date; run without --check to update:\n"
      + files.joined(separator: "\n")
  }
}
