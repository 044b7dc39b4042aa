import SkeinMetrics
import Testing

@Suite("Memory trimmer")
struct MemoryTrimmerTests {
  @Test(
    "after a burst of allocations is freed, a trim gives memory back to the system",
    .enabled(if: isGlibc, "malloc_trim is glibc's")
  )
  func trimAfterBurst() {
    // Chunks below glibc's mmap threshold (128 KiB) come from the arenas, where they stay
    // after being freed: what a burst of calls leaves behind.
    var chunks: [UnsafeMutableRawPointer] = []
    for _ in 0..<1_024 {
      let chunk = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
      chunk.initializeMemory(as: UInt8.self, repeating: 1, count: 64 << 10)
      chunks.append(chunk)
    }
    for chunk in chunks { chunk.deallocate() }
    #expect(MemoryTrimmer.trim())
  }
}

/// Whether this is a glibc system (Linux other than musl).
private let isGlibc: Bool = {
  #if os(Linux) && canImport(Glibc)
    return true
  #else
    return false
  #endif
}()
