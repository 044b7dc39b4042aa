public import SkeinRPC

/// A route with `*` allowed in any of its five segments: what a governance key applies to.
/// `/gateway/*/example/*/Visit` matches every cluster pair of that route.
public struct RoutePattern: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The five segments: from, fromCluster, to, toCluster, method; `*` matches anything.
  public let segments: [String]

  /// The wildcard.
  public static let any = "*"

  /// Parses `/from/fromCluster/to/toCluster/method`, each segment a valid name or `*`.
  ///
  /// - Throws: ``NamingError`` naming the bad segment or the path's shape.
  public init(path: String) throws(NamingError) {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 6, parts[0].isEmpty else {
      throw NamingError(
        kind: "route pattern",
        value: path,
        rule: "must be /from/fromCluster/to/toCluster/method, any segment may be *"
      )
    }
    let segments = Array(parts.dropFirst())
    for (index, segment) in segments.enumerated() where segment != Self.any {
      switch index {
      case 0, 2: _ = try ServiceName(segment)
      case 1, 3: _ = try Cluster(segment)
      default: _ = try FiveTuple(path: "/a/b/c/d/\(segment)")
      }
    }
    self.segments = segments
  }

  /// The pattern that matches exactly one route.
  public init(_ route: FiveTuple) {
    segments = [
      route.from.rawValue, route.fromCluster.rawValue, route.to.rawValue,
      route.toCluster.rawValue, route.method,
    ]
  }

  /// The path form.
  public var path: String { "/" + segments.joined(separator: "/") }

  /// The path form.
  public var description: String { path }

  /// Whether `route` is one of the routes this pattern names.
  public func matches(_ route: FiveTuple) -> Bool {
    matches(segments: RoutePattern(route).segments)
  }

  /// Whether a route given by its five segments is one this pattern names. A `*` in the
  /// query is a segment not known yet: only a `*` in the pattern matches it.
  public func matches(segments query: [String]) -> Bool {
    zip(segments, query).allSatisfy { $0 == Self.any || $0 == $1 }
  }

  /// How specific the pattern is: more concrete segments win; between equally many, the one
  /// concrete in an earlier segment (the caller before the callee, the service before the
  /// cluster) wins.
  public var specificity: Int {
    segments.enumerated().reduce(0) { score, item in
      item.element == Self.any ? score : score + 100 + (5 - item.offset)
    }
  }

  /// Orders by path.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.path < rhs.path }
}

/// The governance switches a route has, each a key under
/// `/skein/governance/from/fromCluster/to/toCluster/method/`.
public enum GovernanceSwitch: String, Sendable, Hashable, CaseIterable {
  /// On or off: callers fail fast (or return a registered fallback).
  case degrade
  /// How callers split calls across the callee's clusters.
  case traffic
  /// Timeouts, retries, balancer kind and breaker thresholds.
  case config

  /// The prefix every governance key lives under.
  public static let root = "/skein/governance"

  /// The key of this switch for `pattern`.
  public func key(for pattern: RoutePattern) -> String {
    "\(Self.root)\(pattern.path)/\(rawValue)"
  }

  /// Splits a key back into its pattern and switch, or `nil` for a key that is not one.
  public static func parse(key: String) -> (RoutePattern, GovernanceSwitch)? {
    guard key.hasPrefix(root + "/"), let slash = key.lastIndex(of: "/"),
      let kind = GovernanceSwitch(rawValue: String(key[key.index(after: slash)...])),
      let pattern = try? RoutePattern(path: String(key[root.endIndex..<slash]))
    else { return nil }
    return (pattern, kind)
  }
}

/// Values set for route patterns, answering "what applies to this route": the most specific
/// matching pattern's value.
public struct RouteTable<Value: Sendable>: Sendable {
  /// The values, by pattern.
  public private(set) var values: [RoutePattern: Value] = [:]

  /// Creates an empty table.
  public init() {}

  /// Sets or clears the value of `pattern`.
  public subscript(pattern: RoutePattern) -> Value? {
    get { values[pattern] }
    set { values[pattern] = newValue }
  }

  /// The value of the most specific pattern that matches `route`; ties go to the pattern that
  /// sorts first, so the answer never depends on insertion order.
  public func value(for route: FiveTuple) -> Value? {
    value(forSegments: RoutePattern(route).segments)
  }

  /// The value of the most specific pattern that matches a route given by its five segments,
  /// `*` standing for a segment not known yet (which only a `*` in a pattern matches).
  public func value(forSegments segments: [String]) -> Value? {
    values.filter { $0.key.matches(segments: segments) }
      .min { lhs, rhs in
        lhs.key.specificity != rhs.key.specificity
          ? lhs.key.specificity > rhs.key.specificity : lhs.key < rhs.key
      }?.value
  }
}
