/// A name that failed validation, with the rule it broke.
public struct NamingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What was being named ("service name", "cluster", "method", "route path").
  public var kind: String
  /// The rejected text.
  public var value: String
  /// The rule, phrased so a person can fix the name.
  public var rule: String

  /// Creates an error.
  public init(kind: String, value: String, rule: String) {
    self.kind = kind
    self.value = value
    self.rule = rule
  }

  /// `invalid service name "Foo": must match [a-z][a-z0-9_.-]*`.
  public var description: String { "invalid \(kind) \"\(value)\": \(rule)" }
}

/// The longest service name, cluster or method accepted: names become config keys, metric
/// labels and dashboard columns, so they stay short.
public let maxNameLength = 128

/// Checks a lowercase identifier: `[a-z][a-z0-9_.-]*`, at most ``maxNameLength`` characters.
func validateIdentifier(_ text: String, kind: String) throws(NamingError) {
  guard let first = text.utf8.first, text.utf8.count <= maxNameLength,
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
    text.utf8.allSatisfy({ byte in
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    })
  else {
    // Built only here: servers validate the caller's names on every request.
    let rule = "must match [a-z][a-z0-9_.-]* and be at most \(maxNameLength) characters"
    throw NamingError(kind: kind, value: text, rule: rule)
  }
}

/// A service's unique name, usable as an identifier in keys and metrics: `[a-z][a-z0-9_.-]*`.
public struct ServiceName: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The name.
  public let rawValue: String

  /// Validates and wraps a service name.
  ///
  /// - Throws: ``NamingError`` when the name breaks the rule.
  public init(_ rawValue: String) throws(NamingError) {
    try validateIdentifier(rawValue, kind: "service name")
    self.rawValue = rawValue
  }

  /// Wraps a name known to be valid.
  init(unchecked rawValue: String) {
    self.rawValue = rawValue
  }

  /// The caller of a request that did not say who it is.
  public static let unknown = ServiceName(unchecked: "unknown")

  /// The name.
  public var description: String { rawValue }

  /// Orders by name.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A named group of a service's instances (`c1`, `canary`): `[a-z][a-z0-9_.-]*`.
public struct Cluster: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The name.
  public let rawValue: String

  /// Validates and wraps a cluster name.
  ///
  /// - Throws: ``NamingError`` when the name breaks the rule.
  public init(_ rawValue: String) throws(NamingError) {
    try validateIdentifier(rawValue, kind: "cluster")
    self.rawValue = rawValue
  }

  /// Wraps a name known to be valid.
  init(unchecked rawValue: String) {
    self.rawValue = rawValue
  }

  /// The cluster every service has when none is named.
  public static let `default` = Cluster(unchecked: "default")

  /// The name.
  public var description: String { rawValue }

  /// Orders by name.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The name of every call route: `(From, FromCluster, To, ToCluster, Method)`. It is the unit
/// of metrics, breakers and governance, and its path form `/from/fromCluster/to/toCluster/method`
/// is where the route's switches live in the config store.
public struct FiveTuple: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The calling service.
  public var from: ServiceName
  /// The caller's cluster.
  public var fromCluster: Cluster
  /// The called service.
  public var to: ServiceName
  /// The callee's cluster.
  public var toCluster: Cluster
  /// The method, as the IDL names it (`Visit`).
  public var method: String

  /// Creates a five-tuple.
  ///
  /// - Throws: ``NamingError`` when the method is not a Thrift identifier.
  public init(
    from: ServiceName,
    fromCluster: Cluster,
    to: ServiceName,
    toCluster: Cluster,
    method: String
  ) throws(NamingError) {
    try Self.validateMethod(method)
    self.from = from
    self.fromCluster = fromCluster
    self.to = to
    self.toCluster = toCluster
    self.method = method
  }

  /// A route whose method came off the wire and is kept as it is.
  package init(
    unchecked from: ServiceName,
    fromCluster: Cluster,
    to: ServiceName,
    toCluster: Cluster,
    method: String
  ) {
    self.from = from
    self.fromCluster = fromCluster
    self.to = to
    self.toCluster = toCluster
    self.method = method
  }

  /// Parses the path form `/from/fromCluster/to/toCluster/method`.
  ///
  /// - Throws: ``NamingError`` naming the bad segment, or the path's shape.
  public init(path: String) throws(NamingError) {
    let segments = path.split(separator: "/", omittingEmptySubsequences: false)
    guard segments.count == 6, segments[0].isEmpty else {
      throw NamingError(
        kind: "route path",
        value: path,
        rule: "must be /from/fromCluster/to/toCluster/method"
      )
    }
    try self.init(
      from: ServiceName(String(segments[1])),
      fromCluster: Cluster(String(segments[2])),
      to: ServiceName(String(segments[3])),
      toCluster: Cluster(String(segments[4])),
      method: String(segments[5])
    )
  }

  /// `/from/fromCluster/to/toCluster/method`.
  public var path: String {
    "/\(from)/\(fromCluster)/\(to)/\(toCluster)/\(method)"
  }

  /// The path form.
  public var description: String { path }

  /// Orders by path, so listings are stable.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.path < rhs.path }

  /// A Thrift identifier: `[A-Za-z_][A-Za-z0-9_]*`.
  static func validateMethod(_ method: String) throws(NamingError) {
    let isStart: (UInt8) -> Bool = { byte in
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
    }
    guard let first = method.utf8.first, isStart(first), method.utf8.count <= maxNameLength,
      method.utf8.allSatisfy({ isStart($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
      )
    else {
      throw NamingError(
        kind: "method",
        value: method,
        rule:
          "must be a Thrift identifier ([A-Za-z_][A-Za-z0-9_]*), at most \(maxNameLength) characters"
      )
    }
  }
}
