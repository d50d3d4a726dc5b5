from django.apps import AppConfig


class SearchConfig(AppConfig):
    """One search box: keywords, meaning, filters and scopes over everything the viewer may see."""

    name = "photocloud.search"
    label = "search"

    def ready(self):
        from photocloud.library import pipeline

        from .tasks import index_changes

        # The search index stage of the picture pipeline; deleting a picture or album deletes its document (cascade).
        pipeline.register("index", index_changes.enqueue)

    def warm_up(self):
        """Called by the web server before it forks (core/web.py): the sentence model is loaded and run once, and
        the vocabulary of meanings read, jieba's dictionary and the word lists loaded (an English query is also
        searched in Chinese, through the glossary), so that the workers share them and no first search waits."""
        from .meaning import close_terms, embed
        from .query import parse

        embed(["photo"])
        close_terms("photo", threshold=1.0, limit=1)
        parse("photo 照片 person", expand=False)

    def recover_interrupted_work(self):
        """Called by `photocloud serve`: pictures and albums without a document (made before this app was installed,
        or whose indexing failed) are indexed in the background, and labels not embedded yet are embedded."""
        from .services import INDEX_FORMAT, claim_format_rebuild, missing_documents
        from .tasks import index_missing, rebuild_format

        if claim_format_rebuild():  # the index was written by an older version: rebuilt once, in the background
            rebuild_format.enqueue()
            return f"Queued a rebuild of the search index into format {INDEX_FORMAT}."
        photos, albums, terms = missing_documents()
        if terms and not (photos or albums):
            index_missing.enqueue()
            return f"Queued embedding of {terms} search term(s)."
        if photos or albums:
            index_missing.enqueue()
            return f"Queued search indexing of {photos} picture(s) and {albums} album(s) missing from the index."
        return None
