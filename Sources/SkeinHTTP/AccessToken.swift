import NIOCore
import NIOHTTP1

/// A shared secret a client must present to an HTTP endpoint (the embedded config store, an
/// admin endpoint): sent as the `Authorization` header, either bare (as etcd's clients send
/// their token) or as `Bearer TOKEN` (as Prometheus and curl users write it).
///
/// Compared in constant time, so how long a wrong guess takes says nothing about how much of it
/// was right.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible {
  /// The shortest token accepted: 16 characters, so a token is not a word a person guesses.
  public static let minimumLength = 16
  /// The longest token accepted: 4096 characters, far above any generated secret.
  public static let maximumLength = 4096

  private let bytes: [UInt8]

  /// Wraps a secret.
  ///
  /// - Throws: ``AccessTokenError`` when it is shorter than ``minimumLength``, longer than
  ///   ``maximumLength``, or holds whitespace or control characters (a header cannot carry
  ///   them intact).
  public init(_ secret: String) throws(AccessTokenError) {
    let bytes = Array(secret.utf8)
    guard bytes.count >= Self.minimumLength else {
      throw AccessTokenError(
        "a token must be at least \(Self.minimumLength) characters (AccessToken.minimumLength), "
          + "not \(bytes.count); `openssl rand -hex 32` makes a good one"
      )
    }
    guard bytes.count <= Self.maximumLength else {
      throw AccessTokenError(
        "a token must be at most \(Self.maximumLength) characters (AccessToken.maximumLength)"
      )
    }
    guard bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7f }) else {
      throw AccessTokenError("a token cannot hold spaces or control characters")
    }
    self.bytes = bytes
  }

  /// Never the secret itself: logs and error messages print this.
  public var description: String { "AccessToken(\(bytes.count) characters)" }

  /// The header value a client sends.
  public var headerValue: String { String(decoding: bytes, as: UTF8.self) }

  /// Whether `request` carries this token in its `Authorization` header.
  public func isPresented(in request: HTTPRequest) -> Bool {
    isPresented(authorization: request.head.headers.first(name: "Authorization"))
  }

  /// Whether an `Authorization` header's value is this token (bare or after `Bearer `).
  public func isPresented(authorization value: String?) -> Bool {
    guard let value else { return false }
    var presented = Array(value.utf8)
    let bearer = Array("Bearer ".utf8)
    if presented.count > bearer.count,
      presented[..<bearer.count].elementsEqual(bearer, by: { $0 | 0x20 == $1 | 0x20 })
    {
      presented.removeFirst(bearer.count)
    }
    return Self.constantTimeEquals(presented, bytes)
  }

  /// Compares every byte of the expected secret whatever the presented one holds, so the time
  /// taken depends only on the secret's length.
  static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
    var difference = UInt8(presented.count == expected.count ? 0 : 1)
    for index in expected.indices {
      let byte = presented.isEmpty ? 0 : presented[index % presented.count]
      difference |= byte ^ expected[index]
    }
    return difference == 0
  }
}

/// A token that cannot be used, and why.
public struct AccessTokenError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What is wrong, for a person.
  public var message: String

  /// Creates the error.
  public init(_ message: String) { self.message = message }

  /// The message.
  public var description: String { message }
}

/// Where an HTTP endpoint may listen: loopback unless the caller said otherwise and gave a
/// token, so a node or store is never reachable from the network by accident.
public enum ListenPolicy {
  /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
  public static func isLoopback(_ host: String) -> Bool {
    if host == "localhost" { return true }
    // Parsed, then printed back, so every spelling of an address compares alike.
    guard let address = try? SocketAddress(ipAddress: host, port: 0),
      let canonical = address.ipAddress
    else { return false }
    return canonical.hasPrefix("127.") || canonical == "::1"
  }

  /// Checks that listening on `host` is allowed.
  ///
  /// - Parameters:
  ///   - host: Where the endpoint is to listen.
  ///   - allowNonLoopback: Whether the operator asked for an address beyond loopback.
  ///   - token: The token mutating (or all) requests will need.
  ///   - what: The endpoint, for the message (`the config store`).
  ///   - flags: How a person sets the two, for the message
  ///     (`--allow-remote and --token (or SKEIN_TOKEN)`).
  /// - Throws: ``ListenRefused`` naming what is missing.
  public static func check(
    host: String,
    allowNonLoopback: Bool,
    token: AccessToken?,
    what: String,
    flags: String
  ) throws(ListenRefused) {
    if isLoopback(host) { return }
    guard allowNonLoopback else {
      throw ListenRefused(
        "refusing to serve \(what) on \(host): it is not a loopback address, and listening "
          + "beyond loopback needs \(flags)"
      )
    }
    guard token != nil else {
      throw ListenRefused(
        "refusing to serve \(what) on \(host) without a token: anyone who reaches it could "
          + "change it; listening beyond loopback needs \(flags)"
      )
    }
  }
}

/// Listening on an address the configuration does not allow.
public struct ListenRefused: Error, Sendable, Hashable, CustomStringConvertible {
  /// What was refused and what would allow it.
  public var message: String

  /// Creates the error.
  public init(_ message: String) { self.message = message }

  /// The message.
  public var description: String { message }
}
