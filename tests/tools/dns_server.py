#!/usr/bin/python3
"""A tiny authoritative DNS server over UDP for the deliverability tests.
Zone (any other name is NXDOMAIN):
  deliverable.test  MX 10 mx.deliverable.test
  nullmx.test       MX 0 .            (RFC 7505: accepts no mail)
  aonly.test        A 192.0.2.1       (no MX: the A record stands in)
  nomail.test       exists, no MX, A or AAAA
  broken.test       SERVFAIL
  slow.test         never answered
Standard library only."""
import argparse
import socket
import struct

MX, A, AAAA = 15, 1, 28


def name_bytes(name):
    out = b""
    for label in name.strip(".").split(".") if name.strip(".") else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(pkt):
    i, labels = 12, []
    while pkt[i]:
        n = pkt[i]
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    qtype, qclass = struct.unpack(">HH", pkt[i + 1:i + 5])
    return ".".join(labels), qtype, pkt[12:i + 5]


def answer(pkt):
    qid = pkt[:2]
    name, qtype, question = parse_question(pkt)
    if name == "slow.test":
        return None
    rcode, records = 0, []
    if name == "broken.test":
        rcode = 2
    elif name == "deliverable.test" and qtype == MX:
        records.append((MX, struct.pack(">H", 10) + name_bytes("mx.deliverable.test")))
    elif name == "nullmx.test" and qtype == MX:
        records.append((MX, struct.pack(">H", 0) + name_bytes(".")))
    elif name == "aonly.test" and qtype == A:
        records.append((A, socket.inet_aton("192.0.2.1")))
    elif name not in ("deliverable.test", "nullmx.test", "aonly.test", "nomail.test"):
        rcode = 3
    flags = 0x8400 | 0x0080 | rcode          # QR, AA, RA
    head = qid + struct.pack(">HHHHH", flags, 1, len(records), 0, 0)
    body = question
    for rtype, rdata in records:
        body += struct.pack(">HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata
    return head + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    while True:
        pkt, peer = s.recvfrom(4096)
        try:
            out = answer(pkt)
        except (IndexError, struct.error, UnicodeError):
            continue
        if out:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
