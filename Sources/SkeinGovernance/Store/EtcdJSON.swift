import Foundation

// etcd's v3 JSON, the subset Skein speaks: `EtcdConfigStore` sends the requests and reads the
// answers, `ConfigStoreServer` reads the requests and sends the answers, so the embedded store
// served over loopback and a real etcd are the same thing to the one client.
//
// Keys and values are base64. 64-bit integers travel as JSON strings (numbers are accepted
// too, as etcd's gateway does), and zero values are left out, hence the optionals: an encoder
// leaves out what is `nil`.

/// A 64-bit integer as etcd's JSON writes it: a string, though a number is read as well (curl
/// users write `{"TTL": 30}`).
struct EtcdInt64: Codable, Hashable {
  var value: Int64

  init(_ value: Int64) { self.value = value }

  /// `nil` for zero, which etcd leaves out.
  static func nonZero(_ value: Int64) -> EtcdInt64? { value == 0 ? nil : EtcdInt64(value) }

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let number = try? container.decode(Int64.self) {
      value = number
      return
    }
    let text = try container.decode(String.self)
    guard let number = Int64(text) else {
      throw DecodingError.dataCorruptedError(
        in: container,
        debugDescription: "'\(text)' is not a 64-bit integer"
      )
    }
    value = number
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(String(value))
  }
}

struct EtcdHeader: Codable {
  var revision: EtcdInt64?

  init(revision: Int64) { self.revision = .nonZero(revision) }
}

/// An answer whose only content is the header (put, lease revoke).
struct EtcdHeaderOnly: Codable {
  var header: EtcdHeader?
}

struct EtcdKeyValue: Codable {
  var key: String?
  var value: String?
  var modRevision: EtcdInt64?
  var lease: EtcdInt64?

  enum CodingKeys: String, CodingKey {
    case key, value, lease
    case modRevision = "mod_revision"
  }
}

struct EtcdPutRequest: Codable {
  var key: String?
  var value: String?
  var lease: EtcdInt64?
}

/// The keys a range or delete-range request selects: one key, or [key, range_end).
struct EtcdKeyRange: Codable {
  var key: String?
  var rangeEnd: String?

  enum CodingKeys: String, CodingKey {
    case key
    case rangeEnd = "range_end"
  }
}

struct EtcdRangeResponse: Codable {
  var header: EtcdHeader?
  var kvs: [EtcdKeyValue]?
  var count: EtcdInt64?
}

struct EtcdDeleteRangeResponse: Codable {
  var header: EtcdHeader?
  var deleted: EtcdInt64?
}

struct EtcdLeaseGrantRequest: Codable {
  var ttl: EtcdInt64?

  enum CodingKeys: String, CodingKey {
    case ttl = "TTL"
  }
}

/// A lease's grant or keep-alive answer.
struct EtcdLeaseGrantResponse: Codable {
  var header: EtcdHeader?
  var id: EtcdInt64?
  var ttl: EtcdInt64?
  var error: String?

  enum CodingKeys: String, CodingKey {
    case header, error
    case id = "ID"
    case ttl = "TTL"
  }
}

struct EtcdLeaseIDRequest: Codable {
  var id: EtcdInt64?

  enum CodingKeys: String, CodingKey {
    case id = "ID"
  }
}

/// The keep-alive endpoint is a stream, so its one answer comes wrapped in `result`; etcd says
/// a lease is gone by leaving out the TTL rather than with an error.
struct EtcdKeepAliveLine: Codable {
  /// The same fields as a grant's answer, without its error.
  var result: EtcdLeaseGrantResponse?
  var error: EtcdError?
}

struct EtcdWatchRequest: Codable {
  struct Create: Codable {
    var key: String?
    var rangeEnd: String?
    var startRevision: EtcdInt64?

    enum CodingKeys: String, CodingKey {
      case key
      case rangeEnd = "range_end"
      case startRevision = "start_revision"
    }
  }

  var createRequest: Create?

  enum CodingKeys: String, CodingKey {
    case createRequest = "create_request"
  }
}

struct EtcdWatchEvent: Codable {
  /// `DELETE`, or left out for a put (the zero value).
  var type: String?
  var kv: EtcdKeyValue?
}

/// One line of a watch stream.
struct EtcdWatchLine: Codable {
  struct Result: Codable {
    var header: EtcdHeader?
    var created: Bool?
    var canceled: Bool?
    var compactRevision: EtcdInt64?
    var cancelReason: String?
    var events: [EtcdWatchEvent]?

    enum CodingKeys: String, CodingKey {
      case header, created, canceled, events
      case compactRevision = "compact_revision"
      case cancelReason = "cancel_reason"
    }
  }

  var result: Result?
  var error: EtcdError?
}

/// etcd's error body: gRPC's status code and message.
struct EtcdError: Codable, Error {
  /// The gRPC status codes Skein's stores use.
  enum Code {
    static let invalidArgument = 3
    static let notFound = 5
    static let permissionDenied = 7
    static let resourceExhausted = 8
    static let outOfRange = 11
    static let unimplemented = 12
    static let unauthenticated = 16
  }

  var error: String?
  var message: String?
  var code: Int?

  /// An error whose `error` and `message` are both `message`, as etcd writes them.
  init(code: Int, _ message: String) {
    self.error = message
    self.message = message
    self.code = code
  }

  func storeError(endpoint: String) -> ConfigStoreError {
    let text = message ?? error ?? "an error without a message"
    if isAuthenticationFailure {
      return ConfigStoreError(.unauthenticated, "etcd at \(endpoint): \(text)")
    }
    switch code {
    case Code.permissionDenied:
      return ConfigStoreError(.permissionDenied, "etcd at \(endpoint): \(text)")
    // NOT_FOUND: the only thing etcd's KV and lease calls fail to find is a lease.
    case Code.notFound: return ConfigStoreError(.leaseNotFound, text)
    case Code.invalidArgument: return ConfigStoreError(.invalidArgument, text)
    // OUT_OF_RANGE: a revision older than the compacted history.
    case Code.outOfRange: return ConfigStoreError(.compacted, text)
    default: return ConfigStoreError(.unavailable, "etcd at \(endpoint): \(text)")
    }
  }
}

extension EtcdError {
  /// Whether etcd did not know who asked: no token (`user name is empty`, which etcd sends as
  /// INVALID_ARGUMENT), an expired or unknown one (UNAUTHENTICATED, `invalid auth token`), a
  /// token minted before the users or roles changed (`revision of auth store is old`), or a
  /// wrong user or password (`authentication failed`). A fresh token fixes the first three.
  var isAuthenticationFailure: Bool {
    code == Code.unauthenticated || Self.isAuthenticationFailure(message ?? error ?? "")
  }

  /// Whether a message (an error's, a cancelled watch's reason) says etcd did not know who
  /// asked.
  static func isAuthenticationFailure(_ message: String) -> Bool {
    let text = message.lowercased()
    return [
      "user name is empty", "invalid auth token", "auth store is old", "authentication failed",
      "code = unauthenticated",
    ].contains { text.contains($0) }
  }
}

/// `/v3/auth/authenticate`'s request.
struct EtcdAuthenticateRequest: Codable {
  var name: String
  var password: String
}

/// `/v3/auth/authenticate`'s answer: the token to send as `Authorization`.
struct EtcdAuthenticateResponse: Codable {
  var header: EtcdHeader?
  var token: String?
}

/// Base64 and key ranges, as etcd's JSON spells them.
enum EtcdEncoding {
  /// `value` as JSON, with `/` left as it is (keys in messages stay readable).
  static func json(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return try encoder.encode(value)
  }

  static func encode(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

  /// The bytes of a base64 field; `nil` (a left-out field) is empty, etcd's zero value.
  static func bytes(_ base64: String?) -> [UInt8]? {
    guard let base64 else { return [] }
    return Data(base64Encoded: base64).map { Array($0) }
  }

  /// The key and range end that select every key starting with `prefix`: etcd takes ranges
  /// as [key, range_end), so the end is the prefix with its last byte incremented (a trailing
  /// 0xff byte cannot be, so it is dropped first); `\0` as both means every key.
  static func range(_ prefix: String) -> (key: String, rangeEnd: String) {
    guard let end = rangeEnd(ofPrefix: Array(prefix.utf8)) else {
      return (encode("\0"), encode("\0"))
    }
    return (encode(prefix), Data(end).base64EncodedString())
  }

  /// The end of the range of keys starting with `prefix`, or `nil` when there is none (the
  /// prefix is empty or all 0xff bytes: every key from it on).
  static func rangeEnd(ofPrefix prefix: [UInt8]) -> [UInt8]? {
    var end = prefix
    while let last = end.last, last == 0xff { end.removeLast() }
    guard let last = end.last else { return nil }
    end[end.count - 1] = last + 1
    return end
  }
}
