"""A per-key rate limit: one token bucket per key in Redis (the send limiter's script), 429 with Retry-After."""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from notices import ratelimit


class KeyBucket(BaseThrottle):
    """Take one token of the key's bucket per request; refuse with the wait when the bucket is empty."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if key is None:
            return True
        rate = key.rate_per_second or settings.API_RATE_PER_SECOND
        bucket = f"api-rate:{key.pk}"
        granted, wait_ms = ratelimit.run_script(
            ratelimit.TAKE_SCRIPT, [bucket, f"{bucket}:factor"], [rate, settings.API_RATE_BURST, 1]
        )
        self.wait_seconds = max(1, math.ceil(int(wait_ms) / 1000))
        return int(granted) == 1

    def wait(self) -> float:
        return self.wait_seconds
