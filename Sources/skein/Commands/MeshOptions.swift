import ArgumentParser
import Foundation
import Logging
import SkeinMesh

/// `--mesh FILE` and `--log FILE`, as `skein demo`, `skein node` and `skein load` take them.
struct MeshOptions: ParsableArguments {
  @Option(
    help: """
      The mesh file. By default demo/mesh.yaml when the current directory has one, else the \
      copy of it built into skein.
      """
  )
  var mesh: String?

  @Option(help: "Append the nodes' logs (each line with its call's LogID) to this file.")
  var log: String?

  @Option(help: "The lowest log level written: trace, debug, info, notice, warning, error.")
  var logLevel = "info"

  /// `--log-level` as swift-log's level.
  var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }

  @Option(help: "Multiply each method's simulated CPU by this (0 turns it off).")
  var cpuScale = 1.0

  func validate() throws {
    guard (0...100).contains(cpuScale) else { throw ValidationError("--cpu-scale must be 0-100.") }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError(
        "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    if let mesh, !FileManager.default.fileExists(atPath: mesh) {
      throw ValidationError("no mesh file at \(mesh)")
    }
  }

  /// The mesh, checked; a broken file's problems go to standard error, one per line.
  func load() throws -> MeshDescription {
    do {
      if let mesh { return try MeshLoader.load(contentsOf: mesh) }
      if FileManager.default.fileExists(atPath: DefaultMesh.path) {
        return try MeshLoader.load(contentsOf: DefaultMesh.path)
      }
      return try DefaultMesh.load()
    } catch {
      printError("\(error)")
      throw ExitCode.failure
    }
  }

  /// The log file (`--log`, or `name` in the temporary folder), made the process's log
  /// destination: no library logs to the terminal the dashboard owns.
  func logFile(default name: String) throws -> LogFile {
    let path =
      log ?? FileManager.default.temporaryDirectory.appending(path: name).path
    let file: LogFile
    do {
      file = try LogFile(path: path)
    } catch {
      throw ValidationError("\(error)")
    }
    let level = self.level
    LoggingSystem.bootstrap { label in FileLogHandler(label: label, file: file, level: level) }
    return file
  }
}
