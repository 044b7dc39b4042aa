import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension FileHandle {
  /// One read of what the pipe holds: the bytes, or empty at end of file. A read interrupted
  /// by a signal is retried, where Foundation's `availableData` stops the process (`try!` on
  /// `EINTR`), which a test process full of child processes and their signals runs into.
  func readChunkRetryingInterrupts() -> Data {
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes {
        Glibc.read(fileDescriptor, $0.baseAddress, $0.count)
      }
      if count >= 0 { return Data(buffer[0..<count]) }
      if errno != EINTR { return Data() }
    }
  }

  /// Everything up to end of file, retrying interrupted reads.
  func readToEndRetryingInterrupts() -> Data {
    var data = Data()
    while true {
      let chunk = readChunkRetryingInterrupts()
      if chunk.isEmpty { return data }
      data.append(chunk)
    }
  }
}
