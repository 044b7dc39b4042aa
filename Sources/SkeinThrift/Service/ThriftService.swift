/// A Thrift service as a server sees it: the processor that generated code declares for each
/// service conforms to this, dispatching a method name to that method's types and handler.
///
/// Dispatch goes through a ``ThriftMethodVisitor`` so the caller (the server runtime, or
/// ``ThriftProcessor``) runs its own logic with the method's concrete argument and result
/// types: no boxing, no reflection, no lookup table built per call.
///
/// Dispatching, visiting and intercepting are `nonisolated(nonsending)`: they run on the
/// executor of the call that reached them, where a plain `async` function would hop to the
/// global executor when entered and back when it returns, two task-status locks each when the
/// call prefers an event loop.
public protocol ThriftService: Sendable {
  /// The service as named in the IDL.
  static var serviceName: String { get }
  /// Every method this processor serves, inherited ones included, in IDL order.
  static var methodNames: [String] { get }
  /// The service's name in error messages: ``serviceName`` unless the service is defined at
  /// run time (a simulated one serves whatever IDL service its configuration names).
  var idlServiceName: String { get }

  /// Calls `visitor` with the named method's descriptor and a closure that runs the handler.
  ///
  /// - Parameters:
  ///   - method: The method name from the message header.
  ///   - visitor: What to do with the method.
  /// - Returns: The visitor's output, or `nil` when the service has no such method.
  nonisolated(nonsending) func dispatch<Visitor: ThriftMethodVisitor>(
    method: String,
    to visitor: Visitor
  ) async throws -> Visitor.Output?
}

extension ThriftService {
  /// The IDL's name, ``serviceName``.
  public var idlServiceName: String { Self.serviceName }
}

/// What to do with a method once ``ThriftService/dispatch(method:to:)`` has found it.
public protocol ThriftMethodVisitor: Sendable {
  /// What visiting produces (for a server: the reply to send, if any).
  associatedtype Output

  /// Handles one method.
  ///
  /// - Parameters:
  ///   - method: The method's descriptor.
  ///   - handler: Runs the user's handler. Declared exceptions come back inside the result;
  ///     anything else the handler throws is rethrown.
  nonisolated(nonsending) func visit<Method: ThriftMethod>(
    _ method: Method.Type,
    handler: nonisolated(nonsending) @escaping @Sendable (Method.Args) async throws -> Method.Result
  ) async throws -> Output
}

/// Performs calls for a generated client stub: encodes the arguments, gets them to a server,
/// and decodes the result. The RPC runtime's client (with its middleware chain) is one; a test
/// can supply another.
public protocol ThriftCallInvoker: Sendable {
  /// Performs one call.
  ///
  /// - Parameters:
  ///   - method: The method's descriptor.
  ///   - args: The arguments.
  /// - Returns: The decoded result (for a oneway method, once the call was sent).
  nonisolated(nonsending) func invoke<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args
  ) async throws -> Method.Result

  /// Performs one call of the method named `name` on the wire, with `Method`'s argument and
  /// result types: a generic call, for callers whose methods are data rather than generated
  /// code (a proxy, the demo mesh's simulated services). Conformers implement this one; the
  /// typed call above is it with `Method.name`.
  ///
  /// - Parameters:
  ///   - method: The types the arguments and result are coded with.
  ///   - name: The method's name in the message header and in the call's five-tuple.
  ///   - args: The arguments.
  /// - Returns: The decoded result (for a oneway method, once the call was sent).
  nonisolated(nonsending) func invoke<Method: ThriftMethod>(
    _ method: Method.Type,
    named name: String,
    args: Method.Args
  ) async throws -> Method.Result
}

extension ThriftCallInvoker {
  /// Calls `Method` by its own name.
  public nonisolated(nonsending) func invoke<Method: ThriftMethod>(
    _ method: Method.Type,
    args: Method.Args
  ) async throws -> Method.Result {
    try await invoke(method, named: Method.name, args: args)
  }
}
