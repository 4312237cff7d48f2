#!/usr/bin/python3
"""Read a consumer agency's deliveries the way an outside agency would:
with Apache Avro's own Python library and confluent-kafka, nothing of govex.

  read_deliveries.py BOOTSTRAP PREFIX CONSUMER LIBRARY COUNT

Checks every schema on <PREFIX>.schemas: its key is the CRC-64-AVRO
fingerprint of the Parsing Canonical Form that Apache Avro computes.
Then reads COUNT records from <PREFIX>.deliver.<CONSUMER>.<LIBRARY> with
isolation.level=read_committed, each in Avro single-object encoding, decodes
them with the schema the fingerprint names, and prints them as JSON lines
({"payload": ..., "provenance": ...}). Exit 0 when all COUNT were read and
decoded, 1 otherwise.
"""
import io
import json
import struct
import sys
import time

import avro.io
import avro.schema
from confluent_kafka import Consumer, TopicPartition

EMPTY = 0xC15D213AA4D7A795


def crc64_avro(data: bytes) -> int:
    """The fingerprint algorithm of the Avro specification, written from it."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    fp = EMPTY
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def primitives(node):
    """The specification's [PRIMITIVES] rule. Apache Avro Python 1.11.1
    strips logicalType but leaves {"type":"long"} where the rule (and Java)
    give "long", so its canonical form of a logical type is finished here."""
    if isinstance(node, dict):
        if set(node) == {"type"} and node["type"] in PRIMITIVES:
            return node["type"]
        return {k: primitives(v) for k, v in node.items()}
    if isinstance(node, list):
        return [primitives(v) for v in node]
    return node


def canonical_form(parsed) -> str:
    tree = primitives(json.loads(parsed.canonical_form))
    return json.dumps(tree, separators=(",", ":"), ensure_ascii=False)


def read_topic(conf, topic, until_count=None, timeout=30.0):
    c = Consumer(conf)
    md = c.list_topics(topic, timeout=10)
    parts = md.topics[topic].partitions
    c.assign([TopicPartition(topic, p, 0) for p in parts])  # from the start
    out, deadline = [], time.time() + timeout
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
    while time.time() < deadline:
        if until_count is not None and len(out) >= until_count:
            break
        if until_count is None and all(
            c.position([TopicPartition(topic, p)])[0].offset >= ends[p] or ends[p] == 0
            for p in parts
        ):
            break
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        out.append(m)
    c.close()
    return out


def main():
    bootstrap, prefix, consumer, library, count = sys.argv[1:6]
    count = int(count)
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "interop-python",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": False,
    }
    schemas = {}
    for m in read_topic(conf, prefix + ".schemas"):
        (fp,) = struct.unpack("<Q", m.key())
        parsed = avro.schema.parse(m.value().decode("utf-8"))
        want = crc64_avro(canonical_form(parsed).encode("utf-8"))
        if want != fp:
            print("schema %s: key %016x but Apache Avro's canonical form gives %016x"
                  % (parsed.fullname, fp, want), file=sys.stderr)
            return 1
        schemas[fp] = parsed
    print("checked %d schema fingerprints" % len(schemas), file=sys.stderr)

    topic = "%s.deliver.%s.%s" % (prefix, consumer, library)
    msgs = read_topic(conf, topic, until_count=count, timeout=60.0)
    ok = 0
    for m in msgs:
        v = m.value()
        if v[:2] != b"\xc3\x01":
            print("offset %d: not single-object encoded" % m.offset(), file=sys.stderr)
            continue
        (fp,) = struct.unpack("<Q", v[2:10])
        if fp not in schemas:
            print("offset %d: unknown fingerprint %016x" % (m.offset(), fp), file=sys.stderr)
            continue
        dec = avro.io.BinaryDecoder(io.BytesIO(v[10:]))
        rec = avro.io.DatumReader(schemas[fp]).read(dec)
        print(json.dumps(rec, ensure_ascii=False, default=str))
        ok += 1
    print("decoded %d of %d" % (ok, count), file=sys.stderr)
    return 0 if ok == count else 1


if __name__ == "__main__":
    sys.exit(main())
