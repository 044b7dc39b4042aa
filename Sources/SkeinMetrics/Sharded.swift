import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A value split into shards picked by the calling thread, so threads on different cores
/// mostly take different locks: recording a call never waits for another core's recording.
/// Reading sums the shards.
final class Sharded<Value: Sendable>: Sendable {
  private final class Shard: Sendable {
    let value: Mutex<Value>
    init(_ value: sending Value) { self.value = Mutex(value) }
  }

  private let shards: [Shard]
  private let mask: UInt

  /// Creates `count` shards (rounded up to a power of two), each from `make`.
  init(count: Int = Sharded.defaultCount, make: () -> Value) {
    var size = 1
    while size < max(1, count) { size <<= 1 }
    shards = (0..<size).map { _ in Shard(make()) }
    mask = UInt(size - 1)
  }

  /// Two shards per core: a few threads sharing a shard meet rarely.
  static var defaultCount: Int {
    #if canImport(Darwin)
      return 16
    #else
      return 2 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #endif
  }

  /// Runs `body` on the calling thread's shard.
  @inline(__always)
  func withLocalShard<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
    try shards[Self.threadIndex & Int(mask)].value.withLock(body)
  }

  /// Runs `body` on every shard in turn.
  func forEachShard(_ body: (inout sending Value) -> Void) {
    for shard in shards { shard.value.withLock { body(&$0) } }
  }

  /// A well-mixed number for the current thread: thread handles are addresses a page or a
  /// stack apart, so their low bits alone would put many threads on one shard.
  @inline(__always)
  private static var threadIndex: Int {
    #if canImport(Darwin)
      let id = UInt64(UInt(bitPattern: pthread_self()))
    #else
      let id = UInt64(pthread_self())
    #endif
    return Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 40)
  }
}
