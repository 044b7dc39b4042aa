public import GRPCCore

/// The gRPC echo method shared by `grpc-echo-server` and the load client in `skein-bench`.
public enum GRPCEcho {
  /// `/skein.bench.Echo/Visit`: takes the raw bytes of a name, answers `"hello, "` + them.
  public static let visit = MethodDescriptor(
    fullyQualifiedService: "skein.bench.Echo",
    method: "Visit"
  )

  /// The HTTP/2 `:path` of ``visit``.
  public static let path = "/skein.bench.Echo/Visit"

  /// The bytes put before the request in every reply.
  public static let greeting: [UInt8] = Array("hello, ".utf8)
}

/// Sends a message's bytes as they are: the echo messages are plain byte arrays, no protobuf.
public struct RawBytesSerializer: MessageSerializer {
  /// Creates the serializer.
  public init() {}

  /// The bytes, copied into the transport's type.
  public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
    Bytes(message)
  }
}

/// Receives a message's bytes as they are.
public struct RawBytesDeserializer: MessageDeserializer {
  /// Creates the deserializer.
  public init() {}

  /// The bytes, copied out of the transport's type.
  public func deserialize<Bytes: GRPCContiguousBytes>(
    _ serializedMessageBytes: Bytes
  ) throws -> [UInt8] {
    serializedMessageBytes.withUnsafeBytes { Array($0) }
  }
}
