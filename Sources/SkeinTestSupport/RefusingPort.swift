#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A loopback port that refuses every connection, for tests of connect failures.
///
/// The port is bound by a socket that never listens, so a connection to it is reset at once.
/// Keeping it bound is the point: a port freed by a stopped server can be taken by another
/// test's server, or a client's own ephemeral port can land on it and connect to itself,
/// and then a "connect failure" test sees a live peer. The socket stays open for the life of
/// the test process; a handful of descriptors is the price.
public enum RefusingPort {
  /// A fresh refusing port on 127.0.0.1.
  public static func make() throws -> Int {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw RefusingPortError(step: "socket", code: errno) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
      }
    }
    guard bound else {
      let code = errno
      close(fd)
      throw RefusingPortError(step: "bind", code: code)
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// Why a refusing port could not be made.
public struct RefusingPortError: Error, CustomStringConvertible {
  /// The system call that failed.
  public let step: String
  /// Its `errno`.
  public let code: Int32

  /// The failed call and the system's message.
  public var description: String { "\(step) failed: \(String(cString: strerror(code)))" }
}
