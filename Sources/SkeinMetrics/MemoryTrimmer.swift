#if canImport(Glibc)
  import Glibc
#endif

/// Gives the system back the memory a burst of calls left free in the allocator.
///
/// glibc's malloc keeps what a process frees in its arenas, for reuse: after a burst (a
/// stalled machine releasing its backlog at once, thousands of calls in flight for a moment)
/// the process's RSS stays at the burst's high-water mark long after the memory was freed,
/// and each bigger burst raises it again. `malloc_trim(0)` returns the free pages inside every
/// arena. Elsewhere the allocator returns memory itself, and this does nothing.
public struct MemoryTrimmer: Sendable {
  /// How often a running trimmer trims.
  public let interval: Duration

  /// The default interval: a trim costs a walk of the free lists (a few milliseconds after a
  /// burst, next to nothing otherwise), so every 10 s is far below a percent of a core.
  public static let defaultInterval = Duration.seconds(10)

  /// A trimmer that trims every `interval`.
  public init(interval: Duration = MemoryTrimmer.defaultInterval) {
    self.interval = interval
  }

  /// Trims every ``interval`` until the task is cancelled.
  public func run() async {
    while (try? await Task.sleep(for: interval)) != nil {
      Self.trim()
    }
  }

  /// Returns the allocator's free pages to the system now.
  ///
  /// - Returns: Whether any memory was returned (always `false` where the allocator is not
  ///   glibc's).
  @discardableResult
  public static func trim() -> Bool {
    mallocTrim?(0) == 1
  }

  /// glibc's `malloc_trim`, looked up once: `<malloc.h>` is not in the C library's Swift
  /// module, and a C library without it (musl) leaves this `nil`, as does Darwin.
  private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    #if os(Linux)
      // A null handle is RTLD_DEFAULT on Linux: the symbol wherever the process has it.
      guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
      return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    #else
      return nil
    #endif
  }()
}
