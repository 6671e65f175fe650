"""Start this Python process's wall clock at $SHIFTED_CLOCK_START (used by scripts/sweep_hours).

Loaded at start-up through PYTHONPATH, so the subprocesses a test starts are shifted too. Only
Python's wall clock moves (time.time, datetime.now, ...); the monotonic clock, which asyncio's
timers use, and the C library's clock do not.
"""

from datetime import datetime, timedelta
import os

# OpenSSL checks a certificate against the real clock: this much validity is added on either
# side of the ones the local Tibber server makes at the shifted now (+- 1 day), so that TLS
# works at any date of the sweep.
CERTIFICATE_MARGIN = timedelta(days=800)


def _widen_certificates() -> None:
    from cryptography import x509  # noqa: PLC0415

    builder = x509.CertificateBuilder
    before, after = builder.not_valid_before, builder.not_valid_after

    def not_valid_before(self: x509.CertificateBuilder, time: datetime) -> x509.CertificateBuilder:
        return before(self, time - CERTIFICATE_MARGIN)

    def not_valid_after(self: x509.CertificateBuilder, time: datetime) -> x509.CertificateBuilder:
        return after(self, time + CERTIFICATE_MARGIN)

    builder.not_valid_before = not_valid_before  # type: ignore[method-assign]
    builder.not_valid_after = not_valid_after  # type: ignore[method-assign]


if start := os.environ.get("SHIFTED_CLOCK_START"):
    import time_machine

    # A timestamp, not an aware datetime: for one in UTC time-machine would also set TZ=UTC.
    time_machine.travel(datetime.fromisoformat(start).timestamp(), tick=True).start()
    _widen_certificates()
