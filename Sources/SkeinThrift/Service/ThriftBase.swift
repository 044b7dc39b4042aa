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

extension ThriftBase: ThriftStruct {
  /// Reads a `base.Base` struct; unknown fields are skipped. Callers whose methods are data,
  /// not generated code, read the envelope with this.
  public init(from reader: inout ThriftBinaryReader) throws {
    self.init()
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): logID = try reader.readString()
      case (2, .string): caller = try reader.readString()
      case (3, .map): extra = try reader.readStringMap()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  /// Writes the envelope as a `base.Base` struct.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(logID)
    writer.writeFieldBegin(.string, id: 2)
    writer.writeString(caller)
    if let extra {
      writer.writeFieldBegin(.map, id: 3)
      writer.writeStringMap(extra)
    }
    writer.writeFieldStop()
  }
}

extension ThriftBaseResp: ThriftStruct {
  /// Reads a `base.BaseResp` struct; unknown fields are skipped.
  public init(from reader: inout ThriftBinaryReader) throws {
    self.init()
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): statusMessage = try reader.readString()
      case (2, .i32): statusCode = try reader.readI32()
      case (3, .map): extra = try reader.readStringMap()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
  }

  /// Writes the envelope as a `base.BaseResp` struct.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(statusMessage)
    writer.writeFieldBegin(.i32, id: 2)
    writer.writeI32(statusCode)
    if let extra {
      writer.writeFieldBegin(.map, id: 3)
      writer.writeStringMap(extra)
    }
    writer.writeFieldStop()
  }
}

extension ThriftBinaryReader {
  /// Reads a `map<string, string>`.
  fileprivate mutating func readStringMap() throws -> [String: String] {
    try readMap(of: .string, .string) { reader in (try reader.readString(), try reader.readString())
    }
  }
}

extension ThriftBinaryWriter {
  /// Writes a `map<string, string>`.
  fileprivate mutating func writeStringMap(_ map: [String: String]) {
    writeMap(map, of: .string, .string) { writer, key, value in
      writer.writeString(key)
      writer.writeString(value)
    }
  }
}
