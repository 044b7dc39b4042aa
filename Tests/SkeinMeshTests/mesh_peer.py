"""Apache Thrift's side of the demo mesh's interop test, generated from demo/idl/storage.thrift.

    mesh_peer.py GEN_DIR client PORT    call StorageService.Get once over TFramedTransport +
                                        TBinaryProtocol with LogID "python-log-id"; print
                                        "found=<Found>" and "log_id=<BaseResp.Extra[log_id]>"
    mesh_peer.py GEN_DIR server         serve StorageService (Get answers Value "v", Found true
                                        and the request's LogID); print "PORT <n>" once
                                        listening
"""

import sys

sys.path.insert(0, sys.argv[1])

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from base.ttypes import Base, BaseResp  # noqa: E402
from storage import StorageService  # noqa: E402
from storage.ttypes import (  # noqa: E402
    StorageGetRequest, StorageGetResponse, StorageMultiGetResponse)


def client(port):
    socket = TSocket.TSocket("127.0.0.1", port)
    socket.setTimeout(5000)
    transport = TTransport.TFramedTransport(socket)
    service = StorageService.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    base = Base(LogID="python-log-id", Caller="python-client")
    response = service.Get(StorageGetRequest(Key="k", Base=base))
    transport.close()
    print("found=%s" % response.Found)
    print("log_id=%s" % (response.BaseResp.Extra or {}).get("log_id", ""))


class Handler:
    def Get(self, req):
        log_id = req.Base.LogID if req.Base else ""
        return StorageGetResponse(Value=b"v", Found=True,
                                  BaseResp=BaseResp(Extra={"log_id": log_id}))

    def MultiGet(self, req):
        return StorageMultiGetResponse(Values={}, BaseResp=BaseResp())


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
        StorageService.Processor(Handler()), socket,
        TTransport.TFramedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(),
        daemon=True)
    served.serve()


if __name__ == "__main__":
    if sys.argv[2] == "client":
        client(int(sys.argv[3]))
    else:
        server()
