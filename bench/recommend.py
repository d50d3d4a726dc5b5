"""Recommendation quality: precision@10 and recall@10 of the recommender against a popularity and a random baseline.

A synthetic community in a throw-away database (SQLite by default, or DATABASE_URL): 200 users, 60 of whom publish
albums (one of the seven categories each, mostly public, some for followers only or private). Pictures carry
synthetic class-clustered feature vectors in place of EfficientNet features: each category has three styles, a
picture is its style's centre plus noise, so content similarity means what it means with the real model (same
category and style close, others far), without running the model on thousands of images. Every picture also has a
hidden appeal (log-normal), which makes some pictures popular.

Each user has tastes: a few favourite categories (Dirichlet over the seven) and styles within them. Users follow a
few authors of what they like, then open pictures they may see, with probability ∝ taste × appeal (plus a little
curiosity); they like half of what they open, comment on some, and collect some albums. 20 % of each user's
pictures (all signals on them) are held out; the rest is written to the database as likes, collects, comments and
views. Each method then ranks ten pictures per user among those the user may see, does not own and has not seen:
- the recommender (photocloud/social/recommend.py, through its public class, real queries and access filter),
- popularity: the most interacted-with pictures of the training data,
- random;
and, as a reference for what is reachable, an oracle that ranks by the hidden tastes and appeal themselves.
A hit is a held-out picture. Run from the repository root:  python bench/recommend.py [--users 200] [--seed 7]
"""

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CATEGORIES = ["portrait", "landscape", "food", "document", "architecture", "animal", "illustration"]
STYLES = 3
DIM = 1280
AUTHORS = 60
ALBUMS_PER_AUTHOR = 4
PHOTOS_PER_ALBUM = 8
HOLD_OUT = 0.2
K = 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    os.environ.update(
        PHOTOCLOUD_DATA_DIR=tempfile.mkdtemp(prefix="photocloud-bench-recommend-"),
        PHOTOCLOUD_VISION="false",
        DJANGO_SETTINGS_MODULE="photocloud.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = build(args.users, random.Random(args.seed), np.random.default_rng(args.seed))
    print(
        f"Database: {connection.vendor}. {args.users} users, {len(world.photos)} pictures, "
        f"{world.train_signals} training signals, {world.held_out_count} held-out pictures; "
        f"built in {time.perf_counter() - started:.0f} s.\n"
    )
    evaluate(world, random.Random(args.seed + 1))


class World:
    pass


def build(n_users, rnd: random.Random, rng: np.random.Generator) -> World:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from photocloud.accounts.models import Follow, User
    from photocloud.library.models import Album, Photo
    from photocloud.social.models import Collect, Comment, Like, PhotoView
    from photocloud.vision.models import PhotoAnalysis

    password = make_password(None)
    users = User.objects.bulk_create([User(username=f"user{n:03d}", password=password) for n in range(n_users)])
    authors = users[:AUTHORS]

    centres = rng.normal(size=(len(CATEGORIES), DIM))
    style_centres = centres[:, None, :] + 0.7 * rng.normal(size=(len(CATEGORIES), STYLES, DIM))
    albums, photos, analyses, meta = [], [], [], {}
    now = timezone.now()
    for author in authors:
        for n in range(ALBUMS_PER_AUTHOR):
            category = rnd.randrange(len(CATEGORIES))
            style = rnd.randrange(STYLES)
            access = rnd.choices(["public", "followers", "private"], weights=[85, 10, 5])[0]
            album = Album(
                owner=author,
                title=f"{CATEGORIES[category]} {style} by {author.username} #{n}",
                category=CATEGORIES[category],
                access=access,
            )
            albums.append(album)
            for m in range(PHOTOS_PER_ALBUM):
                sha = hashlib.sha256(f"{album.pk}-{m}".encode()).hexdigest()
                photo = Photo(
                    owner=author,
                    album=album,
                    title=f"{album.title} / {m}",
                    sha256=sha,
                    format="JPEG",
                    mime_type="image/jpeg",
                    file_size=1,
                    width=1,
                    height=1,
                    status=Photo.Status.READY,
                    sort_date=now,
                )
                vector = style_centres[category, style] + 1.2 * rng.normal(size=DIM)
                photos.append(photo)
                analyses.append(
                    PhotoAnalysis(
                        photo=photo,
                        features=vector.astype(np.float16).tobytes(),
                        category=CATEGORIES[category],
                        model_version="bench",
                    )
                )
                meta[photo.pk] = (category, style, float(rng.lognormal(0, 0.8)), album, access, author.pk)
    Album.objects.bulk_create(albums)
    Photo.objects.bulk_create(photos)
    PhotoAnalysis.objects.bulk_create(analyses)

    # Tastes, follows, behaviour.
    taste = {}
    for user in users:
        categories = rng.dirichlet([0.3] * len(CATEGORIES))
        styles = rng.dirichlet([0.5] * STYLES, size=len(CATEGORIES))
        taste[user.pk] = categories[:, None] * styles
    authored = defaultdict(list)
    for category, style, _, _, _, author_id in meta.values():
        authored[author_id].append((category, style))
    follows = []
    for user in users:
        affinity = {a.pk: sum(taste[user.pk][c, s] for c, s in authored[a.pk]) for a in authors if a.pk != user.pk}
        chosen = rnd.choices(list(affinity), weights=[v + 1e-3 for v in affinity.values()], k=5)
        follows += [Follow(follower=user, followee_id=pk) for pk in set(chosen)]
    Follow.objects.bulk_create(follows)
    followed = defaultdict(set)
    for follow in follows:
        followed[follow.follower_id].add(follow.followee_id)

    photo_ids = list(meta)
    world = World()
    world.users, world.photos, world.meta, world.held_out, world.taste = users, photo_ids, meta, {}, taste
    likes, views, comments, collects = [], [], [], []
    for user in users:
        visible = [
            pk
            for pk in photo_ids
            if meta[pk][5] != user.pk
            and (meta[pk][4] == "public" or (meta[pk][4] == "followers" and meta[pk][5] in followed[user.pk]))
        ]
        weights = np.array([taste[user.pk][meta[pk][0], meta[pk][1]] * meta[pk][2] + 0.01 for pk in visible])
        count = min(len(visible), rnd.randint(20, 60))
        opened = list(rng.choice(visible, size=count, replace=False, p=weights / weights.sum()))
        rnd.shuffle(opened)
        cut = max(1, round(len(opened) * HOLD_OUT))
        world.held_out[user.pk] = set(opened[:cut])
        held_albums = {meta[pk][3].pk for pk in opened[:cut]}
        for pk in opened[cut:]:
            views.append(PhotoView(user=user, photo_id=pk, count=rnd.choice([1, 1, 2, 3])))
            if rnd.random() < 0.5:
                likes.append(Like(user=user, photo_id=pk))
            if rnd.random() < 0.1:
                comments.append(Comment(author=user, photo_id=pk, body="nice"))
        liked_albums = {meta[pk][3].pk for pk in opened[cut:]} - held_albums
        for album_id in liked_albums:
            if rnd.random() < 0.15:
                collects.append(Collect(user=user, album_id=album_id))
    PhotoView.objects.bulk_create(views)
    Like.objects.bulk_create(likes)
    Comment.objects.bulk_create(comments)
    Collect.objects.bulk_create(collects, ignore_conflicts=True)
    world.train_signals = len(views) + len(likes) + len(comments) + len(collects)
    world.held_out_count = sum(len(items) for items in world.held_out.values())
    return world


def evaluate(world, rnd: random.Random):
    from photocloud.library.models import Photo
    from photocloud.social.recommend import Recommender, histories, popularity

    popular = popularity()
    methods = {"recommender": [], "popularity": [], "random": [], "oracle": []}
    recalls = {name: [] for name in methods}
    timings = []
    for user in world.users:
        held = world.held_out[user.pk]
        seen = set(histories([user.pk])[user.pk])
        candidates = [
            pk
            for pk in Photo.objects.visible_to(user).exclude(owner=user).values_list("pk", flat=True)
            if pk not in seen
        ]
        started = time.perf_counter()
        recommended = [rec.item.pk for rec in Recommender(user).photos(K)]
        timings.append(time.perf_counter() - started)
        ranked = {
            "recommender": recommended,
            "popularity": sorted(candidates, key=lambda pk: (-popular.get(pk, 0), str(pk)))[:K],
            "random": rnd.sample(candidates, min(K, len(candidates))),
            "oracle": sorted(
                candidates,
                key=lambda pk: -world.taste[user.pk][world.meta[pk][0], world.meta[pk][1]] * world.meta[pk][2],
            )[:K],
        }
        for name, items in ranked.items():
            hits = len(set(items) & held)
            methods[name].append(hits / K)
            recalls[name].append(hits / len(held))
    print(f"{'method':<14} {'precision@10':>13} {'recall@10':>10}")
    for name in methods:
        print(f"{name:<14} {statistics.mean(methods[name]):13.3f} {statistics.mean(recalls[name]):10.3f}")
    print("(oracle: ranked by the hidden tastes and appeal that generated the behaviour, an upper reference)")
    ours = statistics.mean(methods["recommender"])
    best_baseline = max(statistics.mean(methods["popularity"]), statistics.mean(methods["random"]))
    print(
        f"\nRecommender precision@10 is {ours / best_baseline:.1f}× the best baseline's "
        f"({'beats' if ours > best_baseline else 'DOES NOT BEAT'} both). "
        f"Median time per user: {statistics.median(timings) * 1000:.0f} ms."
    )


if __name__ == "__main__":
    main()
