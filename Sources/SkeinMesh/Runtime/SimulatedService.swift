public import SkeinThrift

/// The types every simulated method is coded with, whatever the IDL declares: the mesh's
/// methods are data (`demo/mesh.yaml`), so its nodes call and serve them by name through
/// generic calls (``ThriftCallInvoker/invoke(_:named:args:)``) instead of generated code.
///
/// On the wire a call is what the IDL's own client would send with every field left at its
/// default except `Base`, and a reply is the IDL's response with only `BaseResp` set, so
/// Apache Thrift peers generated from the same IDL call the mesh and answer it.
public enum SimulatedMethod: ThriftMethod {
  public typealias Args = SimulatedArgs
  public typealias Result = SimulatedResult
  /// Not used on the wire: calls name their method.
  public static var serviceName: String { "" }
  /// Not used on the wire: calls name their method.
  public static var name: String { "" }
  /// Simulated methods always reply.
  public static var isOneway: Bool { false }
}

/// A simulated method's arguments: the first argument struct, of which only its `Base`
/// (field 255) is read; every other field is skipped.
public struct SimulatedArgs: ThriftArgs, Hashable {
  /// The request envelope.
  public var requestBase: ThriftBase?

  /// Arguments carrying `base`, or none for the runtime to fill.
  public init(base: ThriftBase? = nil) { self.requestBase = base }

  /// Reads field 1 as a request struct and keeps its `Base`.
  public init(from reader: inout ThriftBinaryReader) throws {
    requestBase = try reader.readEnvelope(ThriftBase.self, inField: 1).envelope
  }

  /// Writes `1: {255: Base}`; the request struct is written even without a `Base`, since
  /// the runtime sets one on every call.
  public func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.struct, id: 1)
    if let requestBase {
      writer.writeFieldBegin(.struct, id: 255)
      requestBase.write(to: &writer)
    }
    writer.writeFieldStop()
    writer.writeFieldStop()
  }
}

/// A simulated method's outcome: a response struct (field 0) holding only `BaseResp`.
public struct SimulatedResult: ThriftResult, Hashable {
  /// Whether the result holds a response (a reply without one is malformed).
  public private(set) var hasResponse: Bool
  /// The response envelope.
  public var responseBase: ThriftBaseResp?

  /// A response carrying `base`.
  public init(success base: ThriftBaseResp?) {
    hasResponse = true
    responseBase = base
  }

  /// Reads field 0 as a response struct and keeps its `BaseResp`; declared exceptions
  /// (fields 1…) are skipped, as the mesh declares none.
  public init(from reader: inout ThriftBinaryReader) throws {
    (hasResponse, responseBase) = try reader.readEnvelope(ThriftBaseResp.self, inField: 0)
  }

  /// Writes `0: {255: BaseResp}`.
  public func write(to writer: inout ThriftBinaryWriter) {
    if hasResponse {
      writer.writeFieldBegin(.struct, id: 0)
      if let responseBase {
        writer.writeFieldBegin(.struct, id: 255)
        responseBase.write(to: &writer)
      }
      writer.writeFieldStop()
    }
    writer.writeFieldStop()
  }

  /// The response's envelope.
  ///
  /// - Throws: ``ThriftApplicationException`` when the reply held no response.
  public func get() throws -> ThriftBaseResp? {
    guard hasResponse else {
      throw ThriftApplicationException(.missingResult, "the reply held no response")
    }
    return responseBase
  }
}

/// A service whose methods are defined at run time: each request is handed, with its method's
/// name, to one handler. The demo mesh's nodes serve their mesh service with it.
public struct SimulatedService: ThriftService {
  /// Runs one call of the named method.
  public typealias Handler = @Sendable (String, SimulatedArgs) async throws -> SimulatedResult

  /// Not known statically; see ``idlServiceName``.
  public static var serviceName: String { "" }
  /// Not known statically: ``methods`` are.
  public static var methodNames: [String] { [] }

  /// The IDL service served, for error messages.
  public let idlServiceName: String
  /// The methods served; a call of any other is an unknown method.
  public let methods: Set<String>
  private let handler: Handler

  /// A service named `idlServiceName` serving `methods` with `handler`.
  public init(idlServiceName: String, methods: Set<String>, handler: @escaping Handler) {
    self.idlServiceName = idlServiceName
    self.methods = methods
    self.handler = handler
  }

  /// Hands a known method to the visitor with the handler bound to its name.
  public nonisolated(nonsending) func dispatch<Visitor: ThriftMethodVisitor>(
    method: String,
    to visitor: Visitor
  ) async throws -> Visitor.Output? {
    guard methods.contains(method) else { return nil }
    let handler = self.handler
    return try await visitor.visit(SimulatedMethod.self) { args in try await handler(method, args) }
  }
}

extension ThriftBinaryReader {
  /// Reads a struct whose field `id` is a struct carrying an envelope in its field 255, and
  /// skips everything else: whether field `id` was there, and the envelope if it was.
  fileprivate mutating func readEnvelope<Envelope: ThriftStruct>(
    _ type: Envelope.Type,
    inField id: Int16
  ) throws -> (present: Bool, envelope: Envelope?) {
    var present = false
    var envelope: Envelope?
    try readStructBegin()
    while let field = try readFieldBegin() {
      guard field.id == id, field.type == .struct else {
        try skip(field.type)
        continue
      }
      present = true
      try readStructBegin()
      while let inner = try readFieldBegin() {
        if inner.id == 255, inner.type == .struct {
          envelope = try Envelope(from: &self)
        } else {
          try skip(inner.type)
        }
      }
      readStructEnd()
    }
    readStructEnd()
    return (present, envelope)
  }
}
