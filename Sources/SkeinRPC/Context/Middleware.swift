public import SkeinThrift

/// One callable method: `(context, request) async throws -> response`, the go-kit shape.
///
/// The request and response are the method's generated argument and result structs, so a
/// middleware sees concrete values without any boxing.
///
/// Endpoints and middlewares are `nonisolated(nonsending)`: each runs on the executor its caller
/// is on. A plain `async` function switches to the generic executor when entered, and its
/// caller switches back once it returns; on a server, whose calls prefer their event loop, every
/// switch takes the task's status lock. A server call made 16 switches before, 9 now.
public struct Endpoint<Method: ThriftMethod>: Sendable {
  /// Runs the call.
  public let call:
    nonisolated(nonsending) @Sendable (CallContext, Method.Args) async throws
      -> Method.Result

  /// Wraps a closure as an endpoint.
  @inlinable
  public init(
    _ call:
      nonisolated(nonsending) @escaping @Sendable (CallContext, Method.Args) async throws
      -> Method.Result
  ) {
    self.call = call
  }

  /// Calls the endpoint.
  @inlinable
  public nonisolated(nonsending) func callAsFunction(
    _ context: CallContext,
    _ args: Method.Args
  ) async throws -> Method.Result {
    try await call(context, args)
  }
}

/// Turns an endpoint into an endpoint: logging, metrics, breakers, deadlines, access control.
///
/// A middleware is generic over the method, so one value wraps every method of every service.
/// It receives the next endpoint and decides whether, when and with what context to call it:
///
/// ```swift
/// struct Logging: Middleware {
///   nonisolated(nonsending) func handle<M: ThriftMethod>(
///     _ args: M.Args, context: CallContext, next: Endpoint<M>
///   ) async throws -> M.Result {
///     print("→ \(context.route)")
///     return try await next(context, args)
///   }
/// }
/// ```
///
/// A `handle` written without `nonisolated(nonsending)` works too; it just costs its call two
/// executor hops (see ``Endpoint``).
public protocol Middleware: Sendable {
  /// Handles one call.
  ///
  /// - Parameters:
  ///   - args: The request.
  ///   - context: The call's context.
  ///   - next: The rest of the chain.
  /// - Returns: The response.
  nonisolated(nonsending) func handle<Method: ThriftMethod>(
    _ args: Method.Args,
    context: CallContext,
    next: Endpoint<Method>
  ) async throws -> Method.Result
}

/// An ordered list of middlewares: the first one listed sees a call first.
public struct MiddlewareChain: Sendable {
  /// The middlewares, outermost first.
  public var middlewares: [any Middleware]

  /// Creates a chain.
  public init(_ middlewares: [any Middleware] = []) {
    self.middlewares = middlewares
  }

  /// `endpoint` wrapped by every middleware, the first listed outermost.
  @inlinable
  public func wrap<Method: ThriftMethod>(_ endpoint: Endpoint<Method>) -> Endpoint<Method> {
    middlewares.reversed().reduce(endpoint) { next, middleware in
      Endpoint { context, args in try await middleware.handle(args, context: context, next: next) }
    }
  }

  /// The chain with `middleware` added innermost (closest to the handler or the wire).
  public func appending(_ middleware: any Middleware) -> MiddlewareChain {
    MiddlewareChain(middlewares + [middleware])
  }
}
