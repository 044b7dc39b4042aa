import NIOSSL

/// Client TLS to etcd: the CA that signed etcd's certificate, and the client certificate and
/// key etcd asks for when it runs with `--client-cert-auth`. Loaded once, from PEM files, so a
/// missing or unreadable file is an error when the store is opened, not on its first call.
public struct EtcdTLS: Sendable {
  /// The TLS settings the HTTP client uses.
  let configuration: TLSConfiguration

  /// Loads the files.
  ///
  /// - Parameters:
  ///   - caFile: The CA certificate(s) to trust for etcd's server certificate (PEM); `nil`:
  ///     the system's trust store.
  ///   - certificateFile: The client certificate (PEM), for etcd's `--client-cert-auth`.
  ///   - keyFile: The client certificate's private key (PEM); needed with a certificate.
  /// - Throws: ``ConfigStoreError/Code/invalidArgument`` naming the file that cannot be used.
  public init(caFile: String?, certificateFile: String?, keyFile: String?)
    throws(ConfigStoreError)
  {
    var configuration = TLSConfiguration.makeClientConfiguration()
    if let caFile {
      configuration.trustRoots = .certificates(
        try Self.load("CA", caFile) {
          try NIOSSLCertificate.fromPEMFile($0)
        }
      )
    }
    switch (certificateFile, keyFile) {
    case (nil, nil):
      break
    case (let certificateFile?, let keyFile?):
      let chain = try Self.load("client certificate", certificateFile) {
        try NIOSSLCertificate.fromPEMFile($0)
      }
      let key = try Self.load("client key", keyFile) {
        try NIOSSLPrivateKey(file: $0, format: .pem)
      }
      configuration.certificateChain = chain.map { .certificate($0) }
      configuration.privateKey = .privateKey(key)
    default:
      throw ConfigStoreError(
        .invalidArgument,
        "a client certificate needs its key and a key its certificate (--etcd-cert with --etcd-key)"
      )
    }
    self.configuration = configuration
  }

  private static func load<T>(_ what: String, _ path: String, _ read: (String) throws -> T)
    throws(ConfigStoreError) -> T
  {
    do {
      return try read(path)
    } catch {
      throw ConfigStoreError(.invalidArgument, "cannot use \(path) as the \(what) (PEM): \(error)")
    }
  }
}
