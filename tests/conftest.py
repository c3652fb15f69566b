"""Shared fixtures: the real Sunnybrook data beside the repository."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "final_data"


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """Root of the shared Sunnybrook data (``link.csv`` layout); skip if absent."""
    if not (SHARED_DATA / "link.csv").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
