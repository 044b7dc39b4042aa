/// Holds a struct field's value behind a reference, so a struct can contain itself (directly
/// or through other structs). Generated code uses it only for fields on such a cycle; the box
/// is immutable, so sharing it between copies keeps value semantics.
public final class ThriftBox<Value: Hashable & Sendable>: Hashable, Sendable {
  /// The boxed value.
  public let value: Value

  /// Boxes a value.
  @inlinable
  public init(_ value: Value) { self.value = value }

  /// Boxes compare by value.
  public static func == (lhs: ThriftBox, rhs: ThriftBox) -> Bool { lhs.value == rhs.value }

  /// Boxes hash by value.
  public func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
}
