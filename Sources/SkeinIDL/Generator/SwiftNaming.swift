/// Turns Thrift names into Swift names: lowerCamelCase members, escaped keywords, and type
/// names that never shadow what generated code itself refers to.
enum SwiftNaming {
  /// Swift keywords that need backticks when used as an identifier.
  static let keywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "open", "operator", "private", "precedencegroup",
    "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var",
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough",
    "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "as",
    "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Any", "await",
    "consume", "copy", "discard", "borrowing", "consuming", "some", "any", "package",
  ]

  /// Names generated code uses unqualified; a Thrift type with one of these names gets a
  /// trailing underscore so it cannot shadow them.
  static let reservedTypeNames: Set<String> = [
    "Bool", "Int8", "Int16", "Int32", "Int64", "UInt8", "Double", "String", "UUID", "Array",
    "Set", "Dictionary", "Optional", "Error", "Sendable", "Hashable", "Equatable", "Void",
    "Never", "Type", "Protocol", "Self", "Any", "Swift", "Foundation", "FoundationEssentials",
    "SkeinThrift", "ThriftStruct", "ThriftEnum", "ThriftArgs", "ThriftResult", "ThriftMethod",
    "ThriftService", "ThriftMethodVisitor", "ThriftCallInvoker", "ThriftBinaryReader",
    "ThriftBinaryWriter", "ThriftProtocolError", "ThriftApplicationException", "ThriftBase",
    "ThriftBaseResp", "ThriftBox", "ThriftOnewayResult",
  ]

  /// A Swift type name for a Thrift definition name.
  static func typeName(_ name: String) -> String {
    reservedTypeNames.contains(name) || keywords.contains(name) ? name + "_" : name
  }

  /// lowerCamelCase for a field, parameter, method, enum case or constant name.
  ///
  /// `Name` → `name`, `LogID` → `logID`, `ID64` → `id64`, `URLPath` → `urlPath`,
  /// `log_id` → `logId`, `DARK_RED` → `darkRed`. Leading underscores are kept.
  static func memberName(_ name: String) -> String {
    var prefix = ""
    var rest = Substring(name)
    while rest.first == "_" {
      prefix += "_"
      rest = rest.dropFirst()
    }
    let parts = rest.split(separator: "_", omittingEmptySubsequences: true)
    guard let first = parts.first else { return name }
    var result = prefix + lowerLeadingCapitals(first)
    for part in parts.dropFirst() {
      let isAllUpper = part.allSatisfy { !$0.isLowercase }
      let head = part.prefix(1).uppercased()
      let tail = isAllUpper ? part.dropFirst().lowercased() : String(part.dropFirst())
      result += head + tail
    }
    return result
  }

  /// Lowercases the leading run of capitals, keeping the last one when it starts a word:
  /// `LogID` → `logID`, `URLPath` → `urlPath`, `ID64` → `id64`, `RED` → `red`.
  private static func lowerLeadingCapitals(_ word: Substring) -> String {
    let characters = Array(word)
    var runEnd = 0
    while runEnd < characters.count, characters[runEnd].isUppercase { runEnd += 1 }
    if runEnd == 0 { return String(word) }
    if runEnd == characters.count { return word.lowercased() }
    // A capital followed by a lowercase letter starts the next word: keep it.
    let next = characters[runEnd]
    let lowerCount = (runEnd > 1 && next.isLowercase) ? runEnd - 1 : runEnd
    return String(characters[..<lowerCount]).lowercased() + String(characters[lowerCount...])
  }

  /// The identifier as it must be written in a declaration or after a dot.
  static func escaped(_ identifier: String) -> String {
    keywords.contains(identifier) ? "`\(identifier)`" : identifier
  }

  /// The identifier as an argument label: labels may be keywords, except these three.
  static func argumentLabel(_ identifier: String) -> String {
    ["inout", "var", "let"].contains(identifier) ? "`\(identifier)`" : identifier
  }

  /// The caseless enum that holds a document's constants: `edge_cases` → `EdgeCasesConstants`.
  ///
  /// Constants live in a namespace, not at file scope, so a field default can name a constant
  /// that has the same name as the field (`limit: Int32 = SharedConstants.limit`).
  static func constantsNamespace(_ module: String) -> String {
    let words = module.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
    let name = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    return (name.first?.isNumber ?? true ? "_" : "") + name + "Constants"
  }

  /// A Swift string literal for `value`.
  static func stringLiteral(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\0": out += "\\0"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7f {
          out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
