/// Who a client says it is to a config store.
///
/// The password and token never appear in ``description``, so a store's credentials can be
/// logged and printed in errors safely.
public enum ConfigStoreCredentials: Sendable, Hashable, CustomStringConvertible {
  /// A token sent as it is in every call's `Authorization` header: the embedded store's
  /// ``ConfigStoreServer/Configuration/token``.
  case token(String)
  /// An etcd user: the client logs in with the password and sends the token etcd gives.
  case user(name: String, password: String)

  /// `user 'NAME'` or `a token`.
  public var description: String {
    switch self {
    case .token: "a token"
    case .user(let name, _): "user '\(name)'"
    }
  }
}
