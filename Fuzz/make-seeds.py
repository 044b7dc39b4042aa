#!/usr/bin/env python3
"""Writes Fuzz/Corpus/thrift: valid framed Thrift messages, each file one fuzz input.

An input's first byte is the read size the fuzz target splits the stream into (byte + 1);
the rest is the byte stream a peer sends. Run from anywhere; the files are committed.
"""
import os
import struct

STOP, BOOL, I32, I64, STRING, STRUCT, MAP, LIST = 0, 2, 8, 10, 11, 12, 13, 15


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">i", len(b)) + b


def field(type_id, fid, value):
    return struct.pack(">bh", type_id, fid) + value


def base(log_id="01JD0000000000000000000000", caller="gateway", extra=None):
    body = field(STRING, 1, string(log_id)) + field(STRING, 2, string(caller))
    if extra is not None:
        entries = b"".join(string(k) + string(v) for k, v in extra.items())
        body += field(MAP, 3, struct.pack(">bbi", STRING, STRING, len(extra)) + entries)
    return body + bytes([STOP])


def message(name, mtype, seq, body):
    return struct.pack(">I", 0x80010000 | mtype) + string(name) + struct.pack(">i", seq) + body


def frame(msg):
    return struct.pack(">i", len(msg)) + msg


def request_visit():
    req = (
        field(STRING, 1, string("skein"))
        + field(I64, 2, struct.pack(">q", 42))
        + field(I32, 3, struct.pack(">i", 7))
        + field(STRUCT, 255, base(extra={"deadline-ms": "250"}))
        + bytes([STOP])
    )
    return message("Visit", 1, 1, field(STRUCT, 1, req) + bytes([STOP]))


def reply_visit():
    resp = field(STRING, 1, string("hello skein")) + field(
        STRUCT, 255, field(STRING, 1, string("ok")) + field(I32, 2, struct.pack(">i", 0)) + bytes([STOP])
    ) + bytes([STOP])
    return message("Visit", 2, 1, field(STRUCT, 0, resp) + bytes([STOP]))


def request_rank():
    ids = struct.pack(">bi", I64, 3) + b"".join(struct.pack(">q", i) for i in (3, 1, 2))
    req = field(I64, 1, struct.pack(">q", 9)) + field(LIST, 2, ids) + field(STRUCT, 255, base()) + bytes([STOP])
    return message("Rank", 1, 2, field(STRUCT, 1, req) + bytes([STOP]))


def reply_multiget():
    values = struct.pack(">bbi", STRING, STRING, 2) + string("a") + string(b"\x00\x01") + string("b") + string(b"")
    resp = field(MAP, 1, values) + bytes([STOP])
    return message("MultiGet", 2, 3, field(STRUCT, 0, resp) + bytes([STOP]))


def exception_reply():
    body = field(STRING, 1, string("unknown method 'x'")) + field(I32, 2, struct.pack(">i", 1)) + bytes([STOP])
    return message("x", 3, 4, body)


def oneway_nonstrict():
    # The old non-strict header: name length first, then the type byte.
    return string("notify") + bytes([4]) + struct.pack(">i", 5) + bytes([STOP])


SEEDS = {
    "visit-call": [request_visit()],
    "visit-reply": [reply_visit()],
    "rank-call": [request_rank()],
    "multiget-reply": [reply_multiget()],
    "exception": [exception_reply()],
    "oneway-nonstrict": [oneway_nonstrict()],
    "pipelined": [request_visit(), request_rank(), reply_multiget()],
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus", "thrift")
    os.makedirs(out, exist_ok=True)
    for name, messages in SEEDS.items():
        stream = b"".join(frame(m) for m in messages)
        for chunk in (0xFF, 0x06):
            with open(os.path.join(out, f"{name}-{chunk + 1}"), "wb") as f:
                f.write(bytes([chunk]) + stream)
