"""Apache Thrift's side of Skein's interop test.

Run by the Swift test with Debian's python3-thrift and the Python code that Apache Thrift's own
compiler generated from interop.thrift:

    interop_peer.py GEN_DIR encode        print "name hex" for every corpus entry
    interop_peer.py GEN_DIR check FILE    decode each "name hex" line of FILE (written by Skein),
                                          print "name ok" or "name FAIL: why"

The corpus here and the one in InteropTests.swift name the same values; Python encodes with
TBinaryProtocol over TMemoryBuffer. Sets are written in sorted order and maps in sorted key
order (see canon) so that both sides can compare bytes exactly.
"""

import sys

sys.path.insert(0, sys.argv[1])

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TTransport  # noqa: E402
from thrift.Thrift import TApplicationException, TMessageType  # noqa: E402
from interop import Echo  # noqa: E402
from interop.ttypes import (  # noqa: E402
    Color, Containers, Drawing, Failure, Optionals, Point, RecordV1, RecordV2, Scalars, Shape,
)


def canon(value):
    """The value with sets as sorted lists and maps in sorted key order, recursively."""
    if isinstance(value, (set, frozenset)):
        return [canon(v) for v in sorted(value)]
    if isinstance(value, dict):
        return {canon(k): canon(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if hasattr(value, "thrift_spec"):
        copy = type(value).__new__(type(value))
        for key, field in value.__dict__.items():
            object.__setattr__(copy, key, canon(field))  # exceptions are immutable
        return copy
    return value


def protocol(data=None, strict=True):
    transport = TTransport.TMemoryBuffer(data) if data is not None else TTransport.TMemoryBuffer()
    return transport, TBinaryProtocol.TBinaryProtocol(transport, strictWrite=strict)


def encode(value):
    transport, proto = protocol()
    canon(value).write(proto)
    return transport.getvalue()


def decode(cls, data):
    transport, proto = protocol(data)
    value = cls()
    # Immutable types (exceptions) read through a classmethod that returns the value.
    value = value.read(proto) or value
    if transport._buffer.tell() != len(data):
        raise ValueError("%d bytes left over" % (len(data) - transport._buffer.tell()))
    return value


DRAWING = Drawing(
    shapes=[Shape(point=Point(x=1, y=2)), Shape(radius=2.5), Shape(label="tag")],
    main=Shape(label="main"),
    named={"a": Shape(radius=-1.0), "b": Shape(point=Point(x=-3, y=4))},
)

RECORD_V2 = RecordV2(
    name="record", b=True, i8v=-8, i16v=-16, version=7, i64v=-(2 ** 40), d=3.5,
    # Valid UTF-8 on purpose: Python's skip() reads a binary field as a string and decodes it.
    # Non-UTF-8 binary is covered by scalars_max, which Python reads as binary.
    bin=b"\x00\x01\x7f", point=Point(x=9, y=10), points=[Point(x=1, y=1), Point(x=2, y=2)],
    ints={3, 1, 2}, deep={"k": [Point(x=5, y=6)], "e": []},
    tangled=[[{1: "one", 2: "two"}], [], [{}]], shape=Shape(radius=1.5),
)

# name -> (type written, value, type read back, value expected when read back)
CORPUS = {
    "scalars_defaults": (Scalars, Scalars(blob=b""), Scalars, None),
    "scalars_extremes": (Scalars, Scalars(
        flag=False, tiny=-128, small=-32768, medium=-2147483648, large=-9223372036854775808,
        ratio=-0.0, text="", blob=b"", color=Color.BLUE), Scalars, None),
    "scalars_max": (Scalars, Scalars(
        flag=True, tiny=127, small=32767, medium=2147483647, large=9223372036854775807,
        ratio=1.7976931348623157e308, text="日本語 ✓ \U0001F600", blob=bytes(range(256)),
        color=Color.RED), Scalars, None),
    "scalars_unknown_enum": (Scalars, Scalars(blob=b"x", color=42), Scalars, None),
    "containers_empty": (Containers, Containers(
        numbers=[], tags=set(), counts={}, grid=[], paths={}, ids=set(), nested={}, colors=[],
        aliased=[], blobs=[], flags=[], ratios=[], small={}), Containers, None),
    "containers_full": (Containers, Containers(
        numbers=[3, -1, 2147483647], tags={"b", "a", "c"}, counts={"x": 1, "y": -2 ** 62},
        grid=[["a", "b"], [], ["c"]], paths={2: [Point(x=1, y=2)], -1: []}, ids={5, -5, 0},
        nested={"outer": {"inner": 0.5, "z": -2.0}, "empty": {}},
        colors=[Color.RED, Color.BLUE, Color.GREEN], aliased=[7, 8],
        blobs=[b"", b"\x00\xff"], flags=[True, False, True], ratios=[1e-300, -1e300, 0.1],
        small={-128: -32768, 127: 32767}), Containers, None),
    "optionals_unset": (Optionals, Optionals(id="only"), Optionals, None),
    "optionals_set": (Optionals, Optionals(
        name="n", count=0, id="x", where=Point(x=0, y=0), points=[Point(x=1, y=2)]),
        Optionals, None),
    "drawing": (Drawing, DRAWING, Drawing, None),
    "record_v1": (RecordV1, RecordV1(name="old", version=1), RecordV1, None),
    "record_v2": (RecordV2, RECORD_V2, RecordV2, None),
    # An old reader skips every field it does not know and keeps the rest.
    "record_v2_read_as_v1": (RecordV2, RECORD_V2, RecordV1, RecordV1(name="record", version=7)),
    # A new reader leaves what an old writer did not send at its default.
    "record_v1_read_as_v2": (RecordV1, RecordV1(name="old", version=1), RecordV2,
                             RecordV2(name="old", version=1)),
    "failure": (Failure, Failure(reason="bad", code=-1), Failure, None),
}


class Handler:
    def draw(self, drawing, times):
        if times < 0:
            raise Failure(reason="negative times", code=times)
        return Drawing(shapes=drawing.shapes * times, main=drawing.main, named=drawing.named)

    def ping(self, note):
        pass


def call_bytes(method, *args, seqid=7, strict=True):
    transport, proto = protocol(strict=strict)
    client = Echo.Client(proto)
    client._seqid = seqid
    getattr(client, "send_" + method)(*args)
    return transport.getvalue()


def process(request):
    transport_in, proto_in = protocol(request)
    transport_out, proto_out = protocol()
    Echo.Processor(Handler()).process(proto_in, proto_out)
    return transport_out.getvalue()


def unknown_call():
    transport, proto = protocol()
    proto.writeMessageBegin("nosuch", TMessageType.CALL, 9)
    proto.writeStructBegin("nosuch_args")
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    return transport.getvalue()


def messages():
    draw = call_bytes("draw", canon(DRAWING), 2)
    failing = call_bytes("draw", canon(DRAWING), -3, seqid=8)
    return {
        "msg_call_draw": draw,
        "msg_reply_draw": process(draw),
        "msg_call_draw_failing": failing,
        "msg_reply_failure": process(failing),
        "msg_oneway_ping": call_bytes("ping", "hi", seqid=3),
        "msg_call_draw_nonstrict": call_bytes("draw", canon(DRAWING), 2, strict=False),
        "msg_unknown_method": unknown_call(),
        "msg_unknown_method_reply": process(unknown_call()),
        "msg_app_exception": app_exception(),
    }


def app_exception():
    transport, proto = protocol()
    proto.writeMessageBegin("draw", TMessageType.EXCEPTION, 11)
    TApplicationException(TApplicationException.INTERNAL_ERROR, "it broke").write(proto)
    proto.writeMessageEnd()
    return transport.getvalue()


def check_message(name, data):
    """Checks a message Skein wrote: Apache Thrift must read it the way it reads its own."""
    if name in ("msg_call_draw", "msg_oneway_ping", "msg_call_draw_failing"):
        expected = messages()[name]
        return None if data == expected else "bytes differ: %s != %s" % (data.hex(), expected.hex())
    if name in ("msg_reply_draw", "msg_reply_failure"):
        # Skein's processor answered Python's call: the Python client must read the reply.
        transport, proto = protocol(data)
        client = Echo.Client(proto)
        try:
            result = client.recv_draw()
        except Failure as failure:
            if name != "msg_reply_failure" or failure != Failure(reason="negative times", code=-3):
                return "unexpected exception %r" % failure
            return None
        expected = Handler().draw(canon(DRAWING), 2)
        return None if canon(result) == canon(expected) else "unexpected result %r" % result
    if name in ("msg_unknown_method_reply", "msg_app_exception"):
        transport, proto = protocol(data)
        _, kind, _ = proto.readMessageBegin()
        if kind != TMessageType.EXCEPTION:
            return "message type %d, expected EXCEPTION" % kind
        error = TApplicationException()
        error.read(proto)
        wanted = (TApplicationException.UNKNOWN_METHOD if name == "msg_unknown_method_reply"
                  else TApplicationException.INTERNAL_ERROR)
        return None if error.type == wanted else "exception type %d, expected %d" % (error.type, wanted)
    return "no such message in the corpus"


def main():
    if sys.argv[2] == "encode":
        for name, (_, value, _, _) in CORPUS.items():
            print(name, encode(value).hex())
        for name, data in messages().items():
            print(name, data.hex())
        return
    failures = 0
    with open(sys.argv[3]) as lines:
        for line in lines:
            name, hexdata = line.split()
            data = bytes.fromhex(hexdata)
            try:
                if name.startswith("msg_"):
                    problem = check_message(name, data)
                else:
                    written, value, read, expected = CORPUS[name]
                    decoded = decode(read, data)
                    want = expected if expected is not None else value
                    problem = None
                    if canon(decoded) != canon(want):
                        problem = "decoded %r, expected %r" % (decoded, want)
                    elif expected is None and encode(decoded) != data:
                        problem = "re-encoded %s" % encode(decoded).hex()
            except Exception as error:  # noqa: BLE001 - every failure is reported, not raised
                problem = "%s: %s" % (type(error).__name__, error)
            print(name, "ok" if problem is None else "FAIL: " + problem)
            failures += problem is not None
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
