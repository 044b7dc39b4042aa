import Foundation
public import SkeinRPC

/// Where a config store is, as a person writes it on a command line: `etcd://HOST:PORT` (a
/// member of an etcd cluster) or `memory://HOST:PORT` (a process's embedded store, served by
/// ``ConfigStoreServer``). The one place a registry URL becomes a store.
///
/// Both speak etcd's v3 JSON API, so both open as an ``EtcdConfigStore``: one client, one code
/// path, whichever store is behind it.
///
/// An etcd URL may name a user, `etcd://USER@HOST:PORT` (the password from elsewhere: an
/// environment variable keeps it out of `ps`), or `etcd://USER:PASSWORD@HOST:PORT`. The
/// embedded store takes a token, never in the URL.
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
  /// The etcd user the URL names, if any.
  public var user: String?
  /// The password the URL gives, if any (only with a user).
  public var password: String?

  /// Creates a URL.
  public init(kind: Kind, address: InstanceAddress, user: String? = nil, password: String? = nil) {
    self.kind = kind
    self.address = address
    self.user = user
    self.password = password
  }

  /// Parses `etcd://[USER[:PASSWORD]@]HOST:PORT` or `memory://HOST:PORT`.
  ///
  /// - Throws: ``ConfigStoreError/Code/invalidArgument`` saying what is accepted.
  public init(parsing text: String) throws(ConfigStoreError) {
    let accepted =
      "a config store URL is etcd://HOST:PORT or memory://HOST:PORT (etcd://USER@HOST:PORT to log in)"
    guard let separator = text.firstRange(of: "://"),
      let kind = Kind(rawValue: String(text[..<separator.lowerBound]))
    else {
      throw ConfigStoreError(.invalidArgument, "\(accepted), not '\(Self.hidingPassword(text))'")
    }
    var rest = String(text[separator.upperBound...])
    var user: String?
    var password: String?
    if let at = rest.lastIndex(of: "@") {
      let userInfo = rest[..<at]
      rest = String(rest[rest.index(after: at)...])
      guard kind == .etcd else {
        throw ConfigStoreError(
          .invalidArgument,
          "a memory:// URL takes no user or token; pass the store's token with --token or SKEIN_TOKEN"
        )
      }
      let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      user = String(parts[0]).removingPercentEncodingIfPossible
      password = parts.count > 1 ? String(parts[1]).removingPercentEncodingIfPossible : nil
      guard let user, !user.isEmpty else {
        throw ConfigStoreError(.invalidArgument, "\(accepted): the user before '@' is empty")
      }
    }
    do {
      self.init(
        kind: kind,
        address: try InstanceAddress(parsing: rest),
        user: user,
        password: password
      )
    } catch {
      throw ConfigStoreError(
        .invalidArgument,
        "\(accepted), not '\(Self.hidingPassword(text))': \(error)"
      )
    }
  }

  /// `text` with a password in it replaced by `***`, for messages.
  private static func hidingPassword(_ text: String) -> String {
    guard let separator = text.firstRange(of: "://"), let at = text.lastIndex(of: "@"),
      at > separator.upperBound,
      let colon = text[separator.upperBound..<at].firstIndex(of: ":")
    else { return text }
    return String(text[...colon]) + "***" + String(text[at...])
  }

  /// `kind://[user@]host:port`: never the password.
  public var description: String {
    "\(kind.rawValue)://\(user.map { "\($0)@" } ?? "")\(address)"
  }

  /// The HTTP endpoint of the store's etcd v3 JSON API.
  public var endpoint: String { "http://\(address)" }

  /// A client for the store; call ``EtcdConfigStore/shutdown()`` when done.
  ///
  /// - Parameters:
  ///   - requestTimeout: How long one request may take.
  ///   - reconnectWindow: How long a watch keeps reconnecting to a store that does not answer.
  ///   - credentials: Who to say the client is; by default the URL's user and password, when
  ///     it gives both.
  ///   - tls: Client TLS to etcd: the endpoint becomes `https://` and uses these certificates.
  public func open(
    requestTimeout: Duration = .seconds(2),
    reconnectWindow: Duration = .seconds(60),
    credentials: ConfigStoreCredentials? = nil,
    tls: EtcdTLS? = nil
  ) -> EtcdConfigStore {
    EtcdConfigStore(
      endpoint: tls == nil ? endpoint : "https://\(address)",
      requestTimeout: requestTimeout,
      reconnectWindow: reconnectWindow,
      credentials: credentials ?? urlCredentials,
      tls: tls
    )
  }

  /// The URL's user and password as credentials, when it gives both.
  public var urlCredentials: ConfigStoreCredentials? {
    guard let user, let password else { return nil }
    return .user(name: user, password: password)
  }
}

extension String {
  /// The text with `%XX` escapes decoded (a password may hold `@` or `:` that way), or as it
  /// is when it holds none that decode.
  fileprivate var removingPercentEncodingIfPossible: String {
    removingPercentEncoding ?? self
  }
}
