public import SkeinThrift
import Synchronization

/// Who may call what: for an incoming call's route, the services allowed to make it, or `nil`
/// when everyone is. Consulted on every call, so an answer must be a lock and a lookup, no I/O.
public protocol AccessPolicy: Sendable {
  /// The callers allowed on `route` (its caller segments are the ones asking), or `nil` when
  /// the method is open to all.
  func allowedCallers(for route: FiveTuple) -> Set<ServiceName>?
}

/// A fixed allow-list per method name, set when the server starts.
public struct StaticAccessPolicy: AccessPolicy {
  /// For each method (as the IDL names it), the services that may call it.
  public var allowed: [String: Set<ServiceName>]

  /// Creates the policy.
  public init(allowed: [String: Set<ServiceName>]) { self.allowed = allowed }

  /// The list of the route's method, if it has one.
  public func allowedCallers(for route: FiveTuple) -> Set<ServiceName>? { allowed[route.method] }
}

/// A server-side allow-list of callers per method: a method with a list admits only the
/// services on it; a method without one admits everyone. A refused caller gets a
/// ``RPCError/Code/denied`` error and is counted.
///
/// The list is fixed (``init(allowed:)``) or comes from a live ``AccessPolicy`` (the config
/// store's `/skein/access/…` keys, through SkeinGovernance's `AccessRules`), read on every call
/// so a change applies to the next call without a restart.
///
/// A denial is final: ``RPCError/Code/denied`` is not retryable, so a caller's retries do not
/// carry a refused call to another instance, and breakers count it as a success (the callee is
/// healthy; the caller is not welcome).
public final class AccessControlMiddleware: Middleware {
  private let policy: any AccessPolicy
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
  public convenience init(allowed: [String: Set<ServiceName>]) {
    self.init(policy: StaticAccessPolicy(allowed: allowed))
  }

  /// Creates the middleware over a policy consulted on every call.
  ///
  /// - Parameter policy: Who may call what; a live one applies changes to the next call.
  public init(policy: any AccessPolicy) {
    self.policy = policy
  }

  /// How many calls were refused, by caller and method.
  public var deniedCalls: [DeniedCall: Int] { denials.withLock { $0 } }

  /// Refuses callers not on the method's list.
  public nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result {
    if let callers = policy.allowedCallers(for: context.route),
      !callers.contains(context.route.from)
    {
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
