public import SkeinThrift

/// Why a call failed, told apart the way a caller must handle it: a timeout is retried
/// differently from a refused connection, a remote exception not at all.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of failure; a stable code for metrics and programs.
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    /// The code's stable name.
    public let name: String
    private init(_ name: String) { self.name = name }

    /// The call's deadline or timeout passed before the reply came.
    public static let timeout = Code("timeout")
    /// No connection could be made to the instance.
    public static let connectFailed = Code("connect_failed")
    /// The connection broke during the call.
    public static let transport = Code("transport")
    /// The remote side answered with an application exception.
    public static let remote = Code("remote")
    /// The caller cancelled the call.
    public static let cancelled = Code("cancelled")
    /// Too many calls are waiting for a connection; the queue limit was reached.
    public static let overloaded = Code("overloaded")
    /// No instance of the callee is known.
    public static let noInstance = Code("no_instance")
    /// The client or server was shut down.
    public static let shutdown = Code("shutdown")
    /// The reply did not decode.
    public static let protocolError = Code("protocol")
    /// The route is degraded: the caller failed fast without touching the network.
    public static let degraded = Code("degraded")
    /// The server's access control refused the caller.
    public static let denied = Code("denied")
    /// The route's circuit breaker is open: the call was refused without touching the network.
    public static let breakerOpen = Code("breaker_open")

    /// The name.
    public var description: String { name }
  }

  /// The kind of failure.
  public var code: Code
  /// What happened, for a person.
  public var message: String
  /// The remote exception, for ``Code/remote``.
  public var remoteException: ThriftApplicationException?

  /// Creates an error.
  public init(_ code: Code, _ message: String, remoteException: ThriftApplicationException? = nil) {
    self.code = code
    self.message = message
    self.remoteException = remoteException
  }

  /// `code: message`.
  public var description: String { "\(code): \(message)" }

  /// How a server's access-control refusal starts its message on the wire.
  public static let permissionDeniedPrefix = "permission denied: "
}

/// A server refused a call whose deadline had already passed, without running the handler.
public struct DeadlineExceeded: Error, ThriftApplicationExceptionConvertible,
  CustomStringConvertible
{
  /// How long ago the deadline passed.
  public var overdue: Duration

  /// Creates the error.
  public init(overdue: Duration) { self.overdue = overdue }

  /// Sent to the caller as an `INTERNAL_ERROR` whose message starts with `deadline exceeded`.
  public var applicationException: ThriftApplicationException {
    ThriftApplicationException(.internalError, description)
  }

  /// `deadline exceeded …`.
  public var description: String { "deadline exceeded \(overdue) before the handler ran" }
}
