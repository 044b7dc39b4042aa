/// Emits a Thrift enum as a Swift enum that keeps wire values it does not know.
struct EnumEmitter {
  let context: GeneratorContext

  func emit(_ definition: EnumDefinition, into out: inout CodeWriter) throws {
    let access = context.access
    let name = SwiftNaming.typeName(definition.name)
    let cases = try context.uniqueMemberNames(
      definition.cases.map { ($0.name, $0.location) },
      in: "enum '\(definition.name)'"
    )
    var unknown = "unrecognized"
    while cases.contains(unknown) { unknown = "_" + unknown }

    out.doc(definition.doc)
    out.block("\(access) enum \(name): ThriftEnum") { out in
      for (index, enumCase) in definition.cases.enumerated() {
        out.doc(enumCase.doc)
        out.line("case \(SwiftNaming.escaped(cases[index]))")
      }
      out.line("/// A value this version of the IDL does not define, kept as it came.")
      out.line("case \(unknown)(Int32)")
      out.line()
      out.line("/// The cases the IDL defines, in declaration order.")
      let all = cases.map { ".\(SwiftNaming.escaped($0))" }.joined(separator: ", ")
      out.line("\(access) static let allKnownCases: [\(name)] = [\(all)]")
      out.line()
      out.line("/// The case for a wire value; values the IDL does not define are kept.")
      out.block("\(access) init(rawValue: Int32)") { out in
        out.block("switch rawValue") { out in
          for (index, enumCase) in definition.cases.enumerated() {
            out.line("case \(enumCase.value): self = .\(SwiftNaming.escaped(cases[index]))")
          }
          out.line("default: self = .\(unknown)(rawValue)")
        }
      }
      out.line()
      out.line("/// The wire value.")
      out.block("\(access) var rawValue: Int32") { out in
        out.block("switch self") { out in
          for (index, enumCase) in definition.cases.enumerated() {
            out.line("case .\(SwiftNaming.escaped(cases[index])): \(enumCase.value)")
          }
          out.line("case .\(unknown)(let value): value")
        }
      }
    }
  }
}
