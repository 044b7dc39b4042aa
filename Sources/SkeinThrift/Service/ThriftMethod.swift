/// Describes one method of a Thrift service by its generated types: the caseless enum that
/// generated code declares for each method conforms to this.
///
/// The RPC runtime and middleware are generic over a method, so they see its arguments and
/// result with their real types and nothing is boxed on the way.
public protocol ThriftMethod: Sendable {
  /// The struct that carries the method's parameters (`<method>_args` on the wire).
  associatedtype Args: ThriftArgs
  /// The struct that carries the return value or a declared exception (`<method>_result`).
  associatedtype Result: ThriftResult

  /// The service as named in the IDL (the service that declares the method).
  static var serviceName: String { get }
  /// The method's name as it appears in the message header.
  static var name: String { get }
  /// Whether the method is `oneway`: the caller sends and gets no reply.
  static var isOneway: Bool { get }
}

/// A method's argument struct.
public protocol ThriftArgs: ThriftStruct {
  /// The request's `Base` (field 255 of the first argument), where the first argument is a
  /// struct that carries one; `nil` otherwise. Setting it on args that carry no `Base` does
  /// nothing.
  var requestBase: ThriftBase? { get set }
}

extension ThriftArgs {
  /// Args without a `Base` carry none.
  public var requestBase: ThriftBase? {
    get { nil }
    set {}
  }
}

/// A method's result struct: the return value in field 0 or one declared exception.
public protocol ThriftResult: ThriftStruct {
  /// What the method returns on success (`Void` for `void` methods).
  associatedtype Success: Sendable

  /// A result holding a successful return value.
  init(success: Success)

  /// Returns the value or throws the declared exception the result holds.
  ///
  /// - Throws: The declared exception, or ``ThriftApplicationException`` with
  ///   ``ThriftApplicationException/Kind/missingResult`` when a non-void result holds nothing.
  func get() throws -> Success

  /// The response's `BaseResp` (field 255 of the returned struct), where the method returns a
  /// struct that carries one and the result holds a value; `nil` otherwise.
  var responseBase: ThriftBaseResp? { get set }
}

extension ThriftResult {
  /// Results without a `BaseResp` carry none.
  public var responseBase: ThriftBaseResp? {
    get { nil }
    set {}
  }
}

/// The result of a `oneway` method: nothing is ever sent back.
public struct ThriftOnewayResult: ThriftResult {
  /// Creates the empty result.
  public init(success: Void = ()) {}

  /// Reads an empty struct (never sent on the wire; present so every method has a result type).
  public init(from reader: inout ThriftBinaryReader) throws {
    try reader.skip(.struct)
  }

  /// Writes an empty struct.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldStop()
  }

  /// A oneway call has no outcome to report.
  public func get() {}
}

/// Unwraps an argument the caller left out, for a handler that takes it as non-optional.
///
/// Generated processors call this for struct-typed parameters: on the wire such a parameter
/// may be absent, and the handler gets a clear error reply instead of a value it never sent.
///
/// - Throws: ``ThriftApplicationException`` (``ThriftApplicationException/Kind/protocolError``).
@inlinable
public func thriftArgument<Value>(_ value: Value?, named name: String, of method: String) throws
  -> Value
{
  guard let value else {
    throw ThriftApplicationException(.protocolError, "argument '\(name)' of '\(method)' is missing")
  }
  return value
}
