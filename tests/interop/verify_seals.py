#!/usr/bin/env python3
"""Verify the proofs of records govex delivered, as an outside agency would:
confluent-kafka and fastavro from PyPI, gmssl (pure Python) for SM2/SM3 and
the cryptography package for Ed25519; nothing of govex. Written from
broker/lib/gx_seal.h, gx_pki.h and gx_proof.h.

  verify_seals.py --root ROOT.crt --keyring KEYRING.jsonl [--suite S]
                  [--sm2-id ID] [--grace-ms MS] [--schemas DIR] [--json]
                  (--brokers B --prefix P --consumer C --library L [--seals]
                   | --file F [--library L])

Reads <P>.deliver.<C>.<L> with isolation.level=read_committed from the start
to its end, or a file of JSON lines {"value_b64": ...} (what `govexctl verify
--save` writes). Each record is Avro single-object encoded (C3 01, 8-byte
little-endian CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form,
body), decoded with DIR/views/<L>.delivery.avsc (DIR default: the schemas/
directory beside tests/), and its proof checked: released values with their
salts and withheld fields' leaves give the record digest, which must reach
the root of the seal through its RFC 6962 audit path; the seal's signature
must verify under the agency certificate the keyring names for its key id at
its time, which must chain to the root. With --seals, <P>.seals is read too,
and a record whose own seal does not verify is accepted when a re-seal of
its batch (reseal_of) does.

Prints one line per record ("ok ..." or "FAILED ..."; --json: JSON lines and
a final {"summary": ...}). Exit 0 when every record verifies, 1 when one does
not, 2 for bad arguments, 3 when Kafka or a file cannot be read.
"""
import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import io
import json
import os
import struct
import sys

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

SEAL_TAG = b"govex-seal-v1\x00"
SEAL_MEMBERS = {"suite", "batch_id", "provider", "key_id", "count", "root",
                "created_at", "reseal_of", "sig"}


class Refused(Exception):
    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason


# ---- digests ----------------------------------------------------------------

def sm3(data):
    from gmssl import sm3 as _sm3
    return bytes.fromhex(_sm3.sm3_hash(list(data)))


class Suite:
    def __init__(self, name, sm2_id):
        if name not in ("sm2-sm3", "ed25519-sha256"):
            raise ValueError("unknown suite %r" % name)
        self.name = name
        self.sm2_id = sm2_id.encode()

    def h(self, *parts):
        data = b"".join(parts)
        if self.name == "sm2-sm3":
            return sm3(data)
        return hashlib.sha256(data).digest()

    def hmac(self, key, msg):
        if self.name == "ed25519-sha256":
            return hmac.new(key, msg, hashlib.sha256).digest()
        # RFC 2104 with SM3 (64-byte blocks)
        if len(key) > 64:
            key = sm3(key)
        key = key.ljust(64, b"\x00")
        inner = sm3(bytes(k ^ 0x36 for k in key) + msg)
        return sm3(bytes(k ^ 0x5C for k in key) + inner)

    def verify(self, pub, msg, sig):
        """pub: the raw public key from a certificate."""
        if self.name == "ed25519-sha256":
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            try:
                Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
                return True
            except (InvalidSignature, ValueError):
                return False
        return sm2_verify(pub, self.sm2_id, msg, sig)


SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def sm2_verify(pub, ident, msg, sig):
    """GB/T 32918.2: e = SM3(Z_A || M), Z_A over the distinguishing ID, the
    curve and the public key; the signature is DER SEQUENCE {r, s}."""
    from gmssl import sm2
    if len(pub) != 65 or pub[0] != 4:
        return False
    t = sm2.default_ecc_table
    z = sm3(struct.pack(">H", 8 * len(ident)) + ident + bytes.fromhex(t["a"]) +
            bytes.fromhex(t["b"]) + bytes.fromhex(t["g"]) + pub[1:])
    e = sm3(z + msg)
    try:
        r, s = der_ints(sig)
    except ValueError:
        return False
    if not (0 < r < SM2_N and 0 < s < SM2_N):
        return False
    v = sm2.CryptSM2(private_key="", public_key="")
    v.public_key = pub[1:].hex()  # not through the constructor: it strips
    try:  # leading '0'/'4' digits of the key along with the 04 prefix
        return bool(v.verify("%064x%064x" % (r, s), e))
    except Exception:  # a point not on the curve
        return False


# ---- DER, just enough for X.509 ------------------------------------------------

def der(b, i):
    """(tag, start of content, end of content) of the TLV at i."""
    if i + 2 > len(b):
        raise ValueError("truncated DER")
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad DER length")
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    if i + n > len(b):
        raise ValueError("truncated DER")
    return tag, i, i + n


def der_children(b, start, end):
    out, i = [], start
    while i < end:
        tag, s, e = der(b, i)
        out.append((tag, i, s, e))
        i = e
    return out


def der_ints(sig):
    tag, s, e = der(sig, 0)
    if tag != 0x30 or e != len(sig):
        raise ValueError("not a SEQUENCE")
    kids = der_children(sig, s, e)
    if len(kids) != 2 or any(k[0] != 0x02 for k in kids):
        raise ValueError("not two INTEGERs")
    return tuple(int.from_bytes(sig[k[2]:k[3]], "big", signed=True) for k in kids)


def der_time(b, tag, s, e):
    t = b[s:e].decode()
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        y = int(t[:2])
        t = ("19" if y >= 50 else "20") + t
    d = datetime.datetime.strptime(t, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000)


class Cert:
    def __init__(self, suite, pem):
        body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
        b = base64.b64decode(body)
        tag, s, e = der(b, 0)
        top = der_children(b, s, e)
        if tag != 0x30 or len(top) != 3:
            raise ValueError("not an X.509 certificate")
        tbs_t = top[0]
        self.tbs = b[tbs_t[1]:tbs_t[3]]
        sig = top[2]
        self.sig = b[sig[2] + 1:sig[3]]  # BIT STRING: skip the unused-bits byte
        f = der_children(b, tbs_t[2], tbs_t[3])
        if f[0][0] == 0xA0:
            f = f[1:]
        # serial, signature, issuer, validity, subject, spki, extensions
        self.issuer = b[f[2][1]:f[2][3]]
        self.subject = b[f[4][1]:f[4][3]]
        nb, na = der_children(b, f[3][2], f[3][3])
        self.not_before = der_time(b, nb[0], nb[2], nb[3])
        self.not_after = der_time(b, na[0], na[2], na[3])
        spki = f[5]
        self.key_id = suite.h(b[spki[1]:spki[3]])[:16].hex()
        alg, bits = der_children(b, spki[2], spki[3])
        self.pub = b[bits[2] + 1:bits[3]]
        self.uris = []
        for ext in f[6:]:
            if ext[0] != 0xA3:
                continue
            (seq,) = der_children(b, ext[2], ext[3])
            for x in der_children(b, seq[2], seq[3]):
                parts = der_children(b, x[2], x[3])
                if b[parts[0][2]:parts[0][3]] == b"\x55\x1d\x11":  # subjectAltName
                    oc = parts[-1]
                    (names,) = der_children(b, oc[2], oc[3])
                    for n in der_children(b, names[2], names[3]):
                        if n[0] == 0x86:
                            self.uris.append(b[n[2]:n[3]].decode())

    def agency(self):
        for u in self.uris:
            if u.startswith("urn:govex:agency:"):
                return u[len("urn:govex:agency:"):]
        return None


def parse_time(v):
    if isinstance(v, int):
        return v
    if len(v) == 10:
        v += "T00:00:00Z"
    d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))


class Keyring:
    """Agency certificates by key id, checked against the root, and the
    rotation rule of gx_pki.h."""

    def __init__(self, suite, root_path, path, grace_ms):
        self.suite, self.grace = suite, grace_ms
        with open(root_path) as f:
            self.root = Cert(suite, f.read())
        if self.root.issuer != self.root.subject or \
                not suite.verify(self.root.pub, self.root.tbs, self.root.sig):
            raise ValueError("%s: not a self-signed root" % root_path)
        self.keys = {}
        base = os.path.dirname(path)
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                j = json.loads(line)
                if "cert_pem" in j:
                    pem = j["cert_pem"]
                else:
                    with open(os.path.join(base, j["cert"])) as cf:
                        pem = cf.read()
                c = Cert(suite, pem)
                where = "%s:%d" % (path, n)
                if c.key_id != j["key_id"]:
                    raise ValueError("%s: key_id is not the certificate's" % where)
                if c.agency() != j["agency"]:
                    raise ValueError("%s: the certificate names another agency" % where)
                if c.issuer != self.root.subject or \
                        not suite.verify(self.root.pub, c.tbs, c.sig):
                    raise ValueError("%s: the certificate is not the root's" % where)
                self.keys[c.key_id] = (j["agency"], parse_time(j["valid_from"]), c)

    def select(self, agency, key_id, at):
        k = self.keys.get(key_id)
        if not k or k[0] != agency:
            raise Refused("seal_invalid", "no key %s of %s in the keyring" % (key_id, agency))
        _, vf, cert = k
        later = sorted(v for a, v, _ in self.keys.values() if a == agency and v > vf)
        if at < vf or (later and at >= later[0] + self.grace):
            raise Refused("seal_invalid", "key %s of %s did not seal at %d" % (key_id, agency, at))
        for c in (cert, self.root):
            if not c.not_before <= at <= c.not_after:
                raise Refused("seal_invalid", "sealed outside the certificate's validity")
        return cert


# ---- seals, Merkle paths, records --------------------------------------------

def u32(n):
    return struct.pack(">I", n)


def lstr(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


SEALS_OK = {}  # seal text -> parsed seal: each seal's signature is checked once


def check_seal(suite, keyring, text):
    if text in SEALS_OK:
        return SEALS_OK[text]
    try:
        s = json.loads(text)
    except ValueError:
        raise Refused("seal_invalid", "the seal is not JSON")
    if not isinstance(s, dict) or set(s) != SEAL_MEMBERS:
        raise Refused("seal_invalid", "the seal does not have exactly the seal's members")
    if s["suite"] != suite.name:
        raise Refused("seal_invalid", "seal in suite %r" % s["suite"])
    try:
        root = bytes.fromhex(s["root"])
        sig = base64.b64decode(s["sig"], validate=True)
    except ValueError:
        raise Refused("seal_invalid", "root or signature malformed")
    if base64.b64encode(sig).decode() != s["sig"]:
        # one text per signature, as the C verifier requires
        raise Refused("seal_invalid", "signature is not canonical base64")
    if len(root) != 32 or not isinstance(s["count"], int) or s["count"] < 1:
        raise Refused("seal_invalid", "root or count malformed")
    msg = (SEAL_TAG + lstr(suite.name) + lstr(s["batch_id"]) + lstr(s["provider"]) +
           lstr(s["key_id"]) + lstr(s["reseal_of"] or "") + u32(s["count"]) + root +
           struct.pack(">q", s["created_at"]))
    cert = keyring.select(s["provider"], s["key_id"], s["created_at"])
    if not suite.verify(cert.pub, msg, sig):
        raise Refused("seal_invalid", "the seal's signature does not verify")
    s["_root"] = root
    SEALS_OK[text] = s
    return s


def merkle_ok(suite, digest, index, count, path, root):
    """RFC 9162 2.1.3.2 (the same tree as RFC 6962)."""
    if index >= count:
        return False
    fn, sn, r = index, count - 1, suite.h(b"\x00", digest)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = suite.h(b"\x01", p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = suite.h(b"\x01", r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def strip_logical(node):
    """The schema without logicalType, so dates stay ints, timestamps longs
    and decimals bytes: values re-encode to exactly the bytes sealed."""
    if isinstance(node, dict):
        return {k: strip_logical(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [strip_logical(v) for v in node]
    return node


class Library:
    def __init__(self, schemas_dir, name):
        with open(os.path.join(schemas_dir, "views", name + ".delivery.avsc")) as f:
            text = f.read()
        pcf = to_parsing_canonical_form(fastavro.parse_schema(json.loads(text)))
        # fastavro gives the fingerprint's bytes as they are on the wire
        self.fp = int.from_bytes(bytes.fromhex(fingerprint(pcf, "CRC-64-AVRO")), "little")
        self.reader = fastavro.parse_schema(strip_logical(json.loads(text)))
        with open(os.path.join(schemas_dir, name + ".avsc")) as f:
            payload = json.load(f)
        self.fields = []  # (name, nullable, writer schema of its payload type)
        for fd in payload["fields"]:
            t = strip_logical(fd["type"])
            nullable = isinstance(t, list) and "null" in t
            self.fields.append((fd["name"], nullable, fastavro.parse_schema(copy.deepcopy(t))))

    def decode(self, value):
        if len(value) < 10 or value[:2] != b"\xc3\x01":
            raise Refused("not_avro", "not Avro single-object encoded")
        fp = struct.unpack("<Q", value[2:10])[0]
        if fp != self.fp:
            raise Refused("schema_mismatch", "fingerprint %016x is not the delivery schema's "
                          "(%016x)" % (fp, self.fp))
        bio = io.BytesIO(value[10:])
        rec = fastavro.schemaless_reader(bio, self.reader, None)
        if bio.read(1):
            raise Refused("avro_malformed", "bytes after the record")
        return rec


def record_digest(suite, lib, rec):
    prov, view = rec["provenance"], rec["payload"]
    proof = prov["proof"]
    if len(proof["fields"]) != len(lib.fields):
        raise Refused("proof_malformed", "proof has %d fields" % len(proof["fields"]))
    leaves = []
    for (name, nullable, schema), fp in zip(lib.fields, proof["fields"]):
        if fp["name"] != name:
            raise Refused("proof_malformed", "proof field %s is not %s" % (fp["name"], name))
        salt, leaf, v = fp["salt"], fp["leaf"], view[name]
        if (salt is None) == (leaf is None) or len(salt or leaf) != 32:
            raise Refused("proof_malformed", "%s: needs a 32-byte salt or leaf" % name)
        if leaf is not None:
            if v is not None:
                raise Refused("record_not_in_seal", "%s has a value but only a leaf" % name)
            leaves.append(leaf)
            continue
        if v is None and not nullable:
            raise Refused("proof_malformed", "%s has a salt but no value" % name)
        b = io.BytesIO()
        fastavro.schemaless_writer(b, schema, v)
        leaves.append(suite.h(salt, lstr(name), lstr(b.getvalue())))
    op = {"UPSERT": 0, "DELETE": 1}[prov["op"]]
    return suite.h(lstr(prov["record_id"]), lstr(prov["provider"]), lstr(prov["item"]),
                   struct.pack(">q", prov["collected_at"]), bytes([op]),
                   u32(len(leaves)), *leaves)


def verify_record(suite, keyring, lib, rec, reseals):
    """None when it verifies by its own seal, else the re-sealing agency;
    raises Refused."""
    prov = rec["provenance"]
    proof = prov["proof"]
    digest = record_digest(suite, lib, rec)
    if any(len(p) != 32 for p in proof["path"]) or proof["index"] < 0:
        raise Refused("proof_malformed", "audit path or index malformed")
    first = None
    for text in [proof["seal"]] + reseals.get(proof["batch_id"], []):
        try:
            s = check_seal(suite, keyring, text)
            if s["reseal_of"] is None:
                if s["batch_id"] != proof["batch_id"]:
                    raise Refused("record_not_in_seal", "the seal is of another batch")
                if s["provider"] != prov["provider"]:
                    raise Refused("seal_provider_mismatch", "record of %s sealed by %s"
                                  % (prov["provider"], s["provider"]))
            elif s["reseal_of"] != proof["batch_id"]:
                raise Refused("record_not_in_seal", "a re-seal of another batch")
            if not merkle_ok(suite, digest, proof["index"], s["count"], proof["path"], s["_root"]):
                raise Refused("record_not_in_seal", "the record's digest does not lead to the "
                              "seal's root (a value, salt, leaf or path was changed)")
            return None if text is proof["seal"] else s["provider"]
        except Refused as e:
            first = first or e
    raise first


# ---- reading -----------------------------------------------------------------

def read_topic(brokers, topic, timeout=60.0):
    """(partition, offset, value) of every committed record, start to end."""
    import time
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING, KafkaError
    c = Consumer({"bootstrap.servers": brokers, "group.id": "govex-verify-seals-py",
                  "enable.auto.commit": False, "isolation.level": "read_committed",
                  "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=10)
    if topic not in md.topics or md.topics[topic].error is not None:
        raise OSError("no topic %s" % topic)
    parts = list(md.topics[topic].partitions)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    left, out, deadline = set(parts), [], time.time() + timeout
    while left and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                left.discard(m.partition())
                continue
            raise OSError(str(m.error()))
        out.append((m.partition(), m.offset(), m.value()))
    c.close()
    if left:
        raise OSError("%s: not read to its end within %ds" % (topic, timeout))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers")
    ap.add_argument("--prefix")
    ap.add_argument("--consumer")
    ap.add_argument("--library")
    ap.add_argument("--file")
    ap.add_argument("--seals", action="store_true")
    ap.add_argument("--root", required=True)
    ap.add_argument("--keyring", required=True)
    ap.add_argument("--suite", default="sm2-sm3")
    ap.add_argument("--sm2-id", default="1234567812345678")
    ap.add_argument("--grace-ms", type=int, default=300000)
    ap.add_argument("--schemas", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "..", "schemas"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not a.library or (a.file is None) == (a.consumer is None) or \
            (a.consumer and not (a.brokers and a.prefix)) or (a.seals and not a.prefix):
        ap.print_usage(sys.stderr)
        print("give --library and either --file or --brokers, --prefix and --consumer",
              file=sys.stderr)
        return 2
    try:
        suite = Suite(a.suite, a.sm2_id)
        keyring = Keyring(suite, a.root, a.keyring, a.grace_ms)
        lib = Library(a.schemas, a.library)
        reseals = {}
        if a.seals:
            for _, _, v in read_topic(a.brokers, a.prefix + ".seals"):
                try:
                    s = json.loads(v)
                except ValueError:
                    continue
                if isinstance(s, dict) and s.get("reseal_of"):
                    reseals.setdefault(s["reseal_of"], []).append(v.decode())
        if a.file:
            records = []
            with open(a.file) as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        j = json.loads(line)
                        records.append(("%s:%d" % (a.file, n), base64.b64decode(j["value_b64"])))
        else:
            topic = "%s.deliver.%s.%s" % (a.prefix, a.consumer, a.library)
            records = [("%s[%d]@%d" % (topic, p, o), v) for p, o, v in read_topic(a.brokers, topic)]
    except (OSError, ValueError, KeyError) as e:
        print("verify_seals: %s" % e, file=sys.stderr)
        return 3
    ok = failed = resealed = 0
    for where, value in records:
        rid, res = None, {"where": where}
        try:
            rec = lib.decode(value)
            rid = rec["provenance"]["record_id"]
            by = verify_record(suite, keyring, lib, rec, reseals)
            ok += 1
            res.update(verified=True)
            if by:
                resealed += 1
                res["resealed_by"] = by
        except Refused as e:
            failed += 1
            res.update(verified=False, reason=e.reason, error=str(e))
        except Exception as e:  # a record that does not even decode
            failed += 1
            res.update(verified=False, reason="avro_malformed", error=repr(e))
        res["record_id"] = rid
        if a.json:
            print(json.dumps(res, ensure_ascii=False))
        elif res["verified"]:
            print("ok %s %s%s" % (rid, where, " (re-sealed by %s)" % res["resealed_by"]
                                  if "resealed_by" in res else ""))
        else:
            print("FAILED %s at %s: %s: %s" % (rid, where, res["reason"], res["error"]))
    summary = {"records": ok + failed, "verified": ok, "failed": failed, "resealed": resealed}
    if a.json:
        print(json.dumps({"summary": summary}))
    else:
        print("records=%d verified=%d failed=%d through_reseal=%d" % (ok + failed, ok, failed,
                                                                       resealed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
