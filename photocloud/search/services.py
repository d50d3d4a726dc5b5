"""Writes to the search index: the document of each picture and album, the "search index" stage of the pipeline
(library/pipeline.py), which runs in the background after the changes the library and vision announce.

A picture's document carries the title, description and tags of every album holding it too (its home album and
those it is placed in), so an album edit re-indexes its pictures; and the class the owner taught that the system
suggests for it, so a retraining re-indexes the pictures whose suggestion changed.

Albums of different access levels: a picture can be public through one album and sit in a private one as well.
What an album says is therefore indexed per album: each album's words are postings marked with that album
(SearchPosting.album), and a search counts them only for a viewer who may see that album (the access module's
`Album.objects.visible_to`, applied in the same SQL: backends.py). So a stranger never finds a picture by the title
of a private album it is in, while its owner, and a follower for a followers-only album, find it by the titles of
every album they may see. (Indexing only the titles of albums as open as the picture itself would be simpler, but
would hide a picture's private album title from its own owner.)
"""

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from photocloud.library.models import Album, AlbumPlacement, Photo, Tag, category_label

from . import cjk, meaning, names, people
from .backends import COLUMN_BITS, MAX_TERMS, document_terms
from .models import SearchDocument, SearchIndexState, SearchPosting, SearchTerm
from .query import month_marker, tokens

CHUNK = 1000
# The format of the stored documents and postings: raise it whenever what a document holds (its fields, the columns
# a value goes to) or how words are cut changes. A process that starts finds the index in an older format and
# rebuilds it in the background, once (claim_format_rebuild). 2: the context column (album text, faint guesses) and
# the dominant colour among the labels. 3: the words of each album holding a picture, as postings marked with the
# album (not in the context column).
# 4: a system category below the classifier's CONFIDENT is weak; other English names of categories and generic words
# of more tag families (drink, vehicle, building; 水果…); scene words guessed from the category and dominant colour.
# 5: the year a picture was taken among its labels ("2023" finds it) and a marker word of the month (query.py).
INDEX_FORMAT = 5
REBUILD_LOST_AFTER = timedelta(hours=1)  # a claimed rebuild not finished by then was lost (its worker died)
FIELDS = ["labels", "names", "body", "text", "context", "terms"]
TERM_LENGTH = SearchTerm._meta.get_field("name").max_length
# An automatic tag at least this probable is something the picture shows (a label); below, a guess (top_labels keeps
# those from 0.1). On scikit-image's samples the right tags scored 0.33-0.94 (espresso, tripod, missile, egyptian mau)
# and the wrong ones 0.10-0.29 (bobsleigh on the astronaut, golf ball on coins, bubble on the Hubble deep field).
SURE_TAG = 0.3
# Kinds of terms kept out of the vocabulary of spellings and meanings: an album's text, scene words guessed from a
# colour (a query close in meaning to "plant" must not find every mostly green picture as if labelled so), and the
# year a picture was taken (a number, no meaning).
NOT_LABELS = ("album", "album description", "scene guess", "date taken")


def _category_terms(kind: str, key: str) -> list[list[str]]:
    """A category by its name, and a default one by its Chinese and other English names too (人像 finds portraits,
    "drawing" illustrations)."""
    found = [category_label(key), *names.category_names(key), *names.category_words(key)] if key else []
    return [[kind, name] for name in dict.fromkeys(found)]


def _automatic_tag_terms(tags: list[str]) -> list[list[str]]:
    """Automatic tags by their own names and their other names (猫 and cat find a tabby and a Persian cat), each name
    once."""
    found = [name for tag in tags for name in [tag, *names.label_names(tag)]]
    return [["automatic tag", name] for name in dict.fromkeys(found)]


def _albums_of(photo: Photo) -> list[Album]:
    """The live albums holding the picture, its home album first (prefetched by _photos_for_indexing)."""
    albums = [photo.album] if photo.album is not None else []
    albums += [placement.album for placement in photo.placements.all() if placement.album_id != photo.album_id]
    return [album for album in albums if album.trashed_at is None]


def _album_terms(photo: Photo, own: list) -> list[list[str]]:
    """[kind, value, album id] of what each album holding the picture says: words that count only for viewers who
    may see that album (they become postings marked with it, see _postings)."""
    found = []
    for album in _albums_of(photo):
        entries = [["album", album.title], ["album description", album.description]]
        entries += [["album tag", tag.name] for tag in album.tags.all() if ["tag", tag.name] not in own]
        found += [[kind, value, str(album.pk)] for kind, value in entries if value]
    return found


def _photo_fields(photo: Photo) -> dict:
    """What the picture itself shows goes into the labels: its own tags and category, the automatic tags the
    classifier is fairly sure of, faces. What only its albums say (title, description, tags; see _album_terms) and
    the classifier's faint guesses are weak: they still find the picture, as a match shown apart ("less likely"),
    and close meanings (looked for among labels) do not bring in every picture of an album tagged "pets" or a dog
    guessed to be a cat. The category its home album passes on is the picture's own (its effective category), so
    it stays in the context column, for anyone who may see the picture."""
    album = photo.album
    analysis = getattr(photo, "analysis", None)
    own = [["tag", tag.name] for tag in photo.tags.all()]
    own += _category_terms("category", photo.category)
    keys, weak = [photo.category, photo.dominant_color], []  # "green" finds the pictures that are mostly green
    if analysis is not None:
        if analysis.confident:  # a category only hinted at ("maybe food") is a weak match, as a faint tag is
            own += _category_terms("system category", analysis.category)
            keys.append(analysis.category)
        else:
            weak += _category_terms("unsure system category", analysis.category)
        if analysis.taught_category != photo.effective_category:  # unless the owner gave that class already
            own += _category_terms("your class", analysis.taught_category)
        own += _automatic_tag_terms([name for name, score in analysis.labels if score >= SURE_TAG])
        weak += [["unsure automatic tag", name] for _, name in _automatic_tag_terms(_faint(analysis.labels))]
        keys += people.markers(analysis.faces, photo.width, photo.height)
    if (taken := photo.taken_local) is not None:  # "2023" and "May 2023" find it, as the date on its camera says
        own.append(["date taken", str(taken.year)])
        keys.append(month_marker(taken.year, taken.month))
    category = photo.category or (analysis.category if analysis is not None else "")
    weak += [["scene guess", word] for word in names.scene_words(category, photo.dominant_color)]
    if album is not None and not photo.category:  # None: the picture lives in its owner's library alone
        weak += [["album category", value] for _, value in _category_terms("category", album.category)]
    return {
        "labels": " , ".join([*(value for _, value in own), *filter(None, keys)]),
        "names": " , ".join(filter(None, [photo.title, photo.original_name])),
        "body": photo.description,
        "text": analysis.text if analysis is not None else "",
        "context": "\n".join(filter(None, [value for _, value in weak])),
        "terms": own + weak + _album_terms(photo, own),
    }


def _faint(labels: list) -> list[str]:
    """The classifier's guesses below SURE_TAG, unless a surer tag holds the same word (a "tabby" sure and an
    "Egyptian cat" faint: the picture is a cat, and "cat" must not look unsure)."""
    sure = {word for name, score in labels if score >= SURE_TAG for word in name.lower().split()}
    return [name for name, score in labels if score < SURE_TAG and not set(name.lower().split()) <= sure]


def _album_fields(album: Album) -> dict:
    terms = [["tag", tag.name] for tag in album.tags.all()] + _category_terms("category", album.category)
    return {
        "labels": " , ".join([*(value for _, value in terms), album.category]),
        "names": album.title,
        "body": album.description,
        "text": "",
        "context": "",
        "terms": terms,
    }


def _photos_for_indexing(ids=None):
    placements = AlbumPlacement.objects.select_related("album").order_by("added_at", "pk")
    photos = Photo.objects.select_related("album", "analysis").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("name")),
        Prefetch("album__tags", queryset=Tag.objects.only("name")),
        Prefetch("placements", queryset=placements),
        Prefetch("placements__album__tags", queryset=Tag.objects.only("name")),
    )
    return photos if ids is None else photos.filter(pk__in=list(ids))


def _save(kind: str, objects: Iterable, fields_of, force: bool = False) -> int:
    """Create or update the documents of these pictures or albums, and add their labels to the vocabulary;
    `force` rewrites the postings of unchanged documents too (the way words are cut may have changed)."""
    objects = list(objects)
    existing = {
        getattr(doc, f"{kind}_id"): doc
        for doc in SearchDocument.objects.filter(**{f"{kind}__in": [obj.pk for obj in objects]})
    }
    created, changed, vocabulary = [], [], set()  # the vocabulary of spellings and English meanings (query.py)
    for obj in objects:
        fields = fields_of(obj)
        vocabulary.update(
            term[1].lower()[:TERM_LENGTH]
            for term in fields["terms"]
            if term[0] not in NOT_LABELS and not cjk.has_cjk(term[1])
        )
        doc = existing.get(obj.pk)
        if doc is None:
            created.append(SearchDocument(**{kind: obj}, **fields))
        elif force or any(getattr(doc, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(doc, name, value)
            changed.append(doc)
    with transaction.atomic():
        SearchDocument.objects.bulk_create(created, batch_size=500)
        if created and created[0].pk is None:  # MySQL returns no ids from a bulk insert (the other databases do)
            created = list(
                SearchDocument.objects.filter(**{f"{kind}__in": [obj.pk for obj in objects if obj.pk not in existing]})
            )
        SearchDocument.objects.bulk_update(changed, FIELDS, batch_size=500)
        SearchPosting.objects.filter(document__in=changed).delete()
        _insert_postings([row for doc in [*created, *changed] for row in _posting_rows(doc)])
        SearchTerm.objects.bulk_create(
            [SearchTerm(name=name) for name in vocabulary if name], ignore_conflicts=True, batch_size=500
        )
    return len(created) + len(changed)


POSTING_COLUMNS = ("document_id", "is_album", "object_id", "term", "columns", "album")


def _posting_rows(doc: SearchDocument) -> list[tuple]:
    """The postings index rows of one document (backends.py reads them), as tuples in POSTING_COLUMNS order; a
    picture's words from one of its albums ([kind, value, album id] terms) are weak postings of their own, marked
    with that album."""
    is_album, object_id = doc.album_id is not None, doc.album_id or doc.photo_id
    own = document_terms(doc)
    rows = [(doc.pk, is_album, object_id, term, columns, None) for term, columns in own.items()]
    from_albums = dict.fromkeys((term[2], word) for term in doc.terms if len(term) == 3 for word in tokens(term[1]))
    context = COLUMN_BITS["context"]
    rows += [
        (doc.pk, False, doc.photo_id, word, context, album_id)
        for album_id, word in list(from_albums)[: max(0, MAX_TERMS - len(own))]
    ]
    return rows


def _insert_postings(rows: list[tuple]) -> None:
    """Write postings rows in bulk, without a model instance each (building ~40 instances a picture and their INSERT
    parameters through the ORM was most of the time of indexing: about 100 pictures a second): COPY on PostgreSQL,
    one prepared INSERT run over every row elsewhere (mysqlclient sends them as multi-row INSERTs). Rows are sorted
    as the index is, so the B-tree is written page after page rather than at random."""
    if not rows:
        return
    rows.sort(key=lambda row: (row[1], row[3]))
    table = connection.ops.quote_name(SearchPosting._meta.db_table)
    names = ", ".join(connection.ops.quote_name(SearchPosting._meta.get_field(c).column) for c in POSTING_COLUMNS)
    hex_uuids = not connection.features.has_native_uuid_field
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # The two UUID columns as the ORM stores them without a native type (32 hex digits); the others as they are.
            def uuid(value):
                if not hex_uuids or value is None:
                    return value
                return value.hex if isinstance(value, UUID) else value.replace("-", "")  # album ids are str(UUID)

            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(POSTING_COLUMNS))})",
                [
                    (doc, is_album, uuid(obj), term, columns, uuid(album))
                    for doc, is_album, obj, term, columns, album in rows
                ],
            )


def index_photos(photo_ids, force: bool = False) -> int:
    """(Re)index these pictures; returns how many documents changed."""
    ids = list(photo_ids)
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += _save("photo", _photos_for_indexing(ids[start : start + CHUNK]), _photo_fields, force)
    return changed


def index_albums(album_ids, force: bool = False) -> int:
    albums = Album.objects.filter(pk__in=list(album_ids)).prefetch_related("tags")
    return _save("album", albums, _album_fields, force)


def index_changes(photo_ids=(), album_ids=(), album_photo_ids=()) -> int:
    """One pass over what changed: these albums, these pictures and every picture of `album_photo_ids` (each once)."""
    changed = index_albums(album_ids) if album_ids else 0
    ids = dict.fromkeys(str(pk) for pk in photo_ids)
    if album_photo_ids:  # their home pictures and those placed in them
        album_photo_ids = list(album_photo_ids)
        placed = AlbumPlacement.objects.filter(album_id__in=album_photo_ids).values("photo")
        in_albums = Photo.objects.filter(Q(album_id__in=album_photo_ids) | Q(pk__in=placed))
        in_albums = in_albums.values_list("pk", flat=True)
        ids.update(dict.fromkeys(str(pk) for pk in in_albums))
    changed += index_photos(ids) if ids else 0
    if meaning.enabled():  # here, in the background, so that a search never writes
        meaning.embed_missing_terms()
    return changed


def missing_documents() -> tuple[int, int, int]:
    """How many pictures and albums have no search document, and how many labels have no meaning vector."""
    return (
        Photo.objects.filter(search_doc__isnull=True).count(),
        Album.objects.filter(search_doc__isnull=True).count(),
        SearchTerm.objects.filter(vector__isnull=True).count() if meaning.enabled() else 0,
    )


def index_missing() -> int:
    album_ids = list(Album.objects.filter(search_doc__isnull=True).values_list("pk", flat=True))
    changed = sum(index_albums(album_ids[start : start + CHUNK]) for start in range(0, len(album_ids), CHUNK))
    changed += index_photos(Photo.objects.filter(search_doc__isnull=True).values_list("pk", flat=True))
    if meaning.enabled():
        meaning.embed_missing_terms()
    return changed


def rebuild(progress=None, index_all=None) -> dict:
    """Index every album and picture again from scratch (after restoring a database, or to recover from a bug).
    `index_all(photo_ids) -> count`, if given, indexes the pictures instead of this process (the bench's several
    processes over parts of a library of a million)."""
    SearchPosting.objects.all().delete()  # one statement, before the documents that would cascade to them in batches
    SearchDocument.objects.all().delete()
    counts = {"albums": 0, "photos": 0}
    album_ids = list(Album.objects.values_list("pk", flat=True))
    for start in range(0, len(album_ids), CHUNK):
        counts["albums"] += index_albums(album_ids[start : start + CHUNK])
    photo_ids = list(Photo.objects.order_by("pk").values_list("pk", flat=True))
    if index_all:
        counts["photos"] = index_all(photo_ids)
    for start in range(0, len(photo_ids) if not index_all else 0, CHUNK):
        counts["photos"] += index_photos(photo_ids[start : start + CHUNK])
        if progress:
            progress(counts["photos"], len(photo_ids))
    _note_format()
    return counts


def _state() -> SearchIndexState:
    return SearchIndexState.objects.get_or_create(pk=1)[0]


def claim_format_rebuild() -> bool:
    """Whether this process should queue the rebuild into INDEX_FORMAT: the index is in another format and no other
    process has claimed the rebuild (or its claim is older than REBUILD_LOST_AFTER). One conditional UPDATE, so of
    several processes starting together exactly one wins."""
    state = _state()
    if state.format != INDEX_FORMAT and not SearchDocument.objects.exists():  # nothing written yet in any format
        _note_format()
        return False
    now = timezone.now()
    unclaimed = Q(rebuild_format__isnull=True) | ~Q(rebuild_format=INDEX_FORMAT)
    lost = Q(rebuild_queued_at__lt=now - REBUILD_LOST_AFTER)
    claimed = (
        SearchIndexState.objects.filter(pk=1)
        .exclude(format=INDEX_FORMAT)
        .filter(unclaimed | lost)
        .update(rebuild_format=INDEX_FORMAT, rebuild_queued_at=now)
    )
    return claimed == 1


def rebuild_format(progress=None) -> dict:
    """Rewrite every document and its postings in the current format, in place and chunk by chunk, so that search
    keeps answering from the old documents meanwhile; then note the format."""
    counts = {"albums": 0, "photos": 0}
    album_ids = list(Album.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(album_ids), CHUNK):
        counts["albums"] += index_albums(album_ids[start : start + CHUNK], force=True)
    photo_ids = list(Photo.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(photo_ids), CHUNK):
        counts["photos"] += index_photos(photo_ids[start : start + CHUNK], force=True)
        if progress:
            progress(start + len(photo_ids[start : start + CHUNK]), len(photo_ids))
    if meaning.enabled():
        meaning.embed_missing_terms()
    _note_format()
    return counts


def _note_format() -> None:
    _state()
    SearchIndexState.objects.filter(pk=1).update(format=INDEX_FORMAT, rebuild_format=None, rebuild_queued_at=None)
