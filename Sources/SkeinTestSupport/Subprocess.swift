import Foundation

/// Runs a program to completion and collects what it printed: enough for tests that drive
/// command-line peers (Apache Thrift's compiler, a Python script).
public struct ProcessResult: Sendable {
  /// The exit status.
  public var status: Int32
  /// Standard output, decoded as UTF-8.
  public var output: String
  /// Standard error, decoded as UTF-8.
  public var errorOutput: String

  /// Runs `executable` with `arguments` and waits for it to exit, on a thread of its own: a
  /// test that blocked a concurrency thread this long would starve the tests running beside it.
  public static func run(_ executable: String, _ arguments: [String]) async throws
    -> ProcessResult
  {
    try await withCheckedThrowingContinuation { continuation in
      Thread {
        continuation.resume(with: Result { try runBlocking(executable, arguments) })
      }.start()
    }
  }

  /// Runs `executable` with `arguments` and blocks until it exits; for synchronous contexts.
  ///
  /// Output is drained while the program runs, so a chatty program cannot block on a full pipe.
  public static func runBlocking(_ executable: String, _ arguments: [String]) throws
    -> ProcessResult
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Standard error is drained on a thread of its own while this one drains standard output.
    // Not a dispatch queue: when the tests occupy every thread of dispatch's pool (some
    // waiting here), the reader would never run and this would wait forever.
    let errorData = CollectedData()
    let done = DispatchSemaphore(value: 0)
    Thread {
      errorData.data = errors.fileHandleForReading.readToEndRetryingInterrupts()
      done.signal()
    }.start()
    let outputData = output.fileHandleForReading.readToEndRetryingInterrupts()
    done.wait()
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus,
      output: String(decoding: outputData, as: UTF8.self),
      errorOutput: String(decoding: errorData.data, as: UTF8.self)
    )
  }

  /// Runs a program and throws, with its error output, unless it exits with status 0.
  @discardableResult
  public static func check(_ executable: String, _ arguments: [String]) async throws
    -> ProcessResult
  {
    let result = try await run(executable, arguments)
    guard result.status == 0 else {
      throw IntegrationError(
        message:
          "\(executable) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.errorOutput)\(result.output)"
      )
    }
    return result
  }
}

/// Bytes written by one thread and read by another after a semaphore hands them over; the
/// semaphore orders the accesses, which is why this is safe to share.
private final class CollectedData: @unchecked Sendable {
  var data = Data()
}
