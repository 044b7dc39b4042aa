public import NIOCore

/// Turns one request message into its reply message: the simplest complete server for a
/// ``ThriftService``, and what the RPC runtime's server builds on (it passes its middleware
/// chain as the ``ThriftCallInterceptor``).
///
/// Whatever the request holds, the processor answers the way Apache Thrift servers do: an
/// unknown method, undecodable arguments, a message that is not a call or a handler error that
/// is not a declared exception each become a ``ThriftApplicationException`` reply with the
/// request's sequence id. A oneway call never gets a reply, not even an error: its caller reads
/// none, and would take one as the answer to its next call.
public struct ThriftProcessor<Service: ThriftService>: Sendable {
  /// The service whose methods are called.
  public let service: Service
  /// The limits enforced on request bytes, and on the size of a framed reply.
  public let limits: ThriftLimits
  /// What runs around each decoded call (the RPC runtime's middleware chain), if anything.
  public let interceptor: (any ThriftCallInterceptor)?

  /// Creates a processor.
  ///
  /// - Parameters:
  ///   - service: The service to call.
  ///   - limits: The limits enforced on request bytes.
  ///   - interceptor: Runs around every decoded call; `nil` calls the handler directly.
  public init(
    _ service: Service,
    limits: ThriftLimits = .default,
    interceptor: (any ThriftCallInterceptor)? = nil
  ) {
    self.service = service
    self.limits = limits
    self.interceptor = interceptor
  }

  /// Handles one request message (without its frame length).
  ///
  /// - Parameter request: The request's bytes.
  /// - Returns: The reply's bytes, or `nil` for a oneway call or a message too broken to
  ///   answer (no readable header).
  public nonisolated(nonsending) func process(_ request: ByteBuffer) async -> ByteBuffer? {
    await process(request, framed: false)
  }

  /// Handles one request message (without its frame length), returning the reply with its
  /// 4-byte frame length in front when `framed`, so a server can send it as it is.
  ///
  /// - Parameters:
  ///   - request: The request's bytes.
  ///   - framed: Whether the reply starts with its frame length.
  /// - Returns: The reply's bytes, or `nil` when none is due.
  public nonisolated(nonsending) func process(_ request: ByteBuffer, framed: Bool) async
    -> ByteBuffer?
  {
    if let interceptor {
      return await process(request, framed: framed, interceptor: interceptor)
    }
    return await process(request, framed: framed, interceptor: Optional<DirectCall>.none)
  }

  /// Handles one request with `interceptor` around the call; generic so that a server's
  /// interceptor, handler and methods compile into one specialized path.
  ///
  /// - Parameters:
  ///   - request: The request's bytes.
  ///   - framed: Whether the reply starts with its frame length.
  ///   - interceptor: Runs around the call; `nil` calls the handler directly.
  /// - Returns: The reply's bytes, or `nil` when none is due.
  @inlinable
  public nonisolated(nonsending) func process<Interceptor: ThriftCallInterceptor>(
    _ request: ByteBuffer,
    framed: Bool,
    interceptor: Interceptor?
  ) async -> ByteBuffer? {
    await handle(request, framed: framed, interceptor: interceptor).reply
  }

  /// Handles one request with `interceptor` around the call, and says whether the request's
  /// bytes were corrupt (see ``ThriftProcessorOutcome/fault``): what a server needs to decide
  /// whether to go on reading the connection.
  ///
  /// - Parameters:
  ///   - request: The request's bytes.
  ///   - framed: Whether the reply starts with its frame length.
  ///   - interceptor: Runs around the call; `nil` calls the handler directly.
  /// - Returns: The reply, if one is due, and the fault, if any.
  @inlinable
  public nonisolated(nonsending) func handle<Interceptor: ThriftCallInterceptor>(
    _ request: ByteBuffer,
    framed: Bool,
    interceptor: Interceptor?
  ) async -> ThriftProcessorOutcome {
    var reader = ThriftBinaryReader(buffer: request, limits: limits)
    let header: ThriftMessageHeader
    do {
      header = try reader.readMessageBegin()
    } catch {
      // Without a header there is no sequence id to answer with.
      return ThriftProcessorOutcome(reply: nil, fault: ThriftProtocolError(unreadable: error))
    }
    let reply = ReplyBuilder(
      header: header,
      framed: framed,
      limits: limits,
      capacity: request.readableBytes
    )
    guard header.type == .call || header.type == .oneway else {
      return ThriftProcessorOutcome(
        reply: reply.exception(
          ThriftApplicationException(
            .invalidMessageType,
            "expected a call or oneway message, got \(header.type)"
          )
        )
      )
    }
    let visitor = ReplyingVisitor(reader: reader, reply: reply, interceptor: interceptor)
    do {
      if let output = try await service.dispatch(method: header.name, to: visitor) {
        return output
      }
      return ThriftProcessorOutcome(
        reply: reply.exception(
          ThriftApplicationException(
            .unknownMethod,
            "unknown method '\(header.name)' of service '\(service.idlServiceName)'"
          )
        )
      )
    } catch {
      // The visitor answers every failure itself; this is only reached if dispatch throws.
      return ThriftProcessorOutcome(
        reply: reply.exception(ThriftApplicationException(.internalError, "\(error)"))
      )
    }
  }
}

/// What one request came to: the reply to send, and whether the request's bytes were corrupt.
public struct ThriftProcessorOutcome: Sendable {
  /// The reply's bytes, or `nil` when none is due (a oneway call, an unreadable header).
  public var reply: ByteBuffer?
  /// Why the request's bytes cannot have come from an honest peer, when they cannot: an
  /// unreadable message header, or arguments that run past their own message, claim a
  /// negative or over-the-limit size, nest too deeply or name a type the protocol does not
  /// have (see ``ThriftProtocolError/meansCorruptInput``). A peer that sends such bytes is
  /// broken or hostile, so a server answers (when it can) and then closes the connection, as
  /// Apache Thrift's servers do. Arguments that are well-formed but do not fit the method's
  /// types (a missing required field) are a disagreement about the IDL, not a fault.
  public var fault: ThriftProtocolError?

  /// Creates an outcome.
  ///
  /// - Parameters:
  ///   - reply: The reply's bytes, if one is due.
  ///   - fault: Why the request was corrupt, if it was.
  @inlinable
  public init(reply: ByteBuffer?, fault: ThriftProtocolError? = nil) {
    self.reply = reply
    self.fault = fault
  }
}

/// Runs around each call a ``ThriftProcessor`` decodes: sees the method's concrete types, the
/// message header and the arguments, and decides whether and how to call the handler.
public protocol ThriftCallInterceptor: Sendable {
  /// Handles one decoded call.
  ///
  /// - Parameters:
  ///   - method: The method called.
  ///   - args: The decoded arguments.
  ///   - header: The request's message header.
  ///   - handler: The service's handler for the method.
  /// - Returns: The result to reply with.
  /// - Throws: Anything; the processor turns it into an exception reply (declared exceptions
  ///   belong in the result, not here).
  nonisolated(nonsending) func intercept<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args,
    header: ThriftMessageHeader,
    handler: nonisolated(nonsending) @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async throws -> Method.Result
}

/// Writes the reply to one request: its header fields, its framing, and no reply at all for
/// oneway calls.
@usableFromInline
struct ReplyBuilder: Sendable {
  @usableFromInline let header: ThriftMessageHeader
  @usableFromInline let framed: Bool
  @usableFromInline let limits: ThriftLimits
  /// The bytes to start the reply's buffer with.
  @usableFromInline let capacity: Int

  /// Creates a builder; `capacity` guesses the reply's size (the request's is a good guess:
  /// replies often carry back much of what came in), so a reply is written without growing.
  @inlinable
  init(header: ThriftMessageHeader, framed: Bool, limits: ThriftLimits, capacity: Int) {
    self.header = header
    self.framed = framed
    self.limits = limits
    self.capacity = min(max(capacity + 64, 256), ReplyBuilder.maxInitialCapacity)
  }

  /// The largest buffer a reply starts with, however large its request: beyond it, a reply
  /// grows as it is written.
  @usableFromInline static let maxInitialCapacity = 64 << 10

  @inlinable
  var isOneway: Bool { header.type == .oneway }

  /// A reply message carrying `result`; an exception if the reply is too large to frame.
  @inlinable
  func reply<Method: ThriftMethod>(_ method: Method.Type, _ result: Method.Result) -> ByteBuffer? {
    if isOneway || Method.isOneway { return nil }
    return build { writer in
      writer.writeReply(method, named: header.name, result: result, sequenceID: header.sequenceID)
    }
  }

  /// An `EXCEPTION` message, or `nil` for a oneway call.
  @usableFromInline
  func exception(_ exception: ThriftApplicationException) -> ByteBuffer? {
    if isOneway { return nil }
    return build { writer in
      writer.writeException(exception, method: header.name, sequenceID: header.sequenceID)
    }
  }

  @inlinable
  func build(_ write: (inout ThriftBinaryWriter) -> Void) -> ByteBuffer? {
    var writer = ThriftBinaryWriter(capacity: capacity)
    guard framed else {
      write(&writer)
      return writer.buffer
    }
    let frame = writer.beginFrame()
    write(&writer)
    do {
      try writer.endFrame(at: frame, maxFrameSize: limits.maxFrameSize)
      return writer.buffer
    } catch {
      // The result is too large to send: tell the caller instead of cutting the connection.
      writer.clear()
      let small = writer.beginFrame()
      writer.writeException(
        ThriftApplicationException(.internalError, "reply too large to send: \(error)"),
        method: header.name,
        sequenceID: header.sequenceID
      )
      try? writer.endFrame(at: small, maxFrameSize: limits.maxFrameSize)
      return writer.buffer
    }
  }
}

/// Decodes a method's arguments, runs its handler (through the interceptor) and encodes the
/// reply.
@usableFromInline
struct ReplyingVisitor<Interceptor: ThriftCallInterceptor>: ThriftMethodVisitor {
  /// The reply to send (`nil` when none is due: a oneway call), and the fault, if any.
  @usableFromInline typealias Output = ThriftProcessorOutcome

  @usableFromInline let reader: ThriftBinaryReader
  @usableFromInline let reply: ReplyBuilder
  @usableFromInline let interceptor: Interceptor?

  @inlinable
  init(reader: ThriftBinaryReader, reply: ReplyBuilder, interceptor: Interceptor?) {
    self.reader = reader
    self.reply = reply
    self.interceptor = interceptor
  }

  @inlinable
  nonisolated(nonsending) func visit<Method: ThriftMethod>(
    _ method: Method.Type,
    handler: nonisolated(nonsending) @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async -> ThriftProcessorOutcome {
    var reader = reader
    let args: Method.Args
    do {
      args = try Method.Args(from: &reader)
    } catch {
      let fault = (error as? ThriftProtocolError).flatMap { $0.meansCorruptInput ? $0 : nil }
      return ThriftProcessorOutcome(
        reply: reply.exception(
          ThriftApplicationException(
            .protocolError,
            "cannot decode arguments of '\(reply.header.name)': \(error)"
          )
        ),
        fault: fault
      )
    }
    do {
      let result: Method.Result
      if let interceptor {
        result = try await interceptor.intercept(
          method,
          args: args,
          header: reply.header,
          handler: handler
        )
      } else {
        result = try await handler(args)
      }
      return ThriftProcessorOutcome(reply: reply.reply(method, result))
    } catch {
      let exception =
        error as? ThriftApplicationException
        ?? (error as? any ThriftApplicationExceptionConvertible)?.applicationException
        ?? ThriftApplicationException(.internalError, "\(error)")
      return ThriftProcessorOutcome(reply: reply.exception(exception))
    }
  }
}

/// The interceptor type of a processor that calls handlers directly; never instantiated.
public struct DirectCall: ThriftCallInterceptor {
  /// Calls the handler.
  @inlinable
  public nonisolated(nonsending) func intercept<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args,
    header: ThriftMessageHeader,
    handler: nonisolated(nonsending) @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async throws -> Method.Result {
    try await handler(args)
  }
}

/// An error that knows which ``ThriftApplicationException`` describes it to a remote caller
/// (a refused deadline, a denied caller), so the processor need not call it an internal error.
public protocol ThriftApplicationExceptionConvertible: Error {
  /// The exception the caller receives.
  var applicationException: ThriftApplicationException { get }
}
