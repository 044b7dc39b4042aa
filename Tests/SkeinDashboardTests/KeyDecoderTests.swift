import SkeinDashboard
import Testing

/// Raw `wget_wch` results to keys. The codes are ncurses' own values (curses.h), written out
/// so the test checks the mapping rather than repeating it.
@Suite struct KeyDecoderTests {
  let ok: Int32 = 0
  let functionKey: Int32 = 0o400
  let nothing: Int32 = -1

  @Test func functionKeysDecode() {
    let expected: [(UInt32, Key)] = [
      (0o403, .up), (0o402, .down), (0o404, .left), (0o405, .right),
      (0o523, .pageUp), (0o522, .pageDown), (0o406, .home), (0o550, .end),
      (0o527, .enter), (0o541, .backTab), (0o407, .backspace), (0o632, .resize),
    ]
    for (code, key) in expected {
      #expect(KeyDecoder.decode(status: functionKey, code: code) == key, "\(code)")
    }
    #expect(KeyDecoder.decode(status: functionKey, code: 0o411) == nil, "F1 is not used")
  }

  @Test func controlCharactersDecode() {
    let expected: [(UInt32, Key)] = [
      (3, .interrupt), (10, .enter), (13, .enter), (9, .tab), (27, .escape),
      (127, .backspace), (8, .backspace),
    ]
    for (code, key) in expected {
      #expect(KeyDecoder.decode(status: ok, code: code) == key, "\(code)")
    }
    for unused: UInt32 in [0, 1, 4, 31, 0x9b] {
      #expect(KeyDecoder.decode(status: ok, code: unused) == nil, "\(unused)")
    }
  }

  @Test func printableCharactersAreThemselves() {
    #expect(KeyDecoder.decode(status: ok, code: 0x71) == .character("q"))
    #expect(KeyDecoder.decode(status: ok, code: 0x2f) == .character("/"))
    #expect(KeyDecoder.decode(status: ok, code: 0x20) == .character(" "))
    #expect(KeyDecoder.decode(status: ok, code: 0xe9) == .character("é"))
    #expect(KeyDecoder.decode(status: ok, code: 0xd800) == nil, "not a scalar")
  }

  @Test func noKeyIsNil() {
    #expect(KeyDecoder.decode(status: nothing, code: 0x71) == nil)
    // The same code is a character or a function key depending on the status.
    #expect(KeyDecoder.decode(status: ok, code: 0o403) == .character("ă"))
  }
}
