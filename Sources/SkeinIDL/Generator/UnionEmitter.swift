/// Emits a Thrift union as a Swift enum with one case per field: exactly one is set, which
/// the type system then guarantees.
struct UnionEmitter {
  let context: GeneratorContext

  func emit(
    _ definition: StructDefinition,
    fields: [FieldModel],
    isIndirect: Bool,
    into out: inout CodeWriter
  ) {
    let access = context.access
    let types = context.types
    let name = SwiftNaming.typeName(definition.name)
    let idlName = SwiftNaming.stringLiteral(definition.name)
    out.doc(definition.doc)
    let indirect = isIndirect ? "indirect " : ""
    out.block("\(access) \(indirect)enum \(name): ThriftStruct, Hashable") { out in
      for field in fields {
        out.doc(field.field.doc)
        out.line("case \(field.identifier)(\(field.swiftType))")
      }
      if !fields.isEmpty { out.line() }
      out.line("/// Reads the union; exactly one known field must be set.")
      out.block("\(access) init(from reader: inout ThriftBinaryReader) throws") { out in
        out.line("var value: \(name)? = nil")
        out.line("try reader.readStructBegin()")
        out.block("while let field = try reader.readFieldBegin()") { out in
          out.block("switch (field.id, field.type)") { out in
            for field in fields.sorted(by: { $0.field.id < $1.field.id }) {
              out.line("case (\(field.field.id), .\(types.wireType(field.type))):")
              out.indented { out in
                out.block("guard value == nil else") { out in
                  out.line(
                    "throw ThriftProtocolError.invalidData(\"union '\\(\(idlName))' has more than one field set\")"
                  )
                }
                out.line(
                  "value = .\(field.identifier)(\(types.readExpression(field.type, reader: "reader")))"
                )
              }
            }
            out.line("default: try reader.skip(field.type)")
          }
        }
        out.line("reader.readStructEnd()")
        out.block("guard let value else") { out in
          out.line(
            "throw ThriftProtocolError.invalidData(\"union '\\(\(idlName))' has no known field set\")"
          )
        }
        out.line("self = value")
      }
      out.line()
      out.line("/// Writes the one field that is set.")
      out.block("\(access) func write(to writer: inout ThriftBinaryWriter)") { out in
        out.block("switch self") { out in
          for field in fields {
            out.line("case .\(field.identifier)(let value):")
            out.indented { out in
              out.line(
                "writer.writeFieldBegin(.\(types.wireType(field.type)), id: \(field.field.id))"
              )
              out.line(types.writeStatement(field.type, value: "value", writer: "writer"))
            }
          }
        }
        out.line("writer.writeFieldStop()")
      }
    }
  }
}
