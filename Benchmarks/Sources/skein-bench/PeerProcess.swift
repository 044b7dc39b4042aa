import Foundation

/// Builds and runs the benchmark peers that live outside Swift (Apache Thrift C++).
enum PeerProcess {
  /// The Benchmarks folder, found from this source file.
  static let benchmarksFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Builds the C++ peers with `Peers/thrift-cpp/build.sh` and returns their folder.
  static func buildThriftPeers() throws -> URL {
    let output = benchmarksFolder.appendingPathComponent(".build/peers")
    _ = try run(
      benchmarksFolder.appendingPathComponent("Peers/thrift-cpp/build.sh").path,
      [output.path]
    )
    return output
  }

  /// Runs a program and returns its standard output; a failure is an error with its stderr.
  static func run(_ program: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw PeerError(
        "\(program) exited with \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))"
      )
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// A peer that could not be built or run.
struct PeerError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
