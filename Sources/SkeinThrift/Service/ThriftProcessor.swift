public import NIOCore

/// Turns one request message into its reply message, with no transport and no middleware: the
/// simplest complete server for a ``ThriftService``, and what the RPC runtime's server builds on.
///
/// Whatever the request holds, the processor answers the way Apache Thrift servers do: an
/// unknown method, undecodable arguments, a message that is not a call or a handler error that
/// is not a declared exception each become a ``ThriftApplicationException`` reply with the
/// request's sequence id.
public struct ThriftProcessor<Service: ThriftService>: Sendable {
  /// The service whose methods are called.
  public let service: Service
  /// The limits enforced on request bytes.
  public let limits: ThriftLimits

  /// Creates a processor.
  public init(_ service: Service, limits: ThriftLimits = .default) {
    self.service = service
    self.limits = limits
  }

  /// Handles one request message (without its frame length).
  ///
  /// - Parameter request: The request's bytes.
  /// - Returns: The reply's bytes, or `nil` for a oneway call or a message too broken to
  ///   answer (no readable header).
  public func process(_ request: ByteBuffer) async -> ByteBuffer? {
    var reader = ThriftBinaryReader(buffer: request, limits: limits)
    guard let header = try? reader.readMessageBegin() else { return nil }
    var writer = ThriftBinaryWriter(capacity: 256)
    guard header.type == .call || header.type == .oneway else {
      writer.writeException(
        ThriftApplicationException(
          .invalidMessageType,
          "expected a call or oneway message, got \(header.type)"
        ),
        method: header.name,
        sequenceID: header.sequenceID
      )
      return writer.buffer
    }
    let visitor = ReplyingVisitor(reader: reader, header: header)
    let reply: ByteBuffer??
    let failure: ThriftApplicationException
    do {
      reply = try await service.dispatch(method: header.name, to: visitor)
      failure = ThriftApplicationException(
        .unknownMethod,
        "unknown method '\(header.name)' of service '\(Service.serviceName)'"
      )
    } catch {
      // The visitor answers every failure itself; this is only reached if dispatch throws.
      reply = nil
      failure = ThriftApplicationException(.internalError, "\(error)")
    }
    if let reply { return reply }
    // A oneway caller reads no reply: one sent anyway would be taken as the answer to its
    // next call.
    if header.type == .oneway { return nil }
    writer.writeException(failure, method: header.name, sequenceID: header.sequenceID)
    return writer.buffer
  }
}

/// Decodes a method's arguments, runs its handler and encodes the reply.
private struct ReplyingVisitor: ThriftMethodVisitor {
  /// The reply to send; `nil` when none is due (a oneway call).
  typealias Output = ByteBuffer?

  let reader: ThriftBinaryReader
  let header: ThriftMessageHeader

  func visit<Method: ThriftMethod>(
    _ method: Method.Type,
    handler: @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async -> ByteBuffer? {
    let oneway = header.type == .oneway || Method.isOneway
    var reader = reader
    var writer = ThriftBinaryWriter(capacity: 256)
    let args: Method.Args
    do {
      args = try Method.Args(from: &reader)
    } catch {
      if oneway { return nil }
      writer.writeException(
        ThriftApplicationException(
          .protocolError,
          "cannot decode arguments of '\(header.name)': \(error)"
        ),
        method: header.name,
        sequenceID: header.sequenceID
      )
      return writer.buffer
    }
    do {
      let result = try await handler(args)
      if oneway { return nil }
      writer.writeReply(Method.self, result: result, sequenceID: header.sequenceID)
    } catch {
      if oneway { return nil }
      let exception =
        error as? ThriftApplicationException
        ?? ThriftApplicationException(.internalError, "\(error)")
      writer.writeException(exception, method: header.name, sequenceID: header.sequenceID)
    }
    return writer.buffer
  }
}
