public import SkeinRPC

/// Where a config store is, as a person writes it on a command line: `etcd://HOST:PORT` (a
/// member of an etcd cluster) or `memory://HOST:PORT` (a process's embedded store, served by
/// ``ConfigStoreServer``). The one place a registry URL becomes a store.
///
/// Both speak etcd's v3 JSON API, so both open as an ``EtcdConfigStore``: one client, one code
/// path, whichever store is behind it.
public struct ConfigStoreURL: Sendable, Hashable, CustomStringConvertible {
  /// Which kind of store.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// etcd v3.
    case etcd
    /// The embedded memory store served by another process (or this one).
    case memory
  }

  /// Which kind of store.
  public var kind: Kind
  /// Where it listens.
  public var address: InstanceAddress

  /// Creates a URL.
  public init(kind: Kind, address: InstanceAddress) {
    self.kind = kind
    self.address = address
  }

  /// Parses `etcd://HOST:PORT` or `memory://HOST:PORT`.
  ///
  /// - Throws: ``ConfigStoreError/Code/invalidArgument`` saying what is accepted.
  public init(parsing text: String) throws(ConfigStoreError) {
    let accepted = "a config store URL is etcd://HOST:PORT or memory://HOST:PORT"
    guard let separator = text.firstRange(of: "://"),
      let kind = Kind(rawValue: String(text[..<separator.lowerBound]))
    else { throw ConfigStoreError(.invalidArgument, "\(accepted), not '\(text)'") }
    let rest = String(text[separator.upperBound...])
    do {
      self.init(kind: kind, address: try InstanceAddress(parsing: rest))
    } catch {
      throw ConfigStoreError(.invalidArgument, "\(accepted), not '\(text)': \(error)")
    }
  }

  /// `kind://host:port`.
  public var description: String { "\(kind.rawValue)://\(address)" }

  /// The HTTP endpoint of the store's etcd v3 JSON API.
  public var endpoint: String { "http://\(address)" }

  /// A client for the store; call ``EtcdConfigStore/shutdown()`` when done.
  ///
  /// - Parameters:
  ///   - requestTimeout: How long one request may take.
  ///   - reconnectWindow: How long a watch keeps reconnecting to a store that does not answer.
  public func open(
    requestTimeout: Duration = .seconds(2),
    reconnectWindow: Duration = .seconds(60)
  ) -> EtcdConfigStore {
    EtcdConfigStore(
      endpoint: endpoint,
      requestTimeout: requestTimeout,
      reconnectWindow: reconnectWindow
    )
  }
}
