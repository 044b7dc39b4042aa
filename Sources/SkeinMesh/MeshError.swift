/// One problem in a mesh file, placed the way compilers place theirs so editors and people can
/// jump to it: `demo/mesh.yaml:42:7: services.feed.methods.GetFeed.calls[1].to: unknown service
/// 'storag' (known: gateway, feed, …)`.
public struct MeshError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The mesh file, as it was named to the loader.
  public var file: String
  /// The line, from 1; `nil` when the problem is the file as a whole.
  public var line: Int?
  /// The column, from 1, where YAML gives it.
  public var column: Int?
  /// The field's path in the document (`services.feed.clusters.c1`); empty for the document.
  public var field: String
  /// What is wrong, phrased so a person can fix it.
  public var message: String

  /// Creates an error.
  public init(file: String, line: Int?, column: Int?, field: String, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.field = field
    self.message = message
  }

  /// `file:line:column: field: message`; parts that are not known are left out.
  public var description: String {
    let place = [file, line.map(String.init), column.map(String.init)].compactMap { $0 }
    let field = self.field.isEmpty ? "" : "\(self.field): "
    return "\(place.joined(separator: ":")): \(field)\(message)"
  }
}

/// Every problem found in a mesh file: the loader reports them all at once, so one run shows
/// everything to fix.
public struct MeshValidationError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The problems, in the order of the file.
  public var errors: [MeshError]

  /// Wraps the problems.
  public init(errors: [MeshError]) {
    self.errors = errors
  }

  /// One problem a line.
  public var description: String {
    errors.map(\.description).joined(separator: "\n")
  }
}

/// The bounds a mesh file must stay within. Each has a name and a default, so a typo such as
/// `instances: 2000` is an error rather than two thousand servers on a laptop.
public struct MeshLimits: Sendable, Hashable {
  /// The most services.
  public var maxServices = 64
  /// The most clusters one service has.
  public var maxClustersPerService = 16
  /// The most instances in one cluster.
  public var maxInstancesPerCluster = 64
  /// The most instances in the whole mesh.
  public var maxInstances = 256
  /// The most methods one service simulates.
  public var maxMethodsPerService = 64
  /// The most downstream calls one method makes (fan-out, over all its steps).
  public var maxFanOut = 16
  /// The most methods in the edge load's mix.
  public var maxLoadTargets = 64
  /// The longest chain of calls below an edge method: each hop spends part of the deadline.
  public var maxCallDepth = 8
  /// The longest timeout or simulated latency, in milliseconds (one minute).
  public var maxMilliseconds = 60_000
  /// The most busy CPU per call, in microseconds (one second).
  public var maxCPUMicroseconds = 1_000_000
  /// The highest edge rate, in calls per second.
  public var maxRate = 100_000.0

  /// The defaults.
  public init() {}
}
