extension ThriftBinaryWriter {
  /// Writes a complete call message: header, then the argument struct.
  @inlinable
  public mutating func writeCall<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args,
    sequenceID: Int32
  ) {
    let type: ThriftMessageType = Method.isOneway ? .oneway : .call
    writeMessageBegin(ThriftMessageHeader(name: Method.name, type: type, sequenceID: sequenceID))
    args.write(to: &self)
  }

  /// Writes a complete reply message: header, then the result struct.
  @inlinable
  public mutating func writeReply<Method: ThriftMethod>(
    _ method: Method.Type,
    result: Method.Result,
    sequenceID: Int32
  ) {
    writeMessageBegin(ThriftMessageHeader(name: Method.name, type: .reply, sequenceID: sequenceID))
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
        "expected a reply to '\(Method.name)', got a \(header.type) message"
      )
    }
  }
}
