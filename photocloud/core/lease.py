"""Work that must run on one node at a time when several run Photocloud (periodic recovery, the search-by-image
index, watching an import folder): whoever holds the lease does it. The lease lives in the shared cache (Redis,
PHOTOCLOUD_REDIS_URL, which several web servers need anyway for their rate limits); with the default cache (in the
node's data folder) each node holds its own, which is right for one machine.
"""

from django.core.cache import cache


def hold(name: str, holder: str, seconds: float) -> bool:
    """Take the lease `name` if it is free, or renew it if `holder` has it; True while `holder` holds it. A holder that
    stops renewing (its node died) loses it after `seconds`."""
    key = f"photocloud:lease:{name}"
    if cache.add(key, holder, timeout=seconds):
        return True
    if cache.get(key) == holder:
        cache.touch(key, timeout=seconds)
        return True
    return False


def is_held(name: str) -> bool:
    """Whether any node holds the lease `name` now."""
    return cache.get(f"photocloud:lease:{name}") is not None
