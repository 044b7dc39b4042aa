import NIOCore
import SkeinThrift

// A small service written by hand in the shape skein-gen emits for this IDL:
//
//   exception EchoError { 1: string reason }
//   service Echo {
//     string echo(1: string text)
//     oneway void notify(1: string text)
//     void fail(1: i32 mode) throws (1: EchoError error)
//   }

/// `exception EchoError`.
struct EchoError: Error, ThriftStruct, Hashable {
  var reason: String

  init(reason: String) { self.reason = reason }

  init(from reader: inout ThriftBinaryReader) throws {
    var reason = ""
    try reader.readStructBegin()
    while let field = try reader.readFieldBegin() {
      switch (field.id, field.type) {
      case (1, .string): reason = try reader.readString()
      default: try reader.skip(field.type)
      }
    }
    reader.readStructEnd()
    self.init(reason: reason)
  }

  func write(to writer: inout ThriftBinaryWriter) {
    writer.writeFieldBegin(.string, id: 1)
    writer.writeString(reason)
    writer.writeFieldStop()
  }
}

/// The `Echo` service: implement this to serve it.
protocol Echo: Sendable {
  func echo(text: String) async throws -> String
  func notify(text: String) async throws
  func fail(mode: Int32) async throws
}

/// The methods `Echo` declares, as the runtime sees them.
enum EchoMethods {
  /// `echo`.
  enum Echo: ThriftMethod {
    typealias Args = EchoArgs
    typealias Result = EchoResult
    static var serviceName: String { "Echo" }
    static var name: String { "echo" }
    static var isOneway: Bool { false }
  }

  /// The arguments of `echo`; `text` is required.
  struct EchoArgs: ThriftArgs, Hashable {
    var text: String

    init(text: String) { self.text = text }

    init(from reader: inout ThriftBinaryReader) throws {
      var text: String?
      try reader.readStructBegin()
      while let field = try reader.readFieldBegin() {
        switch (field.id, field.type) {
        case (1, .string): text = try reader.readString()
        default: try reader.skip(field.type)
        }
      }
      reader.readStructEnd()
      guard let text else {
        throw ThriftProtocolError.missingRequiredField("text", in: "echo_args")
      }
      self.init(text: text)
    }

    func write(to writer: inout ThriftBinaryWriter) {
      writer.writeFieldBegin(.string, id: 1)
      writer.writeString(text)
      writer.writeFieldStop()
    }
  }

  /// The outcome of `echo`: its return value.
  struct EchoResult: ThriftResult, Hashable {
    var success: String?

    private init(_ success: String?) { self.success = success }

    init(success: String) { self.init(success) }

    init(from reader: inout ThriftBinaryReader) throws {
      var success: String?
      try reader.readStructBegin()
      while let field = try reader.readFieldBegin() {
        switch (field.id, field.type) {
        case (0, .string): success = try reader.readString()
        default: try reader.skip(field.type)
        }
      }
      reader.readStructEnd()
      self.init(success)
    }

    func write(to writer: inout ThriftBinaryWriter) {
      if let value = self.success {
        writer.writeFieldBegin(.string, id: 0)
        writer.writeString(value)
      }
      writer.writeFieldStop()
    }

    func get() throws -> String {
      if let success = self.success { return success }
      throw ThriftApplicationException(.missingResult, "'echo' returned no result")
    }
  }

  /// `notify`.
  enum Notify: ThriftMethod {
    typealias Args = NotifyArgs
    typealias Result = ThriftOnewayResult
    static var serviceName: String { "Echo" }
    static var name: String { "notify" }
    static var isOneway: Bool { true }
  }

  /// The arguments of `notify`.
  struct NotifyArgs: ThriftArgs, Hashable {
    var text: String?

    init(text: String?) { self.text = text }

    init(from reader: inout ThriftBinaryReader) throws {
      var text: String?
      try reader.readStructBegin()
      while let field = try reader.readFieldBegin() {
        switch (field.id, field.type) {
        case (1, .string): text = try reader.readString()
        default: try reader.skip(field.type)
        }
      }
      reader.readStructEnd()
      self.init(text: text)
    }

    func write(to writer: inout ThriftBinaryWriter) {
      if let value = self.text {
        writer.writeFieldBegin(.string, id: 1)
        writer.writeString(value)
      }
      writer.writeFieldStop()
    }
  }

  /// `fail`.
  enum Fail: ThriftMethod {
    typealias Args = FailArgs
    typealias Result = FailResult
    static var serviceName: String { "Echo" }
    static var name: String { "fail" }
    static var isOneway: Bool { false }
  }

  /// The arguments of `fail`.
  struct FailArgs: ThriftArgs, Hashable {
    var mode: Int32?

    init(mode: Int32?) { self.mode = mode }

    init(from reader: inout ThriftBinaryReader) throws {
      var mode: Int32?
      try reader.readStructBegin()
      while let field = try reader.readFieldBegin() {
        switch (field.id, field.type) {
        case (1, .i32): mode = try reader.readI32()
        default: try reader.skip(field.type)
        }
      }
      reader.readStructEnd()
      self.init(mode: mode)
    }

    func write(to writer: inout ThriftBinaryWriter) {
      if let value = self.mode {
        writer.writeFieldBegin(.i32, id: 1)
        writer.writeI32(value)
      }
      writer.writeFieldStop()
    }
  }

  /// The outcome of `fail`: nothing, or the declared exception.
  struct FailResult: ThriftResult, Hashable {
    var error: EchoError?

    private init(_ error: EchoError?) { self.error = error }

    init(success: Void) { self.init(nil) }

    init(error: EchoError) { self.init(error) }

    init(from reader: inout ThriftBinaryReader) throws {
      var error: EchoError?
      try reader.readStructBegin()
      while let field = try reader.readFieldBegin() {
        switch (field.id, field.type) {
        case (1, .struct): error = try reader.readStruct()
        default: try reader.skip(field.type)
        }
      }
      reader.readStructEnd()
      self.init(error)
    }

    func write(to writer: inout ThriftBinaryWriter) {
      if let value = self.error {
        writer.writeFieldBegin(.struct, id: 1)
        writer.writeStruct(value)
      }
      writer.writeFieldStop()
    }

    func get() throws {
      if let error = self.error { throw error }
    }
  }
}

/// Calls `Echo` through an invoker.
struct EchoClient: Echo {
  let invoker: any ThriftCallInvoker

  init(_ invoker: any ThriftCallInvoker) { self.invoker = invoker }

  func echo(text: String) async throws -> String {
    try await invoker.invoke(EchoMethods.Echo.self, args: .init(text: text)).get()
  }

  func notify(text: String) async throws {
    _ = try await invoker.invoke(EchoMethods.Notify.self, args: .init(text: text))
  }

  func fail(mode: Int32) async throws {
    _ = try await invoker.invoke(EchoMethods.Fail.self, args: .init(mode: mode)).get()
  }
}

/// Serves `Echo` by dispatching each call to a handler.
struct EchoProcessor<Handler: Echo>: ThriftService {
  let handler: Handler

  init(_ handler: Handler) { self.handler = handler }

  static var serviceName: String { "Echo" }

  static var methodNames: [String] { ["echo", "notify", "fail"] }

  func dispatch<Visitor: ThriftMethodVisitor>(method: String, to visitor: Visitor) async throws
    -> Visitor.Output?
  {
    let handler = self.handler
    switch method {
    case "echo":
      return try await visitor.visit(EchoMethods.Echo.self) { args in
        .init(success: try await handler.echo(text: args.text))
      }
    case "notify":
      return try await visitor.visit(EchoMethods.Notify.self) { args in
        try await handler.notify(text: try thriftArgument(args.text, named: "text", of: "notify"))
        return .init(success: ())
      }
    case "fail":
      return try await visitor.visit(EchoMethods.Fail.self) { args in
        do {
          try await handler.fail(mode: try thriftArgument(args.mode, named: "mode", of: "fail"))
          return .init(success: ())
        } catch let error as EchoError {
          return .init(error: error)
        }
      }
    default:
      return nil
    }
  }
}

/// An error the IDL does not declare.
struct UndeclaredError: Error, CustomStringConvertible {
  var description: String { "something undeclared broke" }
}

/// A handler that echoes, records notifications, and fails on request.
actor EchoHandler: Echo {
  private(set) var notifications: [String] = []

  func echo(text: String) async throws -> String { text }

  func notify(text: String) async throws {
    notifications.append(text)
    if text == "throw" { throw UndeclaredError() }
  }

  /// 0 succeeds, 1 throws the declared exception, 2 an undeclared error, 3 an application
  /// exception of its own.
  func fail(mode: Int32) async throws {
    switch mode {
    case 1: throw EchoError(reason: "declared")
    case 2: throw UndeclaredError()
    case 3: throw ThriftApplicationException(.invalidTransform, "handler's own")
    default: return
    }
  }
}

/// A client transport that hands each call straight to a processor, for round trips in tests.
struct LoopbackInvoker<Service: ThriftService>: ThriftCallInvoker {
  let processor: ThriftProcessor<Service>

  func invoke<Method: ThriftMethod>(_ method: Method.Type, named name: String, args: Method.Args)
    async throws -> Method.Result
  {
    var writer = ThriftBinaryWriter()
    writer.writeCall(Method.self, named: name, args: args, sequenceID: 1)
    guard let reply = await processor.process(writer.buffer) else {
      return Method.Result(success: try Self.onewaySuccess(Method.self))
    }
    var reader = ThriftBinaryReader(buffer: reply)
    let header = try reader.readMessageBegin()
    return try reader.readReply(Method.self, header: header)
  }

  /// A oneway method's success value (its result type is ``ThriftOnewayResult``).
  private static func onewaySuccess<Method: ThriftMethod>(_ method: Method.Type) throws
    -> Method.Result.Success
  {
    guard Method.isOneway, let success = () as? Method.Result.Success else {
      throw ThriftApplicationException(.missingResult, "no reply to '\(Method.name)'")
    }
    return success
  }
}
