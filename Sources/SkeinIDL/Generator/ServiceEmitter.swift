/// Emits a service: the protocol a handler implements, a caseless `…Methods` namespace holding
/// each method's descriptor and argument/result structs, a client stub and a processor.
struct ServiceEmitter {
  let context: GeneratorContext

  /// One function with everything the emitters need to know about it.
  struct MethodModel {
    var function: Function
    /// The service that declares the function (for inherited methods, an ancestor).
    var serviceName: String
    /// lowerCamelCase Swift method name.
    var name: String
    /// The descriptor's type name (the IDL name, escaped for Swift).
    var descriptor: String
    var parameters: [FieldModel]
    var exceptions: [FieldModel]
    var returnType: ResolvedType?
    /// `…Methods.Name`, qualified for use outside the namespace.
    var qualifiedDescriptor: String { "\(serviceName)Methods.\(descriptor)" }
  }

  func emit(_ definition: ServiceDefinition, into out: inout CodeWriter) throws {
    let access = context.access
    let serviceName = SwiftNaming.typeName(definition.name)
    let own = try definition.functions.map { try methodModel($0, serviceName: serviceName) }
    let all =
      try context.inheritedFunctions(of: definition).map {
        try methodModel($0.function, serviceName: SwiftNaming.typeName($0.service))
      } + own
    let parent = try definition.extends.map {
      try context.service(named: $0, at: definition.location)
    }

    // The handler protocol.
    out.doc(definition.doc ?? "The `\(definition.name)` service: implement this to serve it.")
    let inherits = parent.map { SwiftNaming.typeName($0.name) } ?? "Sendable"
    out.block("\(access) protocol \(serviceName): \(inherits)") { out in
      for method in own {
        out.doc(method.function.doc)
        out.line(signature(method))
      }
    }
    out.line()

    // Descriptors and argument/result structs.
    out.line("/// The methods `\(definition.name)` declares, as the runtime sees them.")
    out.block("\(access) enum \(serviceName)Methods") { out in
      for method in own {
        emitDescriptor(method, into: &out)
        out.line()
        emitArgs(method, into: &out)
        out.line()
        emitResult(method, into: &out)
        if method.name != own.last?.name { out.line() }
      }
    }
    out.line()

    // Client stub.
    out.line("/// Calls `\(definition.name)` through an invoker (Skein's client, or any other).")
    out.block("\(access) struct \(serviceName)Client: \(serviceName)") { out in
      out.line("/// What performs each call.")
      out.line("\(access) let invoker: any ThriftCallInvoker")
      out.line()
      out.line("/// Creates a client that calls through `invoker`.")
      out.block("\(access) init(_ invoker: any ThriftCallInvoker)") { out in
        out.line("self.invoker = invoker")
      }
      for method in all {
        out.line()
        out.doc(method.function.doc ?? "Calls `\(method.function.name)`.")
        out.block("\(access) \(signature(method))") { out in
          let arguments = method.parameters.map { "\($0.label): \($0.parameterValue)" }
          let call =
            "try await invoker.invoke(\(method.qualifiedDescriptor).self, args: .init(\(arguments.joined(separator: ", "))))"
          // `get()` throws the declared exception a reply carries, void methods included.
          out.line("\(method.returnType == nil ? "" : "return ")\(call).get()")
        }
      }
    }
    out.line()

    // Processor.
    out.line("/// Serves `\(definition.name)` by dispatching each call to a handler.")
    out.block("\(access) struct \(serviceName)Processor<Handler: \(serviceName)>: ThriftService") {
      out in
      out.line("/// The implementation that answers calls.")
      out.line("\(access) let handler: Handler")
      out.line()
      out.line("/// Creates a processor for `handler`.")
      out.block("\(access) init(_ handler: Handler)") { out in out.line("self.handler = handler") }
      out.line()
      out.line("/// The service's IDL name.")
      out.line(
        "\(access) static var serviceName: String { \(SwiftNaming.stringLiteral(definition.name)) }"
      )
      out.line()
      out.line("/// Every method served, inherited ones first.")
      let names = all.map { SwiftNaming.stringLiteral($0.function.name) }.joined(separator: ", ")
      out.line("\(access) static var methodNames: [String] { [\(names)] }")
      out.line()
      out.line("/// Finds the method by name and hands it to the visitor.")
      // Inlinable so a server specializes dispatch for its visitor: no runtime generic
      // lookups per call. Internal code is specialized within its own module anyway.
      if access != "internal" { out.line("@inlinable") }
      out.block(
        "\(access) nonisolated(nonsending) func dispatch<Visitor: ThriftMethodVisitor>(method: String, to visitor: Visitor) async throws -> Visitor.Output?"
      ) { out in
        if !all.isEmpty { out.line("let handler = self.handler") }
        out.block("switch method") { out in
          for method in all {
            out.line("case \(SwiftNaming.stringLiteral(method.function.name)):")
            out.indented { out in emitDispatch(method, into: &out) }
          }
          out.line("default:")
          out.indented { out in out.line("return nil") }
        }
      }
    }
  }

  private func methodModel(_ function: Function, serviceName: String) throws -> MethodModel {
    let parameters = try context.fieldModels(
      function.parameters,
      owner: "function '\(function.name)'"
    )
    let exceptions = try context.fieldModels(
      function.exceptions,
      owner: "function '\(function.name)'"
    )
    .map { field in
      var field = field
      field.isOptional = true
      return field
    }
    return MethodModel(
      function: function,
      serviceName: serviceName,
      name: SwiftNaming.memberName(function.name),
      // Descriptors are types, so `draw` gets `Draw`; `Draw` and `draw` in one service would
      // clash, which the generated code's compiler reports.
      descriptor: SwiftNaming.typeName(
        function.name.prefix(1).uppercased() + function.name.dropFirst()
      ),
      parameters: parameters,
      exceptions: exceptions,
      returnType: try function.returnType.map { try context.resolve($0) }
    )
  }

  /// The protocol requirement: parameters as the handler sees them (struct parameters that the
  /// wire may omit are unwrapped for it). `nonisolated(nonsending)`, so a handler that says so
  /// too runs on the executor of the call that reached it with no hop; one that does not still
  /// conforms, and pays its two hops.
  private func signature(_ method: MethodModel) -> String {
    let parameters = method.parameters.map { parameter in
      let type =
        parameter.field.requiredness == .optional ? "\(parameter.swiftType)?" : parameter.swiftType
      return "\(parameter.parameterName): \(type)"
    }
    let returns = method.returnType.map { " -> \(context.types.swiftType($0))" } ?? ""
    return
      "nonisolated(nonsending) func \(SwiftNaming.escaped(method.name))(\(parameters.joined(separator: ", "))) async throws\(returns)"
  }

  private func emitDescriptor(_ method: MethodModel, into out: inout CodeWriter) {
    let access = context.access
    out.line("/// `\(method.function.name)`.")
    out.block("\(access) enum \(method.descriptor): ThriftMethod") { out in
      out.line("\(access) typealias Args = \(method.descriptor)Args")
      out.line(
        "\(access) typealias Result = \(method.function.isOneway ? "ThriftOnewayResult" : "\(method.descriptor)Result")"
      )
      out.line(
        "\(access) static var serviceName: String { \(SwiftNaming.stringLiteral(method.serviceName)) }"
      )
      out.line(
        "\(access) static var name: String { \(SwiftNaming.stringLiteral(method.function.name)) }"
      )
      out.line("\(access) static var isOneway: Bool { \(method.function.isOneway) }")
    }
  }

  private func emitArgs(_ method: MethodModel, into out: inout CodeWriter) {
    let shape = StructEmitter.Shape(
      name: "\(method.descriptor)Args",
      idlName: "\(method.function.name)_args",
      doc: "The arguments of `\(method.function.name)`.",
      conformances: ["ThriftArgs", "Hashable"],
      fields: method.parameters,
      initAccess: context.access
    )
    StructEmitter(context: context).emit(shape, into: &out) { out in
      if let first = method.parameters.first,
        let carrier = context.baseCarrier(of: first.type, kind: .request)
      {
        out.line()
        BaseAccessorEmitter(context: context).emitRequestBase(
          through: first,
          carrier: carrier,
          into: &out
        )
      }
    }
  }

  private func emitResult(_ method: MethodModel, into out: inout CodeWriter) {
    guard !method.function.isOneway else { return }
    let types = context.types
    var fields = method.exceptions
    var successField: FieldModel?
    if let returnType = method.returnType {
      let success = FieldModel(
        field: Field(
          id: 0,
          name: "success",
          type: .bool,
          requiredness: .optional,
          location: method.function.location
        ),
        name: "success",
        type: returnType,
        swiftType: types.swiftType(returnType),
        isOptional: true,
        isBoxed: false,
        initialValue: nil
      )
      fields.insert(success, at: 0)
      successField = success
    }
    let successType = method.returnType.map { types.swiftType($0) } ?? "Void"
    let shape = StructEmitter.Shape(
      name: "\(method.descriptor)Result",
      idlName: "\(method.function.name)_result",
      doc: "The outcome of `\(method.function.name)`: its return value or a declared exception.",
      conformances: ["ThriftResult", "Hashable"],
      fields: fields,
      initAccess: "private",
      labeledInit: false
    )
    let access = context.access
    StructEmitter(context: context).emit(shape, into: &out) { out in
      out.line()
      out.line("/// A successful outcome.")
      out.block("\(access) init(success: \(successType))") { out in
        let arguments = fields.map {
          $0.name == "success" && successField != nil ? "success" : "nil"
        }
        out.line("self.init(\(arguments.joined(separator: ", ")))")
      }
      for exception in method.exceptions {
        out.line()
        out.line("/// The declared exception `\(exception.field.name)`.")
        out.block("\(access) init(\(exception.parameterName): \(exception.swiftType))") { out in
          let arguments = fields.map {
            $0.name == exception.name ? exception.parameterValue : "nil"
          }
          out.line("self.init(\(arguments.joined(separator: ", ")))")
        }
      }
      out.line()
      out.line("/// The return value, or the declared exception thrown.")
      out.block("\(access) func get() throws -> \(successType)") { out in
        for exception in method.exceptions {
          out.line("if let error = self.\(exception.identifier) { throw error }")
        }
        if successField != nil {
          out.line("if let success = self.success { return success }")
          let message = SwiftNaming.stringLiteral("'\(method.function.name)' returned no result")
          out.line("throw ThriftApplicationException(.missingResult, \(message))")
        }
      }
      if let returnType = method.returnType,
        let carrier = context.baseCarrier(of: returnType, kind: .response)
      {
        out.line()
        BaseAccessorEmitter(context: context).emitResponseBase(carrier: carrier, into: &out)
      }
    }
  }

  private func emitDispatch(_ method: MethodModel, into out: inout CodeWriter) {
    let arguments = method.parameters.map { parameter -> String in
      let value = "args.\(parameter.identifier)"
      if parameter.isOptional && parameter.field.requiredness != .optional {
        let name = SwiftNaming.stringLiteral(parameter.field.name)
        let function = SwiftNaming.stringLiteral(method.function.name)
        return "\(parameter.label): try thriftArgument(\(value), named: \(name), of: \(function))"
      }
      return "\(parameter.label): \(value)"
    }
    let call =
      "try await handler.\(SwiftNaming.escaped(method.name))(\(arguments.joined(separator: ", ")))"
    out.line("return try await visitor.visit(\(method.qualifiedDescriptor).self) { args in")
    out.indented { out in
      let body: (inout CodeWriter) -> Void = { out in
        if method.returnType == nil {
          out.line(call)
          out.line("return .init(success: ())")
        } else {
          out.line("return .init(success: \(call))")
        }
      }
      if method.exceptions.isEmpty {
        body(&out)
      } else {
        out.line("do {")
        out.indented(body)
        for exception in method.exceptions {
          out.line("} catch let error as \(exception.swiftType) {")
          out.indented { out in out.line("return .init(\(exception.label): error)") }
        }
        out.line("}")
      }
    }
    out.line("}")
  }
}
