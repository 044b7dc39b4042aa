/// The framework's view of the conventional request envelope, `base.Base`
/// (`1: string LogID, 2: string Caller, 3: optional map<string,string> Extra`).
///
/// Generated code converts between the user's own `Base` struct and this, so the runtime can
/// read and fill it without knowing the user's types. A struct is recognized as a `Base` by
/// its name and those three fields; field 255 named `Base` on a request struct carries it.
public struct ThriftBase: Sendable, Hashable {
  /// The id that ties together every log line of one request across services.
  public var logID: String
  /// The calling service.
  public var caller: String
  /// Free-form metadata; Skein keeps the remaining deadline here.
  public var extra: [String: String]?

  /// Creates a base.
  public init(logID: String = "", caller: String = "", extra: [String: String]? = nil) {
    self.logID = logID
    self.caller = caller
    self.extra = extra
  }
}

/// The framework's view of the conventional response envelope, `base.BaseResp`
/// (`1: string StatusMessage, 2: i32 StatusCode, 3: optional map<string,string> Extra`).
public struct ThriftBaseResp: Sendable, Hashable {
  /// A human-readable status.
  public var statusMessage: String
  /// A service-defined status code; 0 means success.
  public var statusCode: Int32
  /// Free-form metadata.
  public var extra: [String: String]?

  /// Creates a base response.
  public init(statusMessage: String = "", statusCode: Int32 = 0, extra: [String: String]? = nil) {
    self.statusMessage = statusMessage
    self.statusCode = statusCode
    self.extra = extra
  }
}
