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
    try AccessToken.given(
      secret,
      option: "--admin-token",
      variable: "SKEIN_ADMIN_TOKEN",
      in: environment
    )
  }
}

extension AccessToken {
  /// The token a command was given: `flag`, else the environment's `variable` (empty counts
  /// as unset), or `nil`; one that cannot be a token is the error a person reads, naming both.
  static func given(
    _ flag: String?,
    option: String,
    variable: String,
    in environment: [String: String]
  ) throws -> AccessToken? {
    guard let secret = flag ?? environment[variable].flatMap({ $0.isEmpty ? nil : $0 }) else {
      return nil
    }
    do {
      return try AccessToken(secret)
    } catch {
      throw ValidationError("\(option) (or \(variable)): \(error.message)")
    }
  }
}
