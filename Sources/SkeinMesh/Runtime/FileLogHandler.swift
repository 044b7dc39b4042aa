import Foundation
public import Logging
import SkeinRPC
import Synchronization

/// Writes log lines to a file, each with the LogID of the call it was written in, so the lines
/// of one request can be found across every node of the mesh with one `grep`.
///
/// A line reads `2026-11-25T18:40:01.123Z warning feed/c1#0 log_id=… message key=value`.
/// Lines written outside any call carry `log_id=-`. The file is shared by every handler made
/// from one ``LogFile``; each line is written whole, under a lock.
public struct FileLogHandler: LogHandler {
  /// The level below which messages are dropped.
  public var logLevel: Logger.Level
  /// Metadata on every line of this logger.
  public var metadata: Logger.Metadata = [:]
  private let label: String
  private let file: LogFile

  /// A handler writing to `file` for the logger named `label`.
  public init(label: String, file: LogFile, level: Logger.Level) {
    self.label = label
    self.file = file
    self.logLevel = level
  }

  /// Reads or sets one metadata value.
  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  /// Writes one line.
  public func log(event: LogEvent) {
    let logID = CallContext.current?.logID ?? "-"
    var line = "\(LogFile.timestamp()) \(event.level) \(label) log_id=\(logID) \(event.message)"
    let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
    for (key, value) in all.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
    file.write(line + "\n")
  }
}

/// A log file opened for appending, shared by the loggers of a process.
public final class LogFile: Sendable {
  /// Where it is.
  public let path: String
  private let handle: Mutex<FileHandle>

  /// Opens (creating it if needed) `path` for appending.
  ///
  /// - Throws: ``LogFileError`` when the file cannot be created or opened.
  public init(path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw LogFileError(path: path, reason: "cannot create it")
      }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw LogFileError(path: path, reason: "cannot open it for writing")
    }
    handle.seekToEndOfFile()
    self.path = path
    self.handle = Mutex(handle)
  }

  /// Appends `text`; a failed write is dropped rather than failing the call that logged.
  public func write(_ text: String) {
    handle.withLock { try? $0.write(contentsOf: Data(text.utf8)) }
  }

  /// A `Logger` named `label` writing here at `level` and above.
  public func logger(_ label: String, level: Logger.Level = .info) -> Logger {
    Logger(label: label) { label in FileLogHandler(label: label, file: self, level: level) }
  }

  static func timestamp() -> String {
    Date.now.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
  }
}

/// Why a log file could not be opened.
public struct LogFileError: Error, CustomStringConvertible {
  /// The file.
  public let path: String
  /// What went wrong.
  public let reason: String

  /// `cannot write the log file PATH: REASON`.
  public var description: String { "cannot write the log file \(path): \(reason)" }
}
