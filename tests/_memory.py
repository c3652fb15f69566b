"""Memory the code under test allocates, as tracemalloc traces it."""

import tracemalloc


def traced_peak(call):
    """``call()``'s result and the largest number of bytes traced while it ran."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
