import Foundation
public import SkeinRPC
import Synchronization

/// The allow-lists in force, kept current from the config store, for a server's
/// ``AccessControlMiddleware``: `AccessControlMiddleware(policy: rules)`.
///
/// A rule is a key per callee method, `/skein/access/TO/TO_CLUSTER/METHOD`, with `*` allowed in
/// any segment and the most specific match winning (as with the governance switches), whose
/// value lists the services that may call it: `{"callers":["gateway","user"]}`. A method no
/// rule matches is open to every caller; an empty list closes it to all.
///
/// The rules live beside the switches, not under `/skein/governance/`, because they are the
/// callee's decision, not one caller's route setting: a rule names no caller segments.
///
/// A malformed value is reported and ignored, and the last good rule for its key stays in
/// force, so a typo cannot open a method; while the store is away the last known rules stay.
public final class AccessRules: AccessPolicy, Sendable {
  /// The prefix every rule lives under.
  public static let root = "/skein/access"
  /// The most callers one rule may list: a list longer than a mesh has services is a mistake.
  public static let maxCallers = 1024
  /// Resolved routes kept at most (the cache is dropped when it grows past this).
  static let maxResolvedRoutes = 4096

  private struct Tables {
    var rules = RouteTable<Set<ServiceName>>()
    var resolved: [FiveTuple: Set<ServiceName>?] = [:]
  }

  private let store: any ConfigStore
  private let tables = Mutex(Tables())
  private let onEvent: @Sendable (GovernanceEvent) -> Void

  /// Creates the rules; call ``run()`` to keep them current.
  ///
  /// - Parameters:
  ///   - store: Where the rules live.
  ///   - onEvent: Told of malformed rules and store problems.
  public init(
    store: any ConfigStore,
    onEvent: @escaping @Sendable (GovernanceEvent) -> Void = { _ in }
  ) {
    self.store = store
    self.onEvent = onEvent
  }

  /// The key of the rule for `to`'s `method` in `toCluster` (`*` for any).
  public static func key(to: String, toCluster: String, method: String) -> String {
    "\(root)/\(to)/\(toCluster)/\(method)"
  }

  /// The value listing `callers`, sorted so equal lists are equal strings.
  public static func value(callers: Set<ServiceName>) -> String {
    let names = callers.map(\.rawValue).sorted()
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(
      decoding: (try? encoder.encode(Document(callers: names))) ?? Data(),
      as: UTF8.self
    )
  }

  /// Reads a rule's value.
  ///
  /// - Throws: ``GovernanceValueError`` when it is not `{"callers":[NAMES]}` with service
  ///   names, at most ``maxCallers`` of them.
  public static func parse(_ value: String) throws -> Set<ServiceName> {
    let document: Document
    do {
      document = try JSONDecoder().decode(Document.self, from: Data(value.utf8))
    } catch {
      throw GovernanceValueError(#"an access rule is {"callers":["service", …]}"#)
    }
    guard document.callers.count <= maxCallers else {
      throw GovernanceValueError("an access rule lists at most \(maxCallers) callers (maxCallers)")
    }
    var callers = Set<ServiceName>()
    for name in document.callers {
      guard let service = try? ServiceName(name) else {
        throw GovernanceValueError("'\(name)' is not a service name")
      }
      callers.insert(service)
    }
    return callers
  }

  /// The callers allowed on `route`'s callee method, or `nil` when no rule matches.
  public func allowedCallers(for route: FiveTuple) -> Set<ServiceName>? {
    tables.withLock { tables in
      if let known = tables.resolved[route] { return known }
      let segments = [
        RoutePattern.any, RoutePattern.any, route.to.rawValue, route.toCluster.rawValue,
        route.method,
      ]
      let callers = tables.rules.value(forSegments: segments)
      if tables.resolved.count >= Self.maxResolvedRoutes { tables.resolved.removeAll() }
      tables.resolved[route] = callers
      return callers
    }
  }

  /// Lists the rules, then follows every change until the task is cancelled.
  public func run() async {
    await store.mirror(
      prefix: Self.root + "/",
      reporting: onEvent,
      reset: { tables.withLock { $0 = Tables() } },
      apply: apply
    )
  }

  /// Applies one key's new value (`nil`: deleted).
  func apply(key: String, value: String?) {
    let segments = key.dropFirst(Self.root.count + 1).split(
      separator: "/",
      omittingEmptySubsequences: false
    )
    guard key.hasPrefix(Self.root + "/"), segments.count == 3,
      let pattern = try? RoutePattern(path: "/*/*/" + segments.joined(separator: "/"))
    else {
      onEvent(
        GovernanceEvent(key: key, message: "not an access rule (\(Self.root)/TO/CLUSTER/METHOD)")
      )
      return
    }
    do {
      let callers = try value.map(Self.parse)
      tables.withLock { tables in
        tables.rules[pattern] = callers
        tables.resolved.removeAll(keepingCapacity: true)
      }
    } catch {
      onEvent(
        GovernanceEvent(
          key: key,
          message: "malformed access rule \(value ?? ""): \(error); the last good rule stays"
        )
      )
    }
  }

  private struct Document: Codable {
    var callers: [String]
  }
}
