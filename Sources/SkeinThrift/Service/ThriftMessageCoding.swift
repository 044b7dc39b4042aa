extension ThriftBinaryWriter {
  /// Writes a complete call message: header, then the argument struct.
  @inlinable
  public mutating func writeCall<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args,
    sequenceID: Int32
  ) {
    writeCall(method, named: Method.name, args: args, sequenceID: sequenceID)
  }

  /// Writes a complete call message of the method named `name` on the wire, coded with
  /// `Method`'s types (a generic call).
  @inlinable
  public mutating func writeCall<Method: ThriftMethod>(
    _ method: Method.Type,
    named name: String,
    args: Method.Args,
    sequenceID: Int32
  ) {
    let type: ThriftMessageType = Method.isOneway ? .oneway : .call
    writeMessageBegin(ThriftMessageHeader(name: name, type: type, sequenceID: sequenceID))
    args.write(to: &self)
  }

  /// Writes a complete reply message: header, then the result struct.
  @inlinable
  public mutating func writeReply<Method: ThriftMethod>(
    _ method: Method.Type,
    result: Method.Result,
    sequenceID: Int32
  ) {
    writeReply(method, named: Method.name, result: result, sequenceID: sequenceID)
  }

  /// Writes a complete reply message named `name`, which echoes the request's name (a server
  /// of methods defined at run time has no other).
  @inlinable
  public mutating func writeReply<Method: ThriftMethod>(
    _ method: Method.Type,
    named name: String,
    result: Method.Result,
    sequenceID: Int32
  ) {
    writeMessageBegin(ThriftMessageHeader(name: name, type: .reply, sequenceID: sequenceID))
    result.write(to: &self)
  }

  /// Writes a complete `EXCEPTION` message carrying a ``ThriftApplicationException``.
  public mutating func writeException(
    _ exception: ThriftApplicationException,
    method: String,
    sequenceID: Int32
  ) {
    writeMessageBegin(ThriftMessageHeader(name: method, type: .exception, sequenceID: sequenceID))
    exception.write(to: &self)
  }
}

extension ThriftBinaryReader {
  /// Reads the body of a reply whose header has been read: the result struct, or for an
  /// `EXCEPTION` message the ``ThriftApplicationException``, which is thrown.
  ///
  /// - Throws: ``ThriftApplicationException`` for an `EXCEPTION` message;
  ///   ``ThriftProtocolError`` for a message of the wrong type or malformed bytes.
  public mutating func readReply<Method: ThriftMethod>(
    _ method: Method.Type,
    header: ThriftMessageHeader
  ) throws -> Method.Result {
    switch header.type {
    case .reply:
      return try Method.Result(from: &self)
    case .exception:
      throw try ThriftApplicationException(from: &self)
    case .call, .oneway:
      throw ThriftProtocolError.invalidData(
        "expected a reply to '\(header.name)', got a \(header.type) message"
      )
    }
  }
}
