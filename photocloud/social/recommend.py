"""Recommendations: pictures and albums a user may see, does not own and has not seen, with a reason for each.

What the user did gives each picture a weight (SIGNAL_WEIGHTS: like 3, comment 2, view 1 + 1 for coming back; an
album's collect, like or comment counts for each of its pictures, ALBUM_SIGNAL_WEIGHTS). A candidate picture is
scored from four signals, each scaled to [0, 1] over the candidates:
- behaviour of similar users (collaborative filtering): the people who touched the user's pictures are the
  neighbours; user-based, their weights on the candidate, each neighbour counted by the cosine of their weights
  with the user's (USER_CF_SHARE), plus item-based, two pictures being alike when the same neighbours touched both
  (cosine of their weight columns), which also names the picture a reason refers to;
- content: cosine of the EfficientNet features (vision.PhotoAnalysis) with the user's pictures; pictures without
  features simply get no content score;
- the author is someone the user follows;
- popularity (log of likes, collects, comments and viewers in the last POPULAR_DAYS), a small prior that also ranks
  ties.
Candidates are the neighbours' pictures, the nearest pictures by features to the user's strongest ones (the search
index, access-filtered), recent pictures of followed authors and recent visible pictures, always filtered through
`visible_to()`. The list is then diversified greedily (maximal marginal relevance on features, at most two per
album and three per author, one per distinct file). Users with no history get popular recent public pictures.
"""

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from photocloud.accounts.models import Follow
from photocloud.library.models import Album, Photo
from photocloud.library.selectors import with_photo_count
from photocloud.vision.models import PhotoAnalysis, decode_features
from photocloud.vision.similar import similar_photos

from .models import Collect, Comment, Like, PhotoView

# What a user did to a picture, and to an album (spread on each of its pictures).
SIGNAL_WEIGHTS = {"liked": 3.0, "commented on": 2.0, "viewed": 1.0}
ALBUM_SIGNAL_WEIGHTS = {"collected": 2.5, "liked": 2.0, "commented on": 1.0}
MIX = {"similar users": 0.4, "content": 0.3, "follow": 0.08, "popular": 0.22}
USER_CF_SHARE = 0.7
NEIGHBOURS = 80  # users most like this one whose behaviour is used
PROFILE_SIZE = 300  # most recent pictures of the user's history that count
RECENT_POOL = 300  # recent visible pictures always among the candidates
BEHAVIOUR_POOL = 500  # pictures the neighbours touched most
SEARCH_SEEDS, SEARCH_HITS = 2, 60
PER_ALBUM, PER_OWNER = 2, 3
CONTENT_NEIGHBOURS = 5
DIVERSITY = 0.3  # weight of redundancy (feature similarity to what is already picked) in MMR
POPULAR_DAYS = 30
CACHE_SECONDS = 300  # a user's recommendations are reused this long, unless they do something (forget_recommendations)


@dataclass
class Recommendation:
    item: Photo | Album
    score: float
    reason: str
    because: Photo | None = None  # the picture of the user's own history the reason refers to

    @property
    def kind(self) -> str:
        return "album" if isinstance(self.item, Album) else "photo"


# --- what users did -----------------------------------------------------------------------------------------------


def _album_photos(album_ids) -> dict:
    rows = Photo.objects.filter(album_id__in=set(album_ids)).values_list("album_id", "id")
    photos = defaultdict(list)
    for album_id, photo_id in rows:
        photos[album_id].append(photo_id)
    return photos


def histories(user_ids) -> dict[int, dict]:
    """{user id: {photo id: (weight, verb)}} from likes, collects, comments and views, albums spread on pictures."""
    history: dict[int, dict] = defaultdict(dict)

    def add(user_id, photo_id, weight, verb):
        if photo_id is not None and history[user_id].get(photo_id, (0,))[0] < weight:
            history[user_id][photo_id] = (weight, verb)

    album_signals = []
    for user_id, photo_id, count in PhotoView.objects.filter(user__in=user_ids).values_list("user", "photo", "count"):
        add(user_id, photo_id, SIGNAL_WEIGHTS["viewed"] + min(count - 1, 1), "viewed")
    for user_id, photo_id, album_id in Comment.objects.filter(author__in=user_ids).values_list(
        "author", "photo", "album"
    ):
        add(user_id, photo_id, SIGNAL_WEIGHTS["commented on"], "commented on")
        if album_id:
            album_signals.append((user_id, album_id, "commented on"))
    for user_id, photo_id, album_id in Like.objects.filter(user__in=user_ids).values_list("user", "photo", "album"):
        add(user_id, photo_id, SIGNAL_WEIGHTS["liked"], "liked")
        if album_id:
            album_signals.append((user_id, album_id, "liked"))
    for user_id, album_id in Collect.objects.filter(user__in=user_ids).values_list("user", "album"):
        album_signals.append((user_id, album_id, "collected"))
    photos_of = _album_photos(album_id for _, album_id, _ in album_signals)
    for user_id, album_id, verb in album_signals:
        for photo_id in photos_of[album_id]:
            add(user_id, photo_id, ALBUM_SIGNAL_WEIGHTS[verb], verb)
    return history


def _neighbours(user, profile: dict) -> list[int]:
    """Users who touched the most of the same pictures (or their albums) as this user, counted by the database:
    each kind of signal answers only its NEIGHBOURS best users, never the rows themselves."""
    photo_ids = list(profile)
    albums = Photo.objects.filter(pk__in=photo_ids).values("album_id")
    overlap: dict[int, int] = defaultdict(int)
    touched = [
        (PhotoView.objects.filter(photo__in=photo_ids), "user"),
        (Like.objects.filter(photo__in=photo_ids), "user"),
        (Comment.objects.filter(photo__in=photo_ids), "author"),
        (Like.objects.filter(album__in=albums), "user"),
        (Collect.objects.filter(album__in=albums), "user"),
    ]
    for rows, field in touched:
        counted = rows.exclude(**{field: user}).values(field).annotate(n=Count("id")).order_by("-n", field)
        for other, n in counted.values_list(field, "n")[:NEIGHBOURS]:
            overlap[other] += n
    return sorted(overlap, key=lambda pk: (-overlap[pk], pk))[:NEIGHBOURS]


def _features(photo_ids) -> dict:
    rows = PhotoAnalysis.objects.filter(photo_id__in=list(photo_ids)).values_list("photo_id", "features")
    vectors = {}
    for photo_id, data in rows:
        vector = decode_features([data])[0]
        norm = float(np.linalg.norm(vector))
        if norm > 0:
            vectors[photo_id] = vector / norm
    return vectors


def popularity(photo_ids=None, since=None) -> dict:
    """{photo id: likes + comments + viewers + 2 × collects of its album}, for the given pictures or all, counting
    what happened after `since` when given."""
    counts: dict = defaultdict(int)
    scope = {} if photo_ids is None else {"photo__in": list(photo_ids)}
    for model, moment in ((Like, "created_at"), (Comment, "created_at"), (PhotoView, "last_viewed_at")):
        rows = model.objects.filter(photo__isnull=False, **scope)
        if since is not None:
            rows = rows.filter(**{f"{moment}__gte": since})
        for photo_id, n in rows.values_list("photo").annotate(n=Count("id")):
            counts[photo_id] += n
    photos = Photo.objects.all() if photo_ids is None else Photo.objects.filter(pk__in=list(photo_ids))
    collects = Collect.objects.filter(album__in=photos.values("album_id"))
    if since is not None:
        collects = collects.filter(created_at__gte=since)
    if collected := dict(collects.values_list("album").annotate(n=Count("id"))):
        for photo_id, album_id in photos.filter(album__in=list(collected)).values_list("pk", "album_id"):
            counts[photo_id] += 2 * collected[album_id]
    return counts


# --- the recommender -----------------------------------------------------------------------------------------------


@dataclass
class _Scored:
    pk: object
    album_id: object
    owner_id: int
    score: float
    signal: str = "popular"
    because_id: object = None


class Recommender:
    """Scores candidates for one user once; `photos()` and `albums()` read the result."""

    def __init__(self, user):
        self.user = user
        visible = Photo.objects.visible_to(user).listed().exclude(owner=user)  # a stack once, by its cover
        history = histories([user.pk])[user.pk]
        recent = sorted(history, key=lambda pk: history[pk][0], reverse=True)[:PROFILE_SIZE]
        # Only what the user may still see can be the reason for a recommendation.
        kept = set(visible.filter(pk__in=recent).values_list("pk", flat=True))
        self.profile = {pk: history[pk] for pk in recent if pk in kept}
        # A picture the user already copied counts as seen: the copy may be another file (location stripped).
        self.seen = set(history) | set(
            Photo.objects.owned_by(user).filter(copied_from__isnull=False).values_list("copied_from", flat=True)
        )
        self.followed = set(Follow.objects.filter(follower=user).values_list("followee", flat=True))
        self.own_files = set(Photo.objects.owned_by(user).values_list("sha256", flat=True))
        self.cold = not self.profile and not self.followed
        self.visible = visible.filter(status=Photo.Status.READY)
        self.vectors: dict = {}
        self.neighbour_verbs: dict = {}  # candidate: (weight, verb) of the strongest thing a neighbour did to it
        self.scored: list[_Scored] = self._popular() if self.cold else self._score()

    # candidates ----------------------------------------------------------------------------------------------------

    def _candidates(self, neighbour_history: dict, profile_vectors: dict) -> list[_Scored]:
        """Visible, not own, not seen, one per distinct file and none the user already keeps."""
        votes: dict = defaultdict(float)
        for items in neighbour_history.values():
            for pk, (weight, verb) in items.items():
                votes[pk] += weight
                if weight > self.neighbour_verbs.get(pk, (0, ""))[0]:
                    self.neighbour_verbs[pk] = (weight, verb)
        ids = set(sorted(votes, key=votes.get, reverse=True)[:BEHAVIOUR_POOL])
        seeds = sorted(self.profile, key=lambda pk: self.profile[pk][0], reverse=True)
        for pk in [pk for pk in seeds if pk in profile_vectors][:SEARCH_SEEDS]:
            ids.update(
                photo.pk
                for photo, _ in similar_photos(self.user, profile_vectors[pk], metric="cosine", limit=SEARCH_HITS)
            )
        newest = self.visible.order_by("-created_at").values_list("pk", flat=True)
        ids.update(newest.filter(owner__in=self.followed)[:RECENT_POOL])
        ids.update(newest[:RECENT_POOL])
        ids -= self.seen
        rows = self.visible.filter(pk__in=list(ids)).values_list("pk", "album_id", "owner_id", "sha256")
        candidates, files = [], set(self.own_files)
        for pk, album_id, owner_id, sha256 in rows.order_by("-created_at"):
            if sha256 not in files:
                files.add(sha256)
                candidates.append(_Scored(pk, album_id, owner_id, 0.0))
        return candidates

    # scoring -------------------------------------------------------------------------------------------------------

    def _score(self) -> list[_Scored]:
        neighbours = _neighbours(self.user, self.profile) if self.profile else []
        neighbour_history = histories(neighbours)
        profile_vectors = _features(self.profile)
        candidates = self._candidates(neighbour_history, profile_vectors)
        if not candidates:
            return []
        ids = [candidate.pk for candidate in candidates]
        self.vectors = _features(ids)
        behaviour, behaviour_because = self._collaborative(ids, neighbour_history)
        content, content_because = self._content(ids, self.vectors, profile_vectors)
        popular = popularity(ids, since=timezone.now() - timedelta(days=POPULAR_DAYS))
        signals = {
            "similar users": _scaled(behaviour),
            "content": _scaled(content),
            "follow": np.array([1.0 if candidate.owner_id in self.followed else 0.0 for candidate in candidates]),
            "popular": _scaled(np.array([math.log1p(popular.get(pk, 0)) for pk in ids])),
        }
        weighted = {name: MIX[name] * values for name, values in signals.items()}
        total = sum(weighted.values())
        names = list(weighted)
        main = np.stack([weighted[name] for name in names]).argmax(axis=0)
        because = {"similar users": behaviour_because, "content": content_because}
        for row, candidate in enumerate(candidates):
            candidate.score = float(total[row])
            candidate.signal = names[main[row]]
            candidate.because_id = because.get(candidate.signal, [None] * len(ids))[row]
        candidates.sort(key=lambda candidate: candidate.score, reverse=True)
        return candidates

    def _collaborative(self, ids, neighbour_history) -> tuple[np.ndarray, list]:
        """Σ over the user's pictures i of weight(i) × cosine(column i, column c) over the neighbours' weights."""
        profile_ids = list(self.profile)
        if not neighbour_history or not profile_ids:
            return np.zeros(len(ids)), [None] * len(ids)
        users = list(neighbour_history)
        column = {pk: n for n, pk in enumerate(profile_ids + ids)}
        matrix = np.zeros((len(users), len(column)), dtype=np.float32)
        for row, user_id in enumerate(users):
            for pk, (weight, _) in neighbour_history[user_id].items():
                if pk in column:
                    matrix[row, column[pk]] = weight
        weights = np.array([self.profile[pk][0] for pk in profile_ids], dtype=np.float32)
        split = len(profile_ids)
        # User-based: neighbours weighted by the cosine of their weights with the user's, over the user's pictures.
        row_norms = np.linalg.norm(matrix, axis=1)
        row_norms[row_norms == 0] = 1
        similarity = (matrix[:, :split] @ weights) / (row_norms * np.linalg.norm(weights))
        by_users = similarity @ matrix[:, split:]
        # Item-based: cosine of the columns.
        norms = np.linalg.norm(matrix, axis=0)
        norms[norms == 0] = 1
        matrix /= norms
        contribution = (matrix[:, :split].T @ matrix[:, split:]) * weights[:, None]  # profile × candidates
        best = contribution.argmax(axis=0)
        score = (1 - USER_CF_SHARE) * _scaled(contribution.sum(axis=0)) + USER_CF_SHARE * _scaled(by_users)
        return score, [profile_ids[i] if contribution[i, c] > 0 else None for c, i in enumerate(best)]

    def _content(self, ids, vectors, profile_vectors) -> tuple[np.ndarray, list]:
        """Mean of the best few weighted cosines between the candidate and the user's pictures: close to several of
        them counts more than close to one (stronger signals weigh more)."""
        mine = [pk for pk in self.profile if pk in profile_vectors]
        have = [row for row, pk in enumerate(ids) if pk in vectors]
        scores, because = np.zeros(len(ids)), [None] * len(ids)
        if not mine or not have:
            return scores, because
        top = max(self.profile[pk][0] for pk in mine)
        weights = np.array([0.6 + 0.4 * self.profile[pk][0] / top for pk in mine], dtype=np.float32)
        similarity = np.stack([vectors[ids[row]] for row in have]) @ np.stack([profile_vectors[pk] for pk in mine]).T
        similarity = similarity * weights[None, :]
        best_few = -np.sort(-similarity, axis=1)[:, :CONTENT_NEIGHBOURS]
        best = similarity.argmax(axis=1)
        for n, row in enumerate(have):
            scores[row] = best_few[n].mean()
            because[row] = mine[best[n]]
        return scores, because

    def _popular(self) -> list[_Scored]:
        """Cold start: popular recent public pictures, then the newest public ones."""
        return [
            _Scored(photo.pk, photo.album_id, photo.owner_id, score)
            for photo, score in popular_photos(self.user, exclude=self.seen, files=self.own_files)
        ]

    # results -------------------------------------------------------------------------------------------------------

    def _explained(self, chosen: list[_Scored], albums: bool = False) -> list[Recommendation]:
        """The chosen pictures (or their albums) as Recommendations, with display data and the reason in words."""
        photos = Photo.objects.select_related("album", "owner").in_bulk(
            [c.pk for c in chosen] + [c.because_id for c in chosen if c.because_id]
        )
        cards = {}
        if albums:  # what an album card shows
            cards = with_photo_count(Album.objects.select_related("cover", "owner")).in_bulk(
                [c.album_id for c in chosen]
            )
        result = []
        for candidate in chosen:
            photo, because = photos[candidate.pk], photos.get(candidate.because_id)
            verb = self.profile[candidate.because_id][1] if because is not None else ""
            if candidate.signal == "similar users" and because is not None:
                did = self.neighbour_verbs.get(candidate.pk, (0, "liked"))[1]
                reason = f"People who {verb} “{_title(because)}” also {did} this{' album' if albums else ''}"
            elif candidate.signal == "content" and because is not None:
                looks = "Has pictures like" if albums else "Looks like"
                reason = f"{looks} “{_title(because)}”, which you {verb}"
            elif photo.owner_id in self.followed:
                reason = f"{'From' if albums else 'New from'} {photo.owner.shown_name}, whom you follow"
                because = None
            else:
                reason, because = ("Popular recently" if candidate.score > 0 else "Recently shared"), None
            result.append(Recommendation(cards[photo.album_id] if albums else photo, candidate.score, reason, because))
        return result

    def photos(self, limit: int = 10) -> list[Recommendation]:
        return self._explained(diversify(self.scored, limit, self.vectors))

    def albums(self, limit: int = 10) -> list[Recommendation]:
        """Albums of the best candidates, not the user's, not already collected or liked, scored by their best three
        pictures and explained by their best one; at most two per author."""
        taken = set(Collect.objects.filter(user=self.user).values_list("album", flat=True))
        taken |= set(Like.objects.filter(user=self.user, album__isnull=False).values_list("album", flat=True))
        grouped: dict = defaultdict(list)
        for candidate in self.scored:
            if candidate.album_id not in taken:
                grouped[candidate.album_id].append(candidate)
        ranked = sorted(grouped.values(), key=lambda group: sum(c.score for c in group[:3]) / 3, reverse=True)
        per_owner: dict = defaultdict(int)
        best = []
        for group in ranked:
            if per_owner[group[0].owner_id] < PER_OWNER - 1:
                per_owner[group[0].owner_id] += 1
                best.append(_Scored(**{**group[0].__dict__, "score": sum(c.score for c in group[:3]) / 3}))
            if len(best) == limit:
                break
        return self._explained(best, albums=True)


def _title(photo: Photo) -> str:
    return photo.title or photo.album.title


def _scaled(values: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; a signal equal (and present) for every candidate counts fully for all of them."""
    values = np.asarray(values, dtype=np.float64)
    low, high = (values.min(), values.max()) if len(values) else (0, 0)
    if high > low:
        return (values - low) / (high - low)
    return np.ones_like(values) if high > 0 else np.zeros_like(values)


def diversify(ranked: list[_Scored], limit: int, vectors: dict) -> list[_Scored]:
    """Greedy maximal marginal relevance over the best candidates, with caps per album and per author."""
    pool = ranked[: limit * 20]
    chosen: list[_Scored] = []
    per_album: dict = defaultdict(int)
    per_owner: dict = defaultdict(int)
    picked: list[np.ndarray] = []
    while pool and len(chosen) < limit:
        best, best_value = None, -math.inf
        for candidate in pool:
            if per_album[candidate.album_id] >= PER_ALBUM or per_owner[candidate.owner_id] >= PER_OWNER:
                continue
            vector = vectors.get(candidate.pk)
            redundancy = max((float(vector @ other) for other in picked), default=0.0) if vector is not None else 0
            value = candidate.score - DIVERSITY * max(0.0, redundancy - 0.5) * 2
            if value > best_value:
                best, best_value = candidate, value
        if best is None:
            break
        pool.remove(best)
        chosen.append(best)
        per_album[best.album_id] += 1
        per_owner[best.owner_id] += 1
        if (vector := vectors.get(best.pk)) is not None:
            picked.append(vector)
    return chosen


def popular_photos(viewer, *, exclude=(), files=(), limit: int = 200) -> list[tuple[Photo, float]]:
    """Cold start: the public pictures most interacted with in the last POPULAR_DAYS, then the newest public ones."""
    public = Photo.objects.visible_to(None).listed().filter(status=Photo.Status.READY)
    if viewer is not None and viewer.is_authenticated:
        public = public.exclude(owner=viewer)
    counts = popularity(since=timezone.now() - timedelta(days=POPULAR_DAYS))
    ranked = sorted(counts, key=counts.get, reverse=True)[: limit * 5]
    shown = set(public.filter(pk__in=ranked).values_list("pk", flat=True))
    order = [pk for pk in ranked if pk in shown]
    order += list(public.exclude(pk__in=order).order_by("-created_at").values_list("pk", flat=True)[: limit * 2])
    photos = public.filter(pk__in=order).select_related("album", "owner").in_bulk()
    result, files = [], set(files)
    for pk in order:
        photo = photos[pk]
        if pk in exclude or photo.sha256 in files:
            continue
        files.add(photo.sha256)
        result.append((photo, math.log1p(counts.get(pk, 0))))
        if len(result) == limit:
            break
    return result


# --- cached per user ------------------------------------------------------------------------------------------------


def _cache_version(user) -> str:
    return cache.get_or_set(
        f"social:recs-version:{user.pk}:{user.date_joined.timestamp()}", uuid.uuid4().hex, CACHE_SECONDS
    )


def forget_recommendations(user) -> None:
    """The user liked, collected, commented or followed: their next page computes fresh recommendations."""
    cache.delete(f"social:recs-version:{user.pk}:{user.date_joined.timestamp()}")


def recommendations(user, photos: int, albums: int) -> dict:
    """{"photos", "albums", "cold"} for the user, computed at most every CACHE_SECONDS; what the user may no longer
    see, or now owns, is dropped from a cached answer on the way out."""
    key = f"social:recs:{user.pk}:{_cache_version(user)}:{photos}:{albums}"
    result = cache.get(key)
    if result is None:
        recommender = Recommender(user)
        result = {"photos": recommender.photos(photos), "albums": recommender.albums(albums), "cold": recommender.cold}
        cache.set(key, result, CACHE_SECONDS)
        return result
    visible = Photo.objects.visible_to(user).exclude(owner=user)
    shown_photos = set(visible.filter(pk__in=[rec.item.pk for rec in result["photos"]]).values_list("pk", flat=True))
    shown_albums = set(
        Album.objects.visible_to(user)
        .exclude(owner=user)
        .filter(pk__in=[rec.item.pk for rec in result["albums"]])
        .values_list("pk", flat=True)
    )
    return {
        "photos": [rec for rec in result["photos"] if rec.item.pk in shown_photos],
        "albums": [rec for rec in result["albums"] if rec.item.pk in shown_albums],
        "cold": result["cold"],
    }
