import Foundation

#if canImport(FoundationEssentials)
  import FoundationEssentials
#endif

/// A real program an integration test talks to (etcd, Apache Thrift's compiler, Python with
/// `python3-thrift`), found on this machine or not.
///
/// Tests skip with the printed reason when a peer is absent, unless the environment sets
/// `SKEIN_REQUIRE_INTEGRATION=1` (as `.ci/run` does): then they run and fail on the absence,
/// so CI can never pass by skipping.
public struct IntegrationPeer: Sendable {
  /// What the peer is, for messages.
  public let name: String
  /// The executables found, by the name asked for.
  public let executables: [String: String]
  /// Why the peer cannot be used here, or `nil` when it can.
  public let missing: String?

  /// Whether absent peers fail tests instead of skipping them.
  public static var isRequired: Bool {
    ProcessInfo.processInfo.environment["SKEIN_REQUIRE_INTEGRATION"] == "1"
  }

  /// Whether a test that needs this peer should run: it is here, or its absence must fail.
  public var shouldRun: Bool { missing == nil || Self.isRequired }

  /// The skip reason Swift Testing prints when the test does not run.
  public var skipReason: String {
    "\(name) not available (\(missing ?? "")); set SKEIN_REQUIRE_INTEGRATION=1 to make this a failure"
  }

  /// The path of an executable the peer needs.
  ///
  /// - Throws: ``IntegrationError`` naming what is missing, when the peer is absent.
  public func executable(_ name: String) throws -> String {
    if let missing { throw IntegrationError(message: "\(self.name) is required but \(missing)") }
    guard let path = executables[name] else {
      throw IntegrationError(message: "\(self.name) has no executable '\(name)'")
    }
    return path
  }

  /// Creates a peer from the executables it needs and an extra check of each.
  ///
  /// - Parameters:
  ///   - name: What the peer is.
  ///   - needs: Executable names to find, each with candidate paths tried before `PATH`, and
  ///     a check that returns a problem description or `nil`.
  public init(
    name: String,
    needs: [(executable: String, preferred: [String], check: (@Sendable (String) -> String?)?)]
  ) {
    self.name = name
    var found: [String: String] = [:]
    var problems: [String] = []
    for need in needs {
      let candidates =
        need.preferred.filter { FileManager.default.isExecutableFile(atPath: $0) }
        + Self.searchPath(need.executable)
      guard let path = candidates.first(where: { need.check?($0) == nil }) else {
        problems.append(
          candidates.isEmpty
            ? "'\(need.executable)' is not on PATH"
            : need.check?(candidates[0]) ?? "'\(need.executable)' does not work"
        )
        continue
      }
      found[need.executable] = path
    }
    self.executables = found
    self.missing = problems.isEmpty ? nil : problems.joined(separator: "; ")
  }

  /// Every executable called `name` on `PATH`, in order.
  public static func searchPath(_ name: String) -> [String] {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.filter {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }
}

/// A required integration peer is missing or misbehaved.
public struct IntegrationError: Error, CustomStringConvertible {
  /// What went wrong.
  public var message: String
  /// Creates the error.
  public init(message: String) { self.message = message }
  /// The message.
  public var description: String { message }
}

extension IntegrationPeer {
  /// Apache Thrift's compiler (`thrift`, Debian's thrift-compiler) and its Python library
  /// (Debian's python3-thrift, importable from `/usr/bin/python3`).
  public static let apacheThrift = IntegrationPeer(
    name: "Apache Thrift (thrift-compiler, python3-thrift)",
    needs: [
      ("thrift", [], nil),
      (
        "python3", ["/usr/bin/python3"],
        { python in
          let result = try? ProcessResult.runBlocking(python, ["-c", "import thrift"])
          return result?.status == 0 ? nil : "\(python) cannot import thrift (python3-thrift)"
        }
      ),
    ]
  )

  /// tmux, which drives the dashboard in a real terminal the way a person would.
  public static let tmux = IntegrationPeer(name: "tmux", needs: [("tmux", [], nil)])
}
