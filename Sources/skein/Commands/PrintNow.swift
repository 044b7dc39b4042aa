import Foundation

/// Writes `text` to standard output at once, unbuffered: scripts, tests and other terminals
/// read a command's lines (a port, a URL, an interval's table) as they are printed, not when a
/// pipe's buffer fills.
func printNow(_ text: String, terminator: String = "\n") {
  FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
