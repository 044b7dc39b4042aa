import Foundation

/// Writes `text` to standard output at once, unbuffered: scripts, tests and other terminals
/// read a command's lines (a port, a URL, an interval's table) as they are printed, not when a
/// pipe's buffer fills.
func printNow(_ text: String, terminator: String = "\n") {
  // The throwing write: the legacy one stops the process when a signal interrupts it.
  try? FileHandle.standardOutput.write(contentsOf: Data((text + terminator).utf8))
}

/// Writes `text` and a newline to standard error at once.
func printError(_ text: String) {
  try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
}
