"""Benchmark DKIM signing of dispatch emails: CPU per message, ours against plain dkimpy in the same process (JSON lines).

Each message is what the smtp transport sends: the builder's bytes (notices/mail.py) for one recipient, with a
PDF attachment of --pdf-kb kilobytes. The first line is the machine's load average (other work skews CPU time);
then building alone (the floor), plain `dkim.sign` (pure-Python RSA), and `notices.dkim_signing` (dkimpy's
canonicalisation, OpenSSL's RSA), with the ratio of the two. Every signature is checked with `dkim.verify`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import dkim  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from notices import dkim_signing, mail  # noqa: E402

DOMAIN, SELECTOR = "bhxh.example.vn", "congvan2026"
ARGUMENTS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGUMENTS.add_argument("--messages", type=int, default=300, help="messages signed by each method")
ARGUMENTS.add_argument("--pdf-kb", type=int, default=150, help="size of the attached PDF")
ARGUMENTS.add_argument("--key-bits", type=int, default=2048)


def messages(count: int, pdf_kb: int) -> list[bytes]:
    """Return `count` messages of one letter, each for its own recipient."""
    pdf = b"%PDF-1.7\n" + os.urandom(pdf_kb * 1024)  # compressed PDF streams look random to base64
    letter = mail.Letter(subject="[Số 05/BHXH-QLT] V/v phối hợp đôn đốc đóng BHXH, BHYT năm 2026",
                         text=f"Kính gửi: {mail.ORG_PLACEHOLDER}\n" + "Nội dung công văn. " * 40,
                         html=f"<p>Kính gửi: {mail.ORG_PLACEHOLDER}</p>" + "<p>Nội dung công văn.</p>" * 40,
                         attachments=[("05-BHXH-QLT.pdf", pdf, "application/pdf")])  # fmt: skip
    return [letter.as_bytes(mail.Recipient(address=f"office{i:05d}@bhxh-hanoi.example.vn",
                                           message_id=f"congvan.1.{i}@{DOMAIN}",
                                           organization_name=f"Bảo hiểm xã hội cơ sở số {i}"))
            for i in range(count)]  # fmt: skip


def cpu_ms_per_message(sign, batch: list[bytes]) -> tuple[float, list[bytes]]:
    """Return the CPU milliseconds per message of `sign` over the batch, and the signed messages."""
    sign(batch[0])  # warm caches
    start = time.process_time()
    signed = [sign(message) + message for message in batch]
    return (time.process_time() - start) * 1000 / len(batch), signed


def main() -> None:
    args = ARGUMENTS.parse_args()
    print(json.dumps({"load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}))
    key = rsa.generate_private_key(public_exponent=65537, key_size=args.key_bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())  # fmt: skip
    record = dkim_signing.public_key_record(key).encode()
    start = time.process_time()
    batch = messages(args.messages, args.pdf_kb)
    build_ms = (time.process_time() - start) * 1000 / len(batch)
    common = {"messages": len(batch), "message_kb": round(len(batch[0]) / 1024), "key_bits": args.key_bits}
    print(json.dumps({"bench": "build_message_only", "cpu_ms_per_message": round(build_ms, 3), **common}))
    plain_ms, plain = cpu_ms_per_message(lambda m: dkim.sign(m, SELECTOR.encode(), DOMAIN.encode(), pem), batch)
    signer = dkim_signing.DkimSigner(DOMAIN, SELECTOR, key)
    ours_ms, ours = cpu_ms_per_message(signer.signature, batch)
    dnsfunc = lambda name, timeout=5: record  # noqa: E731 (the selector's TXT record, no network)
    verified = all(dkim.verify(m, dnsfunc=dnsfunc) for m in plain + ours)
    print(json.dumps({"bench": "dkimpy_sign", "cpu_ms_per_message": round(plain_ms, 3), **common}))
    print(json.dumps({"bench": "notices_dkim_signing", "cpu_ms_per_message": round(ours_ms, 3),
                      "ratio_to_dkimpy": round(ours_ms / plain_ms, 3), "all_verified": verified, **common}))  # fmt: skip
    if not verified:
        sys.exit("a signature did not verify")


if __name__ == "__main__":
    main()
