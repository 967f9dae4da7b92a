#!/usr/bin/python3
"""Expected facts for the x509 corpus test (src/x509/corpus.test.ts).

Walks the certificate files of Debian's python3-cryptography-vectors (its x509/ folder, PKITS_data
included) and ca-certificates (/usr/share/ca-certificates/**/*.crt), reads every certificate with
OpenSSL (through the cffi binding of Debian's python3-cryptography: d2i_X509, the same reader as
`openssl x509`) and with python `cryptography` (its own Rust DER parser since 35.0), and prints one
JSON object per certificate on stdout, then one summary object (`"summary": true`).
See test/vectors/x509-corpus/README.md for what is compared and why.

Usage: x509-corpus.py [ROOT ...]   (default: the two Debian folders above)
Exit status: 0 done, 2 python3-cryptography / the vectors are missing (one line on stderr).
"""
import base64
import hashlib
import json
import os
import re
import sys
import warnings

try:
    from cryptography import x509
    from cryptography.hazmat.bindings.openssl.binding import Binding
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from cryptography.x509.oid import NameOID
except ImportError as err:  # the test turns this into a clear failure
    sys.stderr.write(f"x509-corpus.py: python3-cryptography is missing ({err}); apt-get install python3-cryptography\n")
    sys.exit(2)

# cryptography warns (does not fail) on negative serials and the like; the facts are what we want.
warnings.simplefilter("ignore")

ffi = Binding.ffi
lib = Binding.lib
# cryptography 42+ dropped the X509 functions from its OpenSSL binding; Debian 12 ships 38.
for _fn in ("d2i_X509_bio", "i2d_X509_bio", "i2d_X509_NAME", "ASN1_INTEGER_to_BN", "BN_bn2hex"):
    if not hasattr(lib, _fn):
        import cryptography

        sys.stderr.write(
            f"x509-corpus.py: cryptography {cryptography.__version__} ({cryptography.__file__}) has no {_fn} "
            "in its OpenSSL binding; run it with Debian's /usr/bin/python3 and python3-cryptography\n"
        )
        sys.exit(2)

# Files that hold certificates: PEM (any extension, recognised by its BEGIN line) or DER. The
# other vector formats are not certificates: PKCS #12 (.p12), CertificatePair (.cp), CRLs (.crl),
# S/MIME mail (.eml), LDIF, schema and text files.
CERT_EXTENSIONS = (".pem", ".der", ".crt", ".cer")
# PEM labels OpenSSL's PEM_read_bio_X509 accepts (pem_lib.c check_pem: "X509 CERTIFICATE" is the
# old name). Other labels (CSRs, CRLs, keys) are not certificates.
PEM_BLOCK = re.compile(
    rb"-----BEGIN (CERTIFICATE|X509 CERTIFICATE)-----\r?\n(.*?)-----END \1-----", re.S
)

# RFC 4514 short names the walker uses (src/x509/name.ts) where cryptography prints a dotted OID.
NAME_OVERRIDES = {
    NameOID.SURNAME: "SN",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.TITLE: "title",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.GIVEN_NAME: "givenName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
}


def default_roots():
    roots = []
    try:
        import cryptography_vectors
    except ImportError:
        sys.stderr.write(
            "x509-corpus.py: python3-cryptography-vectors is missing; apt-get install python3-cryptography-vectors\n"
        )
        sys.exit(2)
    roots.append(("cryptography-vectors", os.path.join(os.path.dirname(cryptography_vectors.__file__), "x509")))
    roots.append(("ca-certificates", "/usr/share/ca-certificates"))
    for _, path in roots:
        if not os.path.isdir(path):
            sys.stderr.write(f"x509-corpus.py: {path} does not exist\n")
            sys.exit(2)
    return roots


def openssl_error():
    code = lib.ERR_get_error()
    lib.ERR_clear_error()
    if code == 0:
        return "unknown error"
    buf = ffi.new("char[]", 256)
    lib.ERR_error_string_n(code, buf, 256)
    return ffi.string(buf).decode("ascii", "replace")


def other_kind(der):
    """What a blob that is not a certificate is (the vectors keep CRLs, CSRs and OCSP in .der/.pem)."""
    from cryptography.x509 import ocsp

    for kind, load in (
        ("CRL", x509.load_der_x509_crl),
        ("CSR", x509.load_der_x509_csr),
        ("OCSP request", ocsp.load_der_ocsp_request),
        ("OCSP response", ocsp.load_der_ocsp_response),
    ):
        try:
            load(der)
            return kind
        except Exception:  # noqa: BLE001
            pass
    return None


def ocsp_record(source, der):
    """The SCTs cryptography finds in an OCSP response's SingleResponse extensions (RFC 6962 §3.3)."""
    from cryptography.x509 import ocsp

    rec = {"ocspSource": source, "der": base64.b64encode(der).decode("ascii")}
    try:
        resp = ocsp.load_der_ocsp_response(der)
        scts = []
        if resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
            for ext in resp.single_extensions:
                if ext.oid.dotted_string == "1.3.6.1.4.1.11129.2.4.5":
                    scts += [
                        {"logId": s.log_id.hex(), "timestamp": iso(s.timestamp)} for s in ext.value
                    ]
        rec["scts"] = scts
    except Exception as err:  # noqa: BLE001
        rec["error"] = f"{type(err).__name__}: {err}"
    return rec


def openssl_facts(der):
    """What OpenSSL's d2i_X509 makes of `der`: None when it refuses, else a dict."""
    lib.ERR_clear_error()
    bio = lib.BIO_new_mem_buf(der, len(der))
    try:
        cert = lib.d2i_X509_bio(bio, ffi.NULL)
    finally:
        lib.BIO_free(bio)
    if cert == ffi.NULL:
        return {"ok": False, "error": openssl_error()}
    try:
        # i2d of an unmodified X509 returns the cached received encoding: its length tells whether
        # d2i left bytes over (d2i reads one element and ignores what follows).
        out = lib.BIO_new(lib.BIO_s_mem())
        lib.i2d_X509_bio(out, cert)
        ptr = ffi.new("char **")
        n = lib.BIO_get_mem_data(out, ptr)
        encoded = ffi.buffer(ptr[0], n)[:]
        lib.BIO_free(out)
        bn = lib.ASN1_INTEGER_to_BN(lib.X509_get_serialNumber(cert), ffi.NULL)
        hex_ptr = lib.BN_bn2hex(bn)
        serial = ffi.string(hex_ptr).decode("ascii").lower()
        lib.OPENSSL_free(hex_ptr)
        lib.BN_free(bn)
        pp = ffi.new("unsigned char **")
        n = lib.i2d_X509_NAME(lib.X509_get_issuer_name(cert), pp)
        issuer_der = ffi.buffer(pp[0], n)[:]
        lib.OPENSSL_free(pp[0])
    finally:
        lib.X509_free(cert)
    return {
        "ok": True,
        "trailingBytes": len(der) - len(encoded) if der.startswith(encoded) else None,
        "reencoded": encoded != der[: len(encoded)],
        "serial": serial,
        "issuerDerSha256": hashlib.sha256(issuer_der).hexdigest(),
    }


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt.year >= 1000 else dt.isoformat() + "Z"


def pyca_facts(der):
    """What python `cryptography` reads; each fact separately, since its parsing is lazy."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except Exception as err:  # noqa: BLE001 - any refusal is a fact to report
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}
    facts = {"ok": True, "tbsSha256": hashlib.sha256(cert.tbs_certificate_bytes).hexdigest()}
    for key, get in (
        ("notBefore", lambda: iso(cert.not_valid_before)),
        ("notAfter", lambda: iso(cert.not_valid_after)),
        ("serialInt", lambda: cert.serial_number),
        ("issuer", lambda: cert.issuer.rfc4514_string(NAME_OVERRIDES)),
        ("subject", lambda: cert.subject.rfc4514_string(NAME_OVERRIDES)),
        ("spkiSha256", lambda: hashlib.sha256(
            cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        ).hexdigest()),
        ("san", lambda: san_facts(cert)),
    ):
        try:
            facts[key] = get()
        except Exception as err:  # noqa: BLE001
            facts[key + "Error"] = f"{type(err).__name__}: {err}"
    if isinstance(facts.get("serialInt"), int):
        n = facts.pop("serialInt")
        facts["serial"] = ("-" if n < 0 else "") + format(abs(n), "x")
    return facts


def san_facts(cert):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {"dns": [], "ip": []}
    # DNSName values are str; their UTF-8 bytes are the IA5String content octets cryptography read
    # (it refuses bytes that are not UTF-8), sent as hex so that no byte is reinterpreted on the way.
    return {
        "dns": [v.encode("utf-8").hex() for v in san.get_values_for_type(x509.DNSName)],
        "ip": [str(v) for v in san.get_values_for_type(x509.IPAddress)],
    }


def candidates(roots, skipped):
    """(source, path, index, der, form) for every certificate-shaped blob; counts skipped files."""
    for label, root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                path = os.path.join(dirpath, fn)
                source = f"{label}:{os.path.relpath(path, root)}"
                ext = os.path.splitext(fn)[1].lower()
                if ext not in CERT_EXTENSIONS:
                    skipped[ext or "(none)"] = skipped.get(ext or "(none)", 0) + 1
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                if b"-----BEGIN " in data:
                    blocks = PEM_BLOCK.findall(data)
                    if not blocks:
                        skipped["pem without a certificate block"] = skipped.get("pem without a certificate block", 0) + 1
                    for i, (_, body) in enumerate(blocks):
                        try:
                            der = base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
                        except Exception:  # noqa: BLE001
                            der = None
                        yield source, path, i, der, "pem"
                elif data[:1] == b"\x30":
                    yield source, path, 0, data, "der"
                else:
                    skipped["binary, not DER"] = skipped.get("binary, not DER", 0) + 1


def main():
    roots = [tuple(a.split("=", 1)) if "=" in a else (a, a) for a in sys.argv[1:]] or default_roots()
    counts = {"certificates": 0, "openssl": 0, "pyca": 0}
    skipped = {}
    for source, path, index, der, form in candidates(roots, skipped):
        rec = {"source": source, "path": path, "index": index, "form": form}
        if der is None:
            rec.update(der=None, openssl={"ok": False, "error": "PEM body is not base64"}, pyca={"ok": False})
        else:
            rec["der"] = base64.b64encode(der).decode("ascii")
            rec["openssl"] = openssl_facts(der)
            rec["pyca"] = pyca_facts(der)
            if not rec["openssl"]["ok"] and not rec["pyca"]["ok"]:
                kind = other_kind(der)
                if kind is not None:
                    skipped[f"{form} {kind}"] = skipped.get(f"{form} {kind}", 0) + 1
                    if kind == "OCSP response":
                        print(json.dumps(ocsp_record(source, der), sort_keys=True))
                    continue
        counts["certificates"] += 1
        counts["openssl"] += rec["openssl"]["ok"]
        counts["pyca"] += rec["pyca"]["ok"]
        print(json.dumps(rec, sort_keys=True))
    from cryptography import __version__ as pyca_version

    version = ffi.string(lib.OpenSSL_version(0)).decode() if hasattr(lib, "OpenSSL_version") else "?"
    print(json.dumps({"summary": True, "counts": counts, "skippedFiles": skipped,
                      "cryptography": pyca_version, "openssl": version, "roots": [r for _, r in roots]}))


if __name__ == "__main__":
    main()
