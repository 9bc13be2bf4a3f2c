"""Benchmark personalised dispatches: N signed copies through the real pipeline, against full render + pyHanko.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/congvan REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/personalised.py --recipients 100000

Issues a personalised one-page letter (three fields and a three-row table) to N organisations with real PostgreSQL
(a fresh `<db>_bench` database), Redis, worker processes (one prefork pool process each: making copies is CPU
work) and an aiosmtpd sink in its own process that writes every message it accepts to disk. Measures the time from
issue until all N are handed to SMTP, the copies per second end to end, the workers' peak RSS and the bytes stored.
Then, in the same run and on the same cores, the baseline: one process per core rendering copies of the same
letter in full with WeasyPrint and signing each with pyHanko as its documentation shows (`SimpleSigner.load_pkcs12`,
`signers.sign_pdf`), a sample of 300 copies, projected. Afterwards it reads every message the sink received (its
PDF's text must carry its own organisation's fields and no other's) and checks 200 copies picked at random with
poppler's pdfsig. One JSON line; the load average is taken before the start.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import _support as support

BODY = (
    "<p>Căn cứ kết quả đối chiếu số liệu đóng bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp, Bảo hiểm xã "
    "hội thành phố Hà Nội thông báo đơn vị còn nợ tiền đóng như sau.</p>"
    "<p>Số tiền còn nợ: {{ so_tien_no|money }}; số tháng chậm đóng: {{ so_thang }}; hạn nộp: {{ han_nop|date }}.</p>"
    "<table><tr><td>Tháng</td><td>Số tiền</td></tr><tr><td>{% for r in table %}{{ r.thang }}</td>"
    "<td>{{ r.so_tien|money }}{% endfor %}</td></tr></table>"
    "<p>Đề nghị đơn vị nộp đủ số tiền còn nợ trước hạn nêu trên; quá hạn, cơ quan bảo hiểm xã hội sẽ xử lý theo "
    "quy định của pháp luật.</p>"
)
SAMPLE = 300  # copies the baseline renders and signs
SIGNATURES = 200  # copies checked with pdfsig
NAME = re.compile(r"Thương mại số (\d{6})")
MONEY = re.compile(r"\d{1,3}(?:\.\d{3})+ đồng")


def debt(i: int) -> int:
    return 10_000_000 + 7_919 * i


def month_amount(i: int, month: int) -> int:
    return 1_000_000 + 131 * i + month


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def merge_csv(n: int) -> bytes:
    """Return the merge file: three rows per organisation (its months), the fields on each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Mã đơn vị", "Số tiền nợ", "Số tháng", "Hạn nộp", "Tháng", "Số tiền"])
    for i in range(n):
        for month in (1, 2, 3):
            writer.writerow([f"DV{i:06d}", debt(i), i % 12 + 1, "05/03/2026", f"{month:02d}/2026",
                             month_amount(i, month)])  # fmt: skip
    return out.getvalue().encode("utf-8")


def prepare(n: int):
    """Return the step that makes the seeded draft personalised and attaches its merge data, as its drafter."""

    def personalise(draft, drafter) -> None:
        from django.db import connection

        from notices import merge_data

        with connection.cursor() as cursor:  # the seeded names end with the organisation's number
            cursor.execute("UPDATE recipients_organization SET bhxh_code = 'DV' || right(name, 6)")
        draft.personalised, draft.subject, draft.body = True, "thông báo và đôn đốc thu nợ bảo hiểm xã hội", BODY
        draft.save()
        merge_data.attach(draft, merge_csv(n), "no-bhxh.csv", "bhxh_code", drafter)

    return personalise


def expected_text(i: int) -> list[str]:
    months = [money(month_amount(i, month)) for month in (1, 2, 3)]
    return [f"Thương mại số {i:06d}", f"Số tiền còn nợ: {money(debt(i))}", *months]


def mismatch(i: int, text: str) -> bool:
    """Return whether a copy's text misses one of organisation i's fields or shows another's."""
    text = re.sub(r"\s+", " ", text)
    own = {money(debt(i)), *(money(month_amount(i, month)) for month in (1, 2, 3))}
    return (
        any(field not in text for field in expected_text(i))
        or {int(m) for m in NAME.findall(text)} != {i}
        or not set(MONEY.findall(text)) <= own
    )


def check_messages(folder: Path) -> tuple[int, int, list[bytes]]:
    """Return the messages read, those whose copy is not their organisation's own, and the PDFs (for pdfsig)."""
    import pypdfium2

    read, bad, pdfs = 0, 0, []
    for path in sorted(folder.iterdir()):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        address = str(message["To"]).split("<")[-1].rstrip(">").strip()
        i = int(address.removeprefix("donvi").split("@")[0])
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        data = pdf.get_content()
        document = pypdfium2.PdfDocument(data)
        text = " ".join(document[k].get_textpage().get_text_range() for k in range(len(document)))
        read, bad = read + 1, bad + mismatch(i, text)
        if len(pdfs) < SIGNATURES * 4:
            pdfs.append(data)
    return read, bad, pdfs


def bad_signatures(pdfs: list[bytes], workdir: Path) -> int:
    """Return how many of SIGNATURES copies picked at random poppler's pdfsig does not call valid."""
    bad = 0
    for k, data in enumerate(random.Random(7).sample(pdfs, min(SIGNATURES, len(pdfs)))):
        path = workdir / f"sig-{k}.pdf"
        path.write_bytes(data)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
        bad += "Signature Validation: Signature is Valid." not in out
        path.unlink()
    return bad


def baseline_worker(dispatch_id: int, organisation_ids: list[int], env: dict, ready, times) -> None:
    """Render each copy in full and sign it with pyHanko as documented (the key read each time it signs); put the
    loop's start and end on `times` (Django's start-up is not the loop's)."""
    support.setup_django(env, migrate=False)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from notices import personalising, rendering, signing
    from notices.models import Dispatch
    from recipients.models import Organization

    dispatch = Dispatch.objects.select_related("issuer", "drafting_unit", "signer").get(pk=dispatch_id)
    path, _root = signing.development_certificate()
    signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=signing.DEV_PASSWORD.encode())
    metadata = signers.PdfSignatureMetadata(field_name="ChuKySoCoQuan", md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)  # fmt: skip
    organisations = list(Organization.objects.filter(pk__in=organisation_ids))
    texts = personalising.texts_for(dispatch, organisations)
    ready.wait()
    started = time.time()
    for k, org in enumerate(organisations):
        own = texts[org.pk]
        text = rendering.CopyText(own.subject, own.addressee_lines, own.body_html, f"{k:064d}", f"BASE-{k:06d}")
        pdf = rendering.render_html(rendering.dispatch_html(dispatch, [], copy=text))
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer)
    times.put((started, time.time()))


def run_baseline(dispatch_id: int, env: dict, processes: int) -> float:
    """Return the copies per second of `processes` full-render-and-sign loops sharing SAMPLE copies."""
    from notices.models import DispatchCopy

    ids = list(DispatchCopy.objects.filter(dispatch_id=dispatch_id).values_list("organization_id", flat=True))
    ids = ids[:SAMPLE]
    shares = [ids[k::processes] for k in range(processes)]
    context = multiprocessing.get_context("spawn")
    ready, times = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=baseline_worker, args=(dispatch_id, share, env, ready, times))
               for share in shares]  # fmt: skip
    for worker in workers:
        worker.start()
    spans = [times.get(timeout=3600) for _ in workers]
    for worker in workers:
        worker.join()
    if any(worker.exitcode for worker in workers):
        raise RuntimeError("a baseline process failed")
    return len(ids) / (max(end for _, end in spans) - min(start for start, _ in spans))


def measure(draft, clerk, workers, n: int) -> tuple[float, float]:
    """Issue the dispatch; return the seconds until all N are handed to SMTP and the workers' peak RSS."""
    from notices import issuing

    watch = support.RssWatch(workers)
    watch.start()
    time.sleep(3)  # let the workers connect before the clock starts
    issuing.issue(draft, clerk)
    started = time.monotonic()
    deadline = started + 4 * 3600
    while time.monotonic() < deadline:
        time.sleep(1)
        done = support.counts_by_status(draft.pk)
        if done.get("sent", 0) + done.get("failed", 0) >= n:
            break
    elapsed = time.monotonic() - started
    watch.stop.set()
    return elapsed, watch.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes")
    args = parser.parse_args()
    n = args.recipients
    workdir = Path(tempfile.mkdtemp(prefix="bench-personalised-"))
    received = workdir / "received"
    received.mkdir()
    env = support.sending_env(workdir, DIRECTORY_IMPORT_MAX_ROWS=str(3 * n + 10))
    draft, clerk = support.seed(n, prepare(n))
    load_before = support.load_average()

    sink = support.Sink(workdir, save_dir=received)
    env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
    workers = [support.start_worker(env, f"bench{i}", "prefork", 1) for i in range(args.workers)]
    try:
        elapsed, peak = measure(draft, clerk, workers, n)
    finally:
        support.stop_all(workers)
        counts = sink.stop()
    load_after = support.load_average()
    baseline = run_baseline(draft.pk, env, os.cpu_count() or 2)

    from notices.models import DispatchCopy

    stored = DispatchCopy.objects.filter(dispatch_id=draft.pk)
    stored_bytes = sum(path.stat().st_size for path in (workdir / "media" / "copies").rglob("*.pdf"))
    read, mismatches, pdfs = check_messages(received)
    copies_per_s = n / elapsed
    print(json.dumps({
        "recipients": n,
        "copies_per_s": round(copies_per_s, 1),
        "baseline_copies_per_s": round(baseline, 2),
        "speedup": round(copies_per_s / baseline, 2),
        "issue_to_all_sent_s": round(elapsed, 1),
        "worker_peak_rss_mb": round(peak, 1),
        "stored_bytes": stored_bytes,
        "mismatches": mismatches + (n - read),
        "bad_signatures": bad_signatures(pdfs, workdir),
        "full_render_copies": stored.filter(full_render=True).count(),
        "copies": stored.count(),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "workers": args.workers,
        "load_avg_before": load_before,
        "load_avg_after": load_after,
    }))  # fmt: skip
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
