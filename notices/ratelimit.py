"""A global send rate per provider: one token bucket in Redis, shared by every worker on every machine.

The bucket refills at `SEND_RATE_PER_SECOND` tokens a second and holds at most `SEND_RATE_BURST` tokens.
A throttling answer from the provider (SMTP 421, HTTP 429) halves the rate for `SEND_THROTTLE_COOLDOWN_SECONDS`
instead of failing recipients; repeated answers halve it again, down to a floor of one message a second.
The arithmetic runs in one Lua script, so two workers can never take the same token.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import Any

import redis
from django.conf import settings

log = logging.getLogger(__name__)

# KEYS: bucket hash, slow-down factor. ARGV: rate per second, burst, tokens wanted.
# Returns {granted, milliseconds to wait before asking again}.
TAKE_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local factor = tonumber(redis.call('GET', KEYS[2]) or '1')
local rate = math.max(tonumber(ARGV[1]) * factor, 1) / 1000
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now_ms
tokens = math.min(burst, tokens + math.max(0, now_ms - at) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now_ms)
redis.call('PEXPIRE', KEYS[1], 60000)
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) / rate) end
return {granted, wait}
"""

SLOW_SCRIPT = """
local factor = tonumber(redis.call('GET', KEYS[1]) or '1') / 2
local floor = 1 / math.max(tonumber(ARGV[1]), 1)
factor = math.max(factor, floor)
redis.call('SET', KEYS[1], tostring(factor), 'EX', ARGV[2])
return tostring(factor)
"""


@cache
def client() -> redis.Redis:
    """Return the Redis client of the rate limiter (the broker's server, see SEND_RATE_REDIS_URL)."""
    return redis.Redis.from_url(settings.SEND_RATE_REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def run_script(script: str, keys: list[str], args: list[float | int]) -> Any:
    """Run a Lua script on the shared Redis (its arguments reach Lua as strings, as Redis passes every argument)."""
    return client().eval(script, len(keys), *keys, *(str(arg) for arg in args))


class TokenBucket:
    """The shared bucket of one provider (e.g. "smtp", "mailgun")."""

    def __init__(self, provider: str) -> None:
        self.key = f"congvan:ratelimit:{provider}"
        self.slow_key = f"{self.key}:slow"
        self.rate = float(settings.SEND_RATE_PER_SECOND)
        self.burst = max(1, int(settings.SEND_RATE_BURST))

    def take(self, want: int = 1) -> tuple[int, float]:
        """Take up to `want` tokens; return how many were granted and how long to wait when none was."""
        granted, wait_ms = run_script(TAKE_SCRIPT, [self.key, self.slow_key], [self.rate, self.burst, want])
        return int(granted), int(wait_ms) / 1000

    def acquire(self, want: int = 1) -> int:
        """Block until at least one token is granted; return how many (at most `want`)."""
        while True:
            granted, wait = self.take(want)
            if granted:
                return granted
            time.sleep(min(wait, 1.0))

    def slow_down(self) -> float:
        """Halve the bucket's rate for a cooldown after a throttling answer; return the new factor."""
        factor = run_script(SLOW_SCRIPT, [self.slow_key], [self.rate, int(settings.SEND_THROTTLE_COOLDOWN_SECONDS)])
        log.warning("Provider throttled us: %s now runs at %s of its rate", self.key, factor.decode())
        return float(factor)

    def reset(self) -> None:
        """Forget the bucket's state (tests and benchmarks)."""
        client().delete(self.key, self.slow_key)
