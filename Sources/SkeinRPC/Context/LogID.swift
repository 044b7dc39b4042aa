#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Generates LogIDs: the id that ties every call of one request tree together in logs.
///
/// The form is `yyyyMMddHHmmss` (UTC) followed by 12 random hex digits, so ids sort by time and
/// a person can tell when a request started.
public enum LogID {
  /// A new LogID.
  public static func generate() -> String {
    let seconds = Int(Date().timeIntervalSince1970)
    let days = seconds / 86_400
    let (year, month, day) = civilDate(daysSinceEpoch: days)
    let secondOfDay = seconds % 86_400
    var text = ""
    text.reserveCapacity(26)
    for (value, width) in [
      (year, 4), (month, 2), (day, 2), (secondOfDay / 3600, 2), (secondOfDay / 60 % 60, 2),
      (secondOfDay % 60, 2),
    ] {
      let digits = String(value)
      text += String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    let random = UInt64.random(in: 0...0xFFFF_FFFF_FFFF)
    let hex = String(random, radix: 16)
    return text + String(repeating: "0", count: 12 - hex.count) + hex
  }

  /// Year, month and day of a day count since 1970-01-01 (proleptic Gregorian calendar).
  static func civilDate(daysSinceEpoch: Int) -> (Int, Int, Int) {
    // Howard Hinnant's days-to-civil algorithm, written out.
    let z = daysSinceEpoch + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
