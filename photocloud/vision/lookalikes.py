"""Look-alikes: automatic albums of an owner's pictures that look like each other (DESIGN F2, "clusters of similar
pictures"), found by clustering their CNN features.

Spherical k-means (faiss) learns from a sample of at most SAMPLE pictures; k grows as sqrt(n / 2) up to
MAX_CLUSTERS, which over-cuts a library of few looks: centres with fewer than MIN_MEMBERS pictures are let go, and
centres closer to each other than the sample's pictures are, on average, to their own centre are merged again (no
fixed threshold: how tight a look is depends on the features). Every analysed picture then joins its nearest centre
a chunk at a time, and groups under MIN_MEMBERS are dropped: at 100,000 pictures that is one read of their features
in bounded memory (bench/lookalikes.py). A group is named so that it reads naturally (`_names`), with its most typical
member as cover.

Grouping runs in the background once enough pictures were analysed since the last time (`queue_if_stale`), or with
`photocloud group-lookalikes`; pages only read the stored groups.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from photocloud.library.models import CONFIDENT_SYSTEM_CATEGORY, Photo, category_label
from photocloud.library.selectors import library_photos

from . import labels
from .models import ClusteringState, PhotoAnalysis, PhotoCluster, decode_features

MIN_PICTURES = 8  # analysed pictures before there is anything to group
MIN_MEMBERS = 4  # smaller groups are dropped
MAX_CLUSTERS = 64
SAMPLE = 20_000  # pictures k-means learns from; the others only join their nearest centre
# k-means from random starts can leave two looks under one centre, which no merging undoes; the best of a few starts
# (lowest spread) did not (the starting points follow the pictures' ids, so one start alone varied from run to run).
RESTARTS = 4
REGROUP_SHARE, REGROUP_MAX = 0.1, 1000  # regroup after this share of the library is new (MIN_PICTURES..REGROUP_MAX)
DEBOUNCE = timedelta(minutes=2)  # a burst of uploads is grouped once, after it
QUEUED_FOR = timedelta(hours=1)  # a regrouping queued longer ago than this was lost (a worker died): queue again
CHUNK = 2000  # rows read or updated per query


@dataclass
class _Group:
    members: list = field(default_factory=list)  # PhotoAnalysis ids
    tags: Counter = field(default_factory=Counter)  # automatic tag -> summed score
    categories: Counter = field(default_factory=Counter)  # confident system categories only
    cover: tuple = (-np.inf, None)  # (similarity to the centre, photo id) of the most typical member


def _analyses(owner):
    return PhotoAnalysis.objects.filter(photo__in=Photo.objects.owned_by(owner).values("pk"))


def group(owner) -> list[PhotoCluster]:
    """Regroup the owner's analysed pictures, replacing their previous look-alike albums; a new group that shares
    most of its pictures with an old one keeps that album's id, so links to it keep working."""
    started = timezone.now()
    rows = _analyses(owner)
    ids = np.array(rows.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    groups = _assign(rows, ids, _centres(rows, ids)) if len(ids) >= MIN_PICTURES else []
    groups.sort(key=lambda found: -len(found.members))
    with transaction.atomic():
        kept = _successors(rows, groups)
        PhotoCluster.objects.filter(owner=owner).exclude(pk__in=list(kept.values())).delete()
        rows.filter(cluster__in=list(kept.values())).update(cluster=None)
        created = [
            _store(owner, found, name, kept.get(index))
            for index, (found, name) in enumerate(zip(groups, _names(groups), strict=True))
        ]
        ClusteringState.objects.update_or_create(
            owner=owner, defaults={"grouped_at": started, "analysed": len(ids), "queued_at": None}
        )
    return created


def _successors(rows, groups: list[_Group]) -> dict[int, int]:
    """New group (by index) -> the old album whose id it keeps: the pairs sharing the most pictures first, each old
    album at most once, and only for more than half of the pictures of the old album or of the new group."""
    old = dict(rows.filter(cluster__isnull=False).values_list("pk", "cluster_id"))
    sizes = Counter(old.values())
    pairs = []
    for index, found in enumerate(groups):
        for cluster_id, shared in Counter(old[pk] for pk in found.members if pk in old).items():
            if 2 * shared > min(sizes[cluster_id], len(found.members)):
                pairs.append((shared, index, cluster_id))
    kept: dict[int, int] = {}
    for _, index, cluster_id in sorted(pairs, reverse=True):
        if index not in kept and cluster_id not in kept.values():
            kept[index] = cluster_id
    return kept


def _chunks(rows, ids: np.ndarray, *fields):
    """Value rows of these analyses, CHUNK at a time, so memory stays bounded whatever the library's size."""
    for start in range(0, len(ids), CHUNK):
        yield list(rows.filter(pk__in=ids[start : start + CHUNK].tolist()).values_list(*fields))


def _unit(features: list[bytes]) -> np.ndarray:
    vectors = decode_features(features)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)


def _centres(rows, ids: np.ndarray) -> np.ndarray:
    """Unit centres learned by spherical k-means from a sample of the pictures, over-cut ones merged again."""
    import faiss

    sample = _unit([blob for chunk in _chunks(rows, _sample(ids), "features") for (blob,) in chunk])
    k = int(np.clip(round(np.sqrt(len(ids) / 2)), 2, MAX_CLUSTERS))
    kmeans = faiss.Kmeans(
        sample.shape[1],
        k,
        niter=20,
        nredo=RESTARTS,
        spherical=True,
        seed=1,
        min_points_per_centroid=1,
        max_points_per_centroid=SAMPLE,
    )
    kmeans.train(sample)
    similarity, nearest = kmeans.index.search(sample, 1)
    kept = np.bincount(nearest[:, 0], minlength=k) >= min(MIN_MEMBERS, len(sample) // k)
    return _merged(kmeans.centroids[kept], float(similarity.mean()))


def _sample(ids: np.ndarray) -> np.ndarray:
    return np.random.default_rng(0).choice(ids, min(len(ids), SAMPLE), replace=False)


def _merged(centres: np.ndarray, spread: float) -> np.ndarray:
    """Centres at least `spread` alike, directly or through others, become one: their normalised mean."""
    owner = np.arange(len(centres))  # each centre's group, named by one of its centres
    for a, b in zip(*np.nonzero(np.triu(centres @ centres.T >= spread, 1)), strict=True):
        owner[owner == owner[b]] = owner[a]
    merged = np.vstack([centres[owner == key].mean(axis=0) for key in np.unique(owner)])
    return (merged / np.maximum(np.linalg.norm(merged, axis=1, keepdims=True), 1e-6)).astype(np.float32)


def _assign(rows, ids: np.ndarray, centres: np.ndarray) -> list[_Group]:
    """Every picture joins its nearest centre; the groups with at least MIN_MEMBERS pictures."""
    import faiss

    index = faiss.IndexFlatIP(centres.shape[1])
    index.add(centres)
    groups = [_Group() for _ in centres]
    for chunk in _chunks(rows, ids, "pk", "photo_id", "labels", "category", "confidence", "features"):
        similarity, nearest = index.search(_unit([row[-1] for row in chunk]), 1)
        for (pk, photo_id, tags, category, confidence, _), score, key in zip(
            chunk, similarity[:, 0], nearest[:, 0], strict=True
        ):
            found = groups[key]
            found.members.append(pk)
            found.tags.update(dict(tags))
            if category and confidence >= CONFIDENT_SYSTEM_CATEGORY:
                found.categories[category] += 1
            found.cover = max(found.cover, (float(score), photo_id), key=lambda pair: pair[0])
    return [found for found in groups if len(found.members) >= MIN_MEMBERS]


# Categories whose pictures' ImageNet tags name a detail rather than the picture (a portrait's "Windsor tie", a page's
# "envelope", a drawing's "comic book"): a group mostly of them is named after the category.
NAMED_BY_CATEGORY = {"portrait", "document", "illustration"}
MOST = 0.6  # share of the members that makes a category a group's own
TYPICAL_TAG = 0.35  # a tag (or family) names a group when its scores add up to this much per member


def _name(found: _Group) -> str:
    """The group's category when most members are confidently of one whose tags read badly; else its strongest tag,
    or the family of its tags (dogs of several breeds: "dog"), when typical of the members; else its category."""
    size = max(1, len(found.members))
    category, count = found.categories.most_common(1)[0] if found.categories else ("", 0)
    mostly = category if count >= MOST * size else ""
    if mostly in NAMED_BY_CATEGORY:
        return category_label(mostly)
    for tags in (found.tags, _families(found.tags)):
        if tags and tags.most_common(1)[0][1] >= TYPICAL_TAG * len(found.members):
            return tags.most_common(1)[0][0]
    if mostly:
        return category_label(mostly)
    return found.tags.most_common(1)[0][0] if found.tags else "look-alikes"


def _families(tags: Counter) -> Counter:
    families: Counter = Counter()
    for tag, score in tags.items():
        if family := labels.family(tag):
            families[family] += score
    return families


def _names(groups: list[_Group]) -> list[str]:
    """Each group's name (`_name`); a name already taken gets a number."""
    taken: Counter = Counter()
    names = []
    for found in groups:
        name = _name(found)
        taken[name] += 1
        names.append(name if taken[name] == 1 else f"{name} ({taken[name]})")
    return names


def _store(owner, found: _Group, name: str, keep: int | None) -> PhotoCluster:
    if keep is None:
        cluster = PhotoCluster.objects.create(owner=owner, name=name[:100], cover_id=found.cover[1])
    else:
        cluster = PhotoCluster.objects.get(pk=keep)
        cluster.name, cluster.cover_id = name[:100], found.cover[1]
        cluster.save(update_fields=["name", "cover"])
    for start in range(0, len(found.members), CHUNK):
        PhotoAnalysis.objects.filter(pk__in=found.members[start : start + CHUNK]).update(cluster=cluster)
    return cluster


# --- keeping them up to date --------------------------------------------------------------------------------------


def is_stale(owner, state: ClusteringState) -> bool:
    """Enough pictures analysed (or analysed again) since the last grouping to be worth regrouping."""
    fresh = _analyses(owner)
    if state.grouped_at:
        fresh = fresh.filter(updated_at__gt=state.grouped_at)
    return fresh.count() >= np.clip(REGROUP_SHARE * state.analysed, MIN_PICTURES, REGROUP_MAX)


def queue_if_stale(owner) -> bool:
    """Queue a regrouping once enough new pictures were analysed, once per burst: it waits DEBOUNCE where the task
    backend can defer, and no second one is queued while one waits. True when it queued one."""
    from .tasks import group_lookalikes

    state, _ = ClusteringState.objects.get_or_create(owner=owner)
    now = timezone.now()
    if (state.queued_at and state.queued_at > now - QUEUED_FOR) or not is_stale(owner, state):
        return False
    # Claimed by a conditional update: a worker finishing another batch at the same moment finds queued_at changed.
    if not ClusteringState.objects.filter(pk=state.pk, queued_at=state.queued_at).update(queued_at=now):
        return False
    task = group_lookalikes
    if task.get_backend().supports_defer:
        task = task.using(run_after=now + DEBOUNCE)
    transaction.on_commit(lambda: task.enqueue(owner.pk))
    return True


def queue_for_pictures(photo_ids) -> None:
    """The groupings stage of the pipeline (library/pipeline.py): after these pictures were analysed."""
    from photocloud.accounts.models import User

    for owner in User.objects.filter(photos__pk__in=list(photo_ids)).distinct():
        queue_if_stale(owner)


# --- reading them -------------------------------------------------------------------------------------------------


def albums(user):
    """The user's look-alike albums, largest first, with `photo_count` counted on the membership index (so pictures
    deleted, trashed or archived since the grouping are not counted) rather than stored."""
    count = (
        PhotoAnalysis.objects.filter(cluster=OuterRef("pk"), photo__in=library_photos(user).values("pk"))
        .order_by()
        .values("cluster")
        .annotate(n=Count("*"))
        .values("n")
    )
    clusters = PhotoCluster.objects.owned_by(user).select_related("cover")
    clusters = clusters.annotate(photo_count=Coalesce(Subquery(count, output_field=IntegerField()), 0))
    return clusters.filter(photo_count__gt=0).order_by("-photo_count", "name")


def photos(user, cluster: PhotoCluster):
    """The user's own pictures in a look-alike album, in library order."""
    return library_photos(user).filter(analysis__cluster=cluster)
