package import NIOCore
package import NIOPosix

extension ServerBootstrap {
  /// The listening options every Skein server shares (RPC, config store, admin endpoints): a
  /// backlog for bursts of connecting callers, address reuse so a restarted node binds its port
  /// again at once, and no Nagle delay on small replies.
  package static func skeinListener(group: any EventLoopGroup) -> ServerBootstrap {
    ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
  }
}

extension InstanceAddress {
  /// The address a socket reports, or nil when it reports none with a port.
  package init?(_ address: SocketAddress?) {
    guard let address, let port = address.port else { return nil }
    self.init(host: address.ipAddress ?? "?", port: port)
  }

  /// Where a listener bound: its socket's address, or what was asked for where the socket
  /// does not say.
  package init(listening channel: any Channel, host: String, port: Int) {
    self = InstanceAddress(channel.localAddress) ?? InstanceAddress(host: host, port: port)
  }
}
