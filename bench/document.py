"""Benchmark the official document: render, sign and verify the built-in sample (JSON lines).

Baseline in the same run: WeasyPrint rendering a one-paragraph page (the floor of any render).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from notices import issuing, rendering, signing  # noqa: E402
from notices.sample import sample_dispatch  # noqa: E402

ARGUMENTS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGUMENTS.add_argument(
    "--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")), help="timed runs of each"
)
ROUNDS = ARGUMENTS.parse_args().rounds


def timed(label: str, action, **extra) -> None:
    """Run the action ROUNDS times and print the median and worst wall time as one JSON line."""
    action()  # warm fonts and caches
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    line = {"bench": label, "rounds": ROUNDS, "median_s": round(statistics.median(times), 3)}
    print(json.dumps({**line, "max_s": round(max(times), 3), **extra}))


def main() -> None:
    dispatch, appendices = sample_dispatch()
    html = render_to_string(rendering.TEMPLATE, rendering.document_context(dispatch, appendices=appendices))
    timed("baseline_weasyprint_one_paragraph", lambda: rendering.render_html("<p>Kính gửi</p>"))
    timed("render_sample_3_pages", lambda: rendering.render_html(html), pages=3)
    with tempfile.TemporaryDirectory() as directory:
        settings.SIGNING_PKCS12_PATH = str(signing.create_development_certificates(Path(directory), "pw")[0])
        settings.SIGNING_PKCS12_PASSWORD = "pw"
        pdf = rendering.render_html(html)
        timed("sign_pades_b_b_sha256", lambda: signing.sign_pdf(pdf))
        signed = signing.sign_pdf(pdf)
        timed("render_and_sign_sample", lambda: issuing.final_pdf(dispatch, appendices))
        timed("verify_uploaded_copy_signature", lambda: signing.check_signature(signed), bytes=len(signed))


if __name__ == "__main__":
    main()
