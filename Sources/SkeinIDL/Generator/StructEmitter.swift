/// Emits a struct, exception, or method argument/result struct: stored properties, a
/// memberwise initializer, and the binary protocol's `init(from:)` and `write(to:)`.
struct StructEmitter {
  let context: GeneratorContext

  /// What to emit around the common parts.
  struct Shape {
    /// The Swift type name.
    var name: String
    /// The name used in error messages (the IDL name).
    var idlName: String
    var doc: String?
    var conformances: [String]
    var fields: [FieldModel]
    /// The memberwise initializer's access level; results keep theirs private.
    var initAccess: String
    /// Whether the memberwise initializer labels its parameters.
    var labeledInit: Bool = true
  }

  func emit(
    _ shape: Shape,
    into out: inout CodeWriter,
    extraMembers: (inout CodeWriter) -> Void = { _ in }
  ) {
    let access = context.access
    out.doc(shape.doc)
    out.block("\(access) struct \(shape.name): \(shape.conformances.joined(separator: ", "))") {
      out in
      emitProperties(shape, into: &out)
      emitMemberwiseInit(shape, into: &out)
      out.line()
      emitDecoder(shape, into: &out)
      out.line()
      emitEncoder(shape, into: &out)
      extraMembers(&out)
    }
  }

  private func emitProperties(_ shape: Shape, into out: inout CodeWriter) {
    let access = context.access
    for field in shape.fields {
      out.doc(field.field.doc)
      if field.isBoxed {
        let boxType = "ThriftBox<\(field.swiftType)>" + (field.isOptional ? "?" : "")
        let get = field.isOptional ? "\(field.boxName)?.value" : "\(field.boxName).value"
        let set =
          field.isOptional ? "newValue.map { ThriftBox($0) }" : "ThriftBox(newValue)"
        out.block("\(access) var \(field.identifier): \(field.propertyType)") { out in
          out.line("get { \(get) }")
          out.line("set { \(field.boxName) = \(set) }")
        }
        out.line("private var \(field.boxName): \(boxType)")
      } else {
        out.line("\(access) var \(field.identifier): \(field.propertyType)")
      }
    }
    if !shape.fields.isEmpty { out.line() }
  }

  private func emitMemberwiseInit(_ shape: Shape, into out: inout CodeWriter) {
    let parameters = shape.fields.map { field -> String in
      // A keyword parameter (`self`, `in`) would shadow `self` or read oddly in the body, so
      // the parameter gets the field's local name behind the label.
      let label = shape.labeledInit ? field.label : "_"
      var parameter = "\(label) \(field.local): \(field.propertyType)"
      if field.isOptional {
        if shape.labeledInit { parameter += " = nil" }
      } else if let initial = field.initialValue, shape.labeledInit {
        parameter += " = \(initial)"
      }
      return parameter
    }
    if shape.initAccess != "private" {
      out.line("/// Creates a value; fields the IDL gives a default start with it.")
    }
    out.block("\(shape.initAccess) init(\(parameters.joined(separator: ", ")))") { out in
      for field in shape.fields {
        if field.isBoxed {
          let boxed =
            field.isOptional ? "\(field.local).map { ThriftBox($0) }" : "ThriftBox(\(field.local))"
          out.line("self.\(field.boxName) = \(boxed)")
        } else {
          out.line("self.\(field.identifier) = \(field.local)")
        }
      }
    }
  }

  private func emitDecoder(_ shape: Shape, into out: inout CodeWriter) {
    let types = context.types
    out.line("/// Reads the value from the binary protocol; unknown fields are skipped.")
    out.block("\(context.access) init(from reader: inout ThriftBinaryReader) throws") { out in
      for field in shape.fields {
        if !field.isOptional, !field.isRequired, let initial = field.initialValue {
          out.line("var \(field.local): \(field.swiftType) = \(initial)")
        } else {
          out.line("var \(field.local): \(field.swiftType)? = nil")
        }
      }
      out.line("try reader.readStructBegin()")
      out.block("while let field = try reader.readFieldBegin()") { out in
        out.block("switch (field.id, field.type)") { out in
          for field in shape.fields.sorted(by: { $0.field.id < $1.field.id }) {
            let read = types.readExpression(field.type, reader: "reader")
            out.line(
              "case (\(field.field.id), .\(types.wireType(field.type))): \(field.local) = \(read)"
            )
          }
          out.line("default: try reader.skip(field.type)")
        }
      }
      out.line("reader.readStructEnd()")
      for field in shape.fields where field.mustBePresent {
        let message =
          "throw ThriftProtocolError.missingRequiredField(\(SwiftNaming.stringLiteral(field.field.name)), in: \(SwiftNaming.stringLiteral(shape.idlName)))"
        out.line("guard let \(field.local) else { \(message) }")
      }
      let arguments = shape.fields.map { field in
        shape.labeledInit ? "\(field.label): \(field.local)" : field.local
      }
      out.line("self.init(\(arguments.joined(separator: ", ")))")
    }
  }

  private func emitEncoder(_ shape: Shape, into out: inout CodeWriter) {
    let types = context.types
    out.line("/// Writes the value in the binary protocol, fields in id order.")
    out.block("\(context.access) func write(to writer: inout ThriftBinaryWriter)") { out in
      for field in shape.fields.sorted(by: { $0.field.id < $1.field.id }) {
        let begin = "writer.writeFieldBegin(.\(types.wireType(field.type)), id: \(field.field.id))"
        if field.isOptional {
          out.block("if let value = self.\(field.identifier)") { out in
            out.line(begin)
            out.line(types.writeStatement(field.type, value: "value", writer: "writer"))
          }
        } else {
          out.line(begin)
          out.line(
            types.writeStatement(field.type, value: "self.\(field.identifier)", writer: "writer")
          )
        }
      }
      out.line("writer.writeFieldStop()")
    }
  }
}
