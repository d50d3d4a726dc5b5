import pytest


@pytest.fixture(autouse=True)
def _committed_rows(transactional_db):
    """MariaDB's FULLTEXT index only sees committed rows, so these tests commit (and the database is emptied after
    each one) on every database alike."""


@pytest.fixture
def no_meaning(settings):
    """Keyword-only search, for tests about something else than similar meanings (the model loads in the others)."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING": False}}
