public import Foundation
import Synchronization

/// A program started in the background for a test (a server, a peer): its output is collected
/// as it comes so the test can wait for a line, and it is killed when the test is done.
public final class RunningProcess: Sendable {
  private let process: Process
  private let output = CollectedOutput()
  /// The command line, for messages.
  public let commandLine: String

  /// Starts `executable` with `arguments`; standard output and error are merged.
  public init(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    self.process = process
    self.commandLine = ([executable] + arguments).joined(separator: " ")
    let output = self.output
    let reading = pipe.fileHandleForReading
    try process.run()
    // A thread of its own reads until the program's end: no dispatch source watches the pipe
    // (one whose descriptor is closed under it takes the process down), and an interrupted
    // read is retried instead of trapping, as `availableData` does.
    Thread {
      while true {
        let chunk = reading.readChunkRetryingInterrupts()
        if chunk.isEmpty { return }
        output.text.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
      }
    }.start()
  }

  deinit {
    if process.isRunning { process.terminate() }
  }

  /// Everything printed so far.
  public var printed: String { output.text.withLock { $0 } }

  /// The process id.
  public var pid: Int32 { process.processIdentifier }

  /// Whether the process has not ended yet.
  public var isRunning: Bool { process.isRunning }

  /// "running", or how the process ended and the last lines it printed: for a failure message
  /// when a process a test relies on may have gone.
  public var state: String {
    guard !isRunning else { return "\(commandLine): running" }
    let how =
      process.terminationReason == .uncaughtSignal
      ? "killed by signal \(process.terminationStatus)"
      : "exited with status \(process.terminationStatus)"
    let tail = printed.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
    return "\(commandLine): \(how); its last lines:\n" + tail.joined(separator: "\n")
  }

  /// Waits until a printed line contains `text` and returns that line.
  ///
  /// - Throws: ``IntegrationError`` on timeout or when the process exits first.
  public func waitForLine(containing text: String, timeout: Duration = .seconds(20)) async throws
    -> String
  {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let line = printed.split(separator: "\n").first(where: { $0.contains(text) }) {
        return String(line)
      }
      if !process.isRunning {
        throw IntegrationError(
          message: "\(commandLine) exited before printing '\(text)':\n\(printed)"
        )
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    throw IntegrationError(
      message: "\(commandLine) did not print '\(text)' in \(timeout):\n\(printed)"
    )
  }

  /// Sends a signal (SIGTERM by default; SIGKILL to simulate a crash).
  ///
  /// A child may start with SIGTERM blocked (Foundation's `Process` keeps the spawning
  /// thread's signal mask): `skein` still shuts down on it, but a Python peer never sees it,
  /// so stop those with SIGKILL.
  public func signal(_ signal: Int32 = SIGTERM) {
    kill(process.processIdentifier, signal)
  }

  /// Waits for the process to exit and returns its status.
  public func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
      if ContinuousClock.now > deadline {
        throw IntegrationError(message: "\(commandLine) did not exit in \(timeout)")
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    return process.terminationStatus
  }
}

/// What a process printed, appended by the pipe's reader and read by the test.
private final class CollectedOutput: Sendable {
  let text = Mutex<String>("")
}

/// The folder SwiftPM put this test run's executables in (`skein` among them).
public func builtProductsFolder() -> URL {
  URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// The `skein` executable built alongside the tests.
public func skeinExecutable() throws -> String {
  let path = builtProductsFolder().appending(path: "skein").path
  guard FileManager.default.isExecutableFile(atPath: path) else {
    throw IntegrationError(message: "no skein executable at \(path); run `swift build` first")
  }
  return path
}
