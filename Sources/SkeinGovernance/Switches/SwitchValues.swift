import Foundation
import SkeinRPC

/// The values of the governance keys, written and read in one place: `skein ctl`, the
/// dashboard and the demo mesh write them, ``GovernanceState`` reads them, and both sides
/// agree on the format and its checks.
///
/// - degrade: `{"on":true}`
/// - traffic: `{"c1":80,"c2":20}`, cluster names with non-negative weights, one positive
/// - config: a ``RouteConfig`` document, e.g. `{"timeout_ms":250,"balancer":"p2c"}`
public enum SwitchValue {
  /// The degrade value.
  public static func degrade(_ on: Bool) -> String { #"{"on":\#(on)}"# }

  /// The traffic value, keys sorted so equal splits are equal strings.
  ///
  /// - Throws: ``GovernanceValueError`` when the weights are not a usable split.
  public static func traffic(_ weights: [String: Int]) throws -> String {
    try checkTraffic(weights)
    return try encode(weights)
  }

  /// The config value.
  ///
  /// - Throws: ``GovernanceValueError`` when a field is out of range.
  public static func config(_ config: RouteConfig) throws -> String {
    try config.validate()
    return try encode(config)
  }

  /// Reads a degrade value.
  public static func parseDegrade(_ value: String) throws -> Bool {
    try JSONDecoder().decode(DegradeDocument.self, from: Data(value.utf8)).on
  }

  /// Reads and checks a traffic value.
  public static func parseTraffic(_ value: String) throws -> [String: Int] {
    let weights = try JSONDecoder().decode([String: Int].self, from: Data(value.utf8))
    try checkTraffic(weights)
    return weights
  }

  /// Reads and checks a config value.
  public static func parseConfig(_ value: String) throws -> RouteConfig {
    let config = try JSONDecoder().decode(RouteConfig.self, from: Data(value.utf8))
    try config.validate()
    return config
  }

  private static func checkTraffic(_ weights: [String: Int]) throws {
    guard weights.values.allSatisfy({ $0 >= 0 }), weights.values.contains(where: { $0 > 0 }),
      weights.keys.allSatisfy({ (try? Cluster($0)) != nil })
    else {
      throw GovernanceValueError(
        "weights must be cluster names with non-negative integers, one positive"
      )
    }
  }

  private static func encode(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  /// `{"on": true}`.
  private struct DegradeDocument: Decodable {
    var on: Bool
  }
}

/// A governance value that parses but cannot be used, and why.
public struct GovernanceValueError: Error, CustomStringConvertible {
  /// What is wrong.
  public let description: String

  /// Creates the error.
  public init(_ description: String) { self.description = description }
}
