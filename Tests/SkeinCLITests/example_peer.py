"""Apache Thrift's side of the RPC interop test: a client and a server of ExampleService.

    example_peer.py GEN_DIR client PORT NAME    call Visit once over TFramedTransport +
                                                TBinaryProtocol; print "resp=<Resp>" and
                                                "log_id=<BaseResp.Extra[log_id]>"
    example_peer.py GEN_DIR server              serve Visit (Resp = "hello, " + Name, like
                                                Skein's); print "PORT <n>" once listening
"""

import sys

sys.path.insert(0, sys.argv[1])

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from base.ttypes import Base, BaseResp  # noqa: E402
from example import ExampleService  # noqa: E402
from example.ttypes import ExampleRequest, ExampleResponse  # noqa: E402


def client(port, name):
    socket = TSocket.TSocket("127.0.0.1", port)
    socket.setTimeout(5000)
    transport = TTransport.TFramedTransport(socket)
    service = ExampleService.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    base = Base(LogID="python-log-id", Caller="python-client")
    response = service.Visit(ExampleRequest(Name=name, ID64=1, ID32=2, Base=base))
    transport.close()
    print("resp=%s" % response.Resp)
    print("log_id=%s" % (response.BaseResp.Extra or {}).get("log_id", ""))


class Handler:
    def Visit(self, req):
        log_id = req.Base.LogID if req.Base else ""
        return ExampleResponse(Resp="hello, " + req.Name,
                               BaseResp=BaseResp(Extra={"log_id": log_id}))


class ListenOnce(TSocket.TServerSocket):
    """Listens once, so the port can be printed before TServer.serve() calls listen()."""

    def listen(self):
        if self.handle is None:
            super().listen()


def server():
    socket = ListenOnce(host="127.0.0.1", port=0)
    socket.listen()
    print("PORT %d" % socket.handle.getsockname()[1], flush=True)
    served = TServer.TThreadedServer(
        ExampleService.Processor(Handler()), socket,
        TTransport.TFramedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(),
        daemon=True)
    served.serve()


if __name__ == "__main__":
    if sys.argv[2] == "client":
        client(int(sys.argv[3]), sys.argv[4])
    else:
        server()
