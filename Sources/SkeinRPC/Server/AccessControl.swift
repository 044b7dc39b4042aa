public import SkeinThrift
import Synchronization

/// A server-side allow-list of callers per method: a method with a list admits only the
/// services on it; a method without one admits everyone. A refused caller gets a
/// ``RPCError/Code/denied`` error and is counted.
public final class AccessControlMiddleware: Middleware {
  private let allowed: [String: Set<ServiceName>]
  private let denials = Mutex<[DeniedCall: Int]>([:])

  /// A caller refused a method.
  public struct DeniedCall: Sendable, Hashable {
    /// The calling service (as its `Base.Caller` named it).
    public var caller: ServiceName
    /// The method it called.
    public var method: String

    /// Creates a record.
    public init(caller: ServiceName, method: String) {
      self.caller = caller
      self.method = method
    }
  }

  /// Creates the middleware.
  ///
  /// - Parameter allowed: For each method (as the IDL names it), the services that may call it.
  public init(allowed: [String: Set<ServiceName>]) {
    self.allowed = allowed
  }

  /// How many calls were refused, by caller and method.
  public var deniedCalls: [DeniedCall: Int] { denials.withLock { $0 } }

  /// Refuses callers not on the method's list.
  public func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    if let callers = allowed[context.route.method], !callers.contains(context.route.from) {
      denials.withLock {
        $0[DeniedCall(caller: context.route.from, method: context.route.method), default: 0] += 1
      }
      throw AccessDenied(caller: context.route.from, method: context.route.method)
    }
    return try await next(context, args)
  }
}

/// A caller is not on a method's allow-list. It reaches the caller as an application exception
/// whose message starts with ``RPCError/permissionDeniedPrefix``, which Skein's client turns
/// back into ``RPCError/Code/denied``.
public struct AccessDenied: Error, ThriftApplicationExceptionConvertible, CustomStringConvertible {
  /// The refused caller.
  public var caller: ServiceName
  /// The method.
  public var method: String

  /// `permission denied: caller may not call method`.
  public var description: String {
    "\(RPCError.permissionDeniedPrefix)'\(caller)' may not call '\(method)'"
  }

  /// The exception the caller receives (Thrift has no permission kind: `UNKNOWN` with the
  /// message).
  public var applicationException: ThriftApplicationException {
    ThriftApplicationException(.unknown, description)
  }
}
