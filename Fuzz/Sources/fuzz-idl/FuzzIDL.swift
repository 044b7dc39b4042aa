import SkeinIDL

// The input is one Thrift IDL file, read as UTF-8 (bad bytes repaired, as the generator reads
// files). It goes through everything `skein gen` does: lexing, parsing, include resolution
// (`base.thrift` is the demo's envelope, so the seed files' includes resolve; any other
// include finds nothing), name checks and Swift generation. The only allowed outcomes are
// generated files or an IDLError: any other error, a trap, a hang or a stack overflow is a
// finding.

/// The demo's `base.thrift`, which most seed files include; read once, from the checkout this
/// was built in.
let baseIDL: String? = {
  let root = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(4)
  return IDLProgram.readFromDisk(root.joined(separator: "/") + "/demo/idl/base.thrift")
}()

/// libFuzzer's entry point: one input, one IDL file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  do {
    let program = try IDLProgram.load(files: ["fuzz.thrift"]) { path in
      switch path {
      case "fuzz.thrift": source
      case "base.thrift": baseIDL
      default: nil
      }
    }
    _ = try SwiftGenerator(program: program).generate()
  } catch {
    guard error is IDLError else {
      fatalError("loading or generating threw \(type(of: error)): \(error)")
    }
  }
  return 0
}
