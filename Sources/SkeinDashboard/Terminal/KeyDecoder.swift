import CNCurses

/// Turns what curses' `wget_wch` returns into a ``Key``. Pure, so tested without a terminal.
package enum KeyDecoder {
  /// The key for one `wget_wch` result.
  ///
  /// - Parameters:
  ///   - status: What `wget_wch` returned: `OK` for a character, `KEY_CODE_YES` for a function
  ///     key, `ERR` when no key came before the timeout.
  ///   - code: The character or the `KEY_*` code it stored.
  /// - Returns: The key, or `nil` for no key or one the dashboard has no use for.
  package static func decode(status: Int32, code: UInt32) -> Key? {
    switch status {
    case OK: character(code)
    case KEY_CODE_YES: functionKey(Int32(bitPattern: code))
    default: nil
    }
  }

  /// The key for a character: control characters by their usual meaning (raw mode delivers
  /// Ctrl-C as 3), printable ones as themselves.
  static func character(_ code: UInt32) -> Key? {
    switch code {
    case 3: .interrupt
    case 8, 127: .backspace
    case 9: .tab
    case 10, 13: .enter
    case 27: .escape
    case 0..<32, 127..<160: nil
    default: Unicode.Scalar(code).map { .character(Character($0)) }
    }
  }

  /// The key for a curses function-key code.
  static func functionKey(_ code: Int32) -> Key? {
    switch code {
    case KEY_UP: .up
    case KEY_DOWN: .down
    case KEY_LEFT: .left
    case KEY_RIGHT: .right
    case KEY_PPAGE: .pageUp
    case KEY_NPAGE: .pageDown
    case KEY_HOME: .home
    case KEY_END: .end
    case KEY_ENTER: .enter
    case KEY_BTAB: .backTab
    case KEY_BACKSPACE: .backspace
    case skein_key_resize(): .resize
    default: nil
    }
  }
}
