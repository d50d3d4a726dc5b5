import pytest


@pytest.fixture(autouse=True)
def _committed_rows(transactional_db):
    """Re-indexing after an album or a class changes runs once the transaction commits (on_commit, as in
    production), so these tests commit, and the database is emptied after each one."""


@pytest.fixture
def no_meaning(settings):
    """Keyword-only search, for tests about something else than similar meanings (the model loads in the others)."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING": False}}
