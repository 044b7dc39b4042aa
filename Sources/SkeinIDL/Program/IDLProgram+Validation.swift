// Checks that need every file loaded: names resolve, and each definition is one the wire and
// the generated code can carry. Syntax-only checks (duplicate names and field ids) live in the
// parser.
extension IDLProgram {
  func validate() throws {
    for document in documents {
      for definition in document.document.definitions {
        switch definition {
        case .typedef(let typedef):
          _ = try resolve(typedef.type, in: document)
        case .const(let constant):
          _ = try resolve(constant.type, in: document)
        case .enum:
          break
        case .struct(let structure):
          try validate(structure, in: document)
        case .service(let service):
          try validate(service, in: document)
        }
      }
    }
  }

  private func validate(_ structure: StructDefinition, in document: ResolvedDocument) throws {
    for field in structure.fields {
      _ = try resolve(field.type, in: document)
      if structure.kind == .union && field.requiredness == .required {
        throw IDLError(
          "union field '\(field.name)' cannot be required: a union sets exactly one field",
          at: field.location
        )
      }
    }
  }

  private func validate(_ service: ServiceDefinition, in document: ResolvedDocument) throws {
    // Names a service's functions share with its ancestors: a processor dispatches by name, so
    // an inherited name cannot be reused.
    var inherited: [String: String] = [:]
    var visited: Set<QualifiedName> = [QualifiedName(module: document.module, name: service.name)]
    var parentName = service.extends
    var parentDocument = document
    while let name = parentName {
      let (qualified, parent) = try self.service(
        named: name,
        in: parentDocument,
        at: service.location
      )
      guard visited.insert(qualified).inserted, let owner = self.document(module: qualified.module)
      else {
        throw IDLError(
          "service '\(service.name)' extends itself through '\(name)'",
          at: service.location
        )
      }
      for function in parent.functions { inherited[function.name] = qualified.name }
      parentName = parent.extends
      parentDocument = owner
    }
    for function in service.functions {
      if let owner = inherited[function.name] {
        throw IDLError(
          "function '\(function.name)' is already defined by service '\(owner)', which '\(service.name)' extends",
          at: function.location
        )
      }
      if let returnType = function.returnType { _ = try resolve(returnType, in: document) }
      for parameter in function.parameters { _ = try resolve(parameter.type, in: document) }
      for exception in function.exceptions {
        let type = try resolve(exception.type, in: document)
        guard case .structure(let name) = type.underlying,
          structDefinition(name)?.kind == .exception
        else {
          throw IDLError(
            "'\(exception.type)' in throws of '\(function.name)' is not an exception",
            at: exception.location
          )
        }
      }
    }
  }
}
