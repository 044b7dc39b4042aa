import ArgumentParser
import Foundation
import SkeinHTTP

/// The token of nodes' admin endpoints: `skein node` asks for it when it listens beyond
/// loopback, and `skein stats` and `skein top` send it.
struct AdminTokenOptions: ParsableArguments {
  @Option(
    name: .customLong("admin-token"),
    help: """
      The token nodes' admin endpoints ask for: `skein node` needs one to listen beyond \
      loopback (its admin endpoint shows its routes and load), and `skein stats` and \
      `skein top` then send it. Default: $SKEIN_ADMIN_TOKEN. A flag shows in `ps`: prefer \
      the variable.
      """
  )
  var secret: String?

  /// The token given, from the flag or the environment; `nil` when neither is set.
  func token(environment: [String: String] = ProcessInfo.processInfo.environment) throws
    -> AccessToken?
  {
    guard let secret = secret ?? environment["SKEIN_ADMIN_TOKEN"].flatMap({ $0.isEmpty ? nil : $0 })
    else { return nil }
    do {
      return try AccessToken(secret)
    } catch {
      throw ValidationError("--admin-token (or SKEIN_ADMIN_TOKEN): \(error)")
    }
  }
}
