import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Per-thread shards of some state that is only ever borrowed (a `Mutex`, atomics), each in
/// its own cache lines: threads on different cores touch different shards, and no two shards
/// share a line, so one core's writes never evict another core's shard.
///
/// The shards live in one allocation rather than as objects in an array: reaching a shard is
/// pointer arithmetic, with no retain and release of a shard object per call.
final class ShardSlots<Slot: ~Copyable>: @unchecked Sendable {
  // Unchecked: `base` is written only by `init` and `deinit`; afterwards the slots are only
  // borrowed, and every `Slot` used here is itself `Sendable` (a `Mutex` or atomics).
  private let base: UnsafeMutablePointer<PaddedSlot<Slot>>
  private let mask: Int

  /// Creates `count` shards (rounded up to a power of two), each from `make`.
  init(count: Int = ShardIndex.defaultCount, make: () -> Slot) {
    var size = 1
    while size < max(1, count) { size <<= 1 }
    base = .allocate(capacity: size)
    for index in 0..<size { (base + index).initialize(to: PaddedSlot(make())) }
    mask = size - 1
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
  }

  /// How many shards there are.
  var count: Int { mask + 1 }

  /// Runs `body` on shard `index` (any integer: it is reduced to a shard).
  @inline(__always)
  func withShard<R: ~Copyable, E: Error>(
    _ index: Int,
    _ body: (borrowing Slot) throws(E) -> R
  ) throws(E) -> R {
    try body(base[index & mask].slot)
  }

  /// Runs `body` on the calling thread's shard.
  @inline(__always)
  func withLocalShard<R: ~Copyable, E: Error>(_ body: (borrowing Slot) throws(E) -> R) throws(E)
    -> R
  {
    try withShard(ShardIndex.current, body)
  }

  /// Runs `body` on every shard in turn.
  func forEachShard<E: Error>(_ body: (borrowing Slot) throws(E) -> Void) throws(E) {
    for index in 0..<count { try body(base[index].slot) }
  }
}

/// A slot followed by 128 bytes of nothing: two adjacent slots' state is never in the same
/// cache line, nor in the pair of lines x86 prefetches together.
struct PaddedSlot<Slot: ~Copyable>: ~Copyable {
  let slot: Slot
  private let padding: (SIMD64<UInt8>, SIMD64<UInt8>) = (.zero, .zero)

  init(_ slot: consuming Slot) { self.slot = slot }
}

/// A value split into shards picked by the calling thread, so threads on different cores
/// mostly take different locks: recording a call never waits for another core's recording.
/// Reading sums the shards.
final class Sharded<Value: Sendable>: Sendable {
  private let slots: ShardSlots<Mutex<Value>>

  /// Creates `count` shards (rounded up to a power of two), each from `make`.
  init(count: Int = ShardIndex.defaultCount, make: () -> Value) {
    slots = ShardSlots(count: count) { Mutex(make()) }
  }

  /// Runs `body` on the calling thread's shard.
  @inline(__always)
  func withLocalShard<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
    try withShard(ShardIndex.current, body)
  }

  /// Runs `body` on shard `index` (any integer: it is reduced to a shard), for a caller that
  /// already knows its thread's ``ShardIndex/current``.
  @inline(__always)
  func withShard<R: Sendable>(_ index: Int, _ body: (inout Value) throws -> R) rethrows -> R {
    try slots.withShard(index) { mutex in try mutex.withLock { try body(&$0) } }
  }

  /// Runs `body` on every shard in turn.
  func forEachShard(_ body: (inout Value) -> Void) {
    slots.forEachShard { mutex in mutex.withLock { body(&$0) } }
  }
}

/// Which shard the calling thread uses.
enum ShardIndex {
  /// Two shards per core: a few threads sharing a shard meet rarely.
  static var defaultCount: Int {
    #if canImport(Darwin)
      return 16
    #else
      return 2 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #endif
  }

  /// A well-mixed number for the current thread: thread handles are addresses a page or a
  /// stack apart, so their low bits alone would put many threads on one shard.
  @inline(__always)
  static var current: Int {
    #if canImport(Darwin)
      let id = UInt64(UInt(bitPattern: pthread_self()))
    #else
      let id = UInt64(pthread_self())
    #endif
    return Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 40)
  }
}
