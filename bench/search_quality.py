"""Search relevance on a judged collection: precision@10, nDCG@10 and the zero-result rate, next to a baseline.

The collection (bench/search_collection.py) is about 300 pictures from Debian packages, with what each one shows
written down by hand as *concepts*. bench/data/search_judgments.tsv holds the queries and, for each, the concepts
that make a picture highly relevant (grade 2) or relevant (grade 1); those were written from the concepts, never
from what search returned. Half the queries (split "tune") were looked at while the ranking was improved; the other
half ("report") were not, and are the figures to quote.

Two steps:

    python bench/search_quality.py analyse DIR    # DIR from bench/search_collection.py: the real upload pipeline
                                                  # (metadata, CNN labels, categories, faces, OCR) on every picture;
                                                  # writes what it saw to bench/data/search_library.json
    python bench/search_quality.py [--baseline-tree /path/to/main]   # the figures, from that file (seconds)

The second step loads the analysed library (albums, pictures, and their analysis exactly as the pipeline stored it)
into a fresh SQLite database, indexes it with the search code of this tree, and runs every query through
`search.selectors.search` as the library's owner would. With --baseline-tree it does the same again in a separate
process with the code of another checkout (today's main, say) and prints both side by side.

Precision@10 counts relevant pictures (grade ≥ 1) among the first 10 results, divided by min(10, number of relevant
pictures), so a query with 3 relevant pictures that returns exactly them scores 1. nDCG@10 uses gains 2^grade - 1.
A query "returns nothing" when it has relevant pictures and search returns no picture for it.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the collection's builder, beside this file

from search_collection import concepts_by_source  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "bench" / "data" / "search_library.json"
JUDGMENTS = ROOT / "bench" / "data" / "search_judgments.tsv"
K = 10
CONCEPTS = concepts_by_source()


def _setup(data_dir: str) -> None:
    os.environ.update(
        PHOTOCLOUD_DATA_DIR=data_dir,
        PHOTOCLOUD_RATELIMIT="false",
        PHOTOCLOUD_TASK_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        DJANGO_SETTINGS_MODULE="photocloud.settings",
        HF_HUB_OFFLINE="1",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- analyse: the real pipeline over the pictures ------------------------------------------------------------------


def analyse(folder: Path, shard: int = 0, shards: int = 1) -> None:
    """Upload every picture of the collection (or every `shards`-th, from `shard`: several processes share the work)
    through the real pipeline, and keep what it stored, one JSON line per picture in folder/analysed-SHARD.jsonl."""
    os.environ["PHOTOCLOUD_VISION"] = "true"
    _setup(tempfile.mkdtemp(prefix="photocloud-search-quality-"))
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from photocloud.library import services as library
    from photocloud.library.models import Photo

    manifest = json.loads((folder / "manifest.json").read_text())
    owner = get_user_model().objects.create_user("owner", password="x")
    albums = {
        key: library.create_album(owner, title=title, category=key, description=description, tags=tags)
        for key, title, description, tags in manifest["albums"]
    }
    mine = manifest["pictures"][shard::shards]
    with (folder / f"analysed-{shard}.jsonl").open("w") as out:
        for number, entry in enumerate(mine):
            data = (folder / entry["file"]).read_bytes()
            result = library.ingest_upload(owner, albums[entry["album"]], SimpleUploadedFile(entry["file"], data))
            photo = Photo.objects.select_related("analysis").get(pk=result.photo.pk)
            seen = photo.analysis
            picture = {
                "file": entry["file"],
                "source": entry["source"],
                "album": entry["album"],
                "width": photo.width,
                "height": photo.height,
                "dominant_color": photo.dominant_color,
                "analysis": {key: getattr(seen, key) for key in ("category", "confidence", "labels", "text", "faces")},
            }
            out.write(json.dumps(picture, ensure_ascii=False) + "\n")
            out.flush()
            print(f"{number + 1}/{len(mine)} {entry['file']}: {seen.category} {seen.labels[:2]}", flush=True)


def merge(folder: Path, out: Path = LIBRARY) -> None:
    """The shards' lines, in the collection's order, as one file (the fixture the figures and the test load)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    seen = {}
    for part in folder.glob("analysed-*.jsonl"):
        for line in part.read_text().splitlines():
            picture = json.loads(line)
            seen[picture["file"]] = picture
    missing = [entry["file"] for entry in manifest["pictures"] if entry["file"] not in seen]
    if missing:
        raise SystemExit(f"not analysed yet: {len(missing)} pictures, e.g. {missing[:3]}")
    pictures = [seen[entry["file"]] for entry in manifest["pictures"]]
    lines = [json.dumps(picture, ensure_ascii=False) for picture in pictures]
    out.write_text(json.dumps({"albums": manifest["albums"]}, ensure_ascii=False) + "\n" + "\n".join(lines) + "\n")
    print(f"wrote {len(pictures)} pictures to {out}")


# --- the judged library in a database ------------------------------------------------------------------------------


def load_library(owner, path: Path = LIBRARY) -> dict:
    """The analysed collection as rows of `owner` (no image files: search reads only rows), indexed with this tree's
    search code. Returns {photo id: picture entry}."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from photocloud.library import services as library
    from photocloud.library.models import Photo
    from photocloud.search import meaning, services
    from photocloud.vision.models import PhotoAnalysis, encode_features

    first, *lines = path.read_text(encoding="utf-8").splitlines()
    stored = {**json.loads(first), "pictures": [json.loads(line) for line in lines]}
    albums = {
        key: library.create_album(owner, title=title, category=key, description=description, tags=tags)
        for key, title, description, tags in stored["albums"]
    }
    pictures, analyses = {}, []
    for number, entry in enumerate(stored["pictures"]):
        photo = Photo.objects.create(
            pk=uuid.uuid5(uuid.NAMESPACE_URL, f"photocloud-judged/{entry['file']}"),  # ties break alike every run
            owner=owner,
            album=albums[entry["album"]],
            original_name=entry["file"],
            sha256=hashlib.sha256(entry["file"].encode()).hexdigest(),
            format="JPEG",
            mime_type="image/jpeg",
            file_size=1000,
            status=Photo.Status.READY,
            sort_date=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=number),
            width=entry["width"],
            height=entry["height"],
            dominant_color=entry["dominant_color"],
        )
        seen = entry["analysis"]
        analyses.append(
            PhotoAnalysis(
                photo=photo,
                features=encode_features(np.zeros(1280)),
                model_version="judged collection",
                **seen,
            )
        )
        pictures[photo.pk] = entry
    PhotoAnalysis.objects.bulk_create(analyses)
    services.rebuild()
    if meaning.enabled():
        meaning.embed_missing_terms()
    return pictures


def read_judgments(path: Path = JUDGMENTS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if row and not row[0].startswith("#")]
    header, rows = rows[0], rows[1:]
    judged = []
    for row in rows:
        entry = dict(zip(header, row, strict=True))
        entry["high"] = set(filter(None, entry["high"].split(",")))
        entry["some"] = set(filter(None, entry["some"].split(",")))
        judged.append(entry)
    return judged


def grade(judgment: dict, picture: dict) -> int:
    concepts = CONCEPTS[picture["source"]]
    return 2 if concepts & judgment["high"] else 1 if concepts & judgment["some"] else 0


def evaluate(viewer, pictures: dict, judgments: list[dict]) -> list[dict]:
    """Each query through the real search, scored against the judgments."""
    from photocloud.search import selectors

    scored = []
    for judgment in judgments:
        found = selectors.search(viewer, q=judgment["query"])
        ranked = list(found.results.ids)
        grades = [grade(judgment, pictures[pk]) for pk in ranked[:K] if pk in pictures]
        ideal = sorted((grade(judgment, p) for p in pictures.values()), reverse=True)
        relevant = sum(1 for g in ideal if g)
        dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))
        idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal[:K]))
        scored.append(
            {
                **{key: judgment[key] for key in ("id", "split", "kind", "query")},
                "relevant": relevant,
                "returned": len(ranked),
                "precision": (sum(1 for g in grades if g) / min(K, relevant)) if relevant else None,
                "ndcg": dcg / idcg if idcg else None,
                "strong": _strong_count(found),
                "top": [f"{pictures[pk]['source']}:{g}" for pk, g in zip(ranked[:K], grades, strict=False)],
            }
        )
    return scored


def _strong_count(found) -> int | None:
    """How many results are shown as strong matches (None where the code has no such split)."""
    return getattr(found, "strong_count", None)


def summary(scored: list[dict]) -> dict:
    def block(rows):
        judged = [r for r in rows if r["relevant"]]
        return {
            "queries": len(rows),
            "precision@10": statistics.mean(r["precision"] for r in judged) if judged else float("nan"),
            "ndcg@10": statistics.mean(r["ndcg"] for r in judged) if judged else float("nan"),
            "zero results": sum(1 for r in judged if r["returned"] == 0) / len(judged) if judged else float("nan"),
            "unanswerable answered": sum(1 for r in rows if not r["relevant"] and r["returned"]),
        }

    groups = {"all": scored}
    for split in sorted({r["split"] for r in scored}):
        groups[f"split {split}"] = [r for r in scored if r["split"] == split]
        groups[f"split {split}, Chinese"] = [r for r in scored if r["split"] == split and "zh" in r["kind"]]
    groups["Chinese (all)"] = [r for r in scored if "zh" in r["kind"]]
    return {name: block(rows) for name, rows in groups.items()}


def run_here() -> list[dict]:
    """Load, index and evaluate with the code this process imports."""
    _setup(tempfile.mkdtemp(prefix="photocloud-search-quality-"))
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.create_user("owner", password="x")
    pictures = load_library(owner)
    return evaluate(owner, pictures, read_judgments())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", nargs="?", default="measure", choices=["measure", "analyse", "merge"])
    parser.add_argument("--shard", default="0/1", help="analyse: which share of the pictures, e.g. 1/3")
    parser.add_argument("folder", nargs="?", type=Path, help="analyse: the collection's folder")
    parser.add_argument("--baseline-tree", type=Path, help="a checkout whose search code is the baseline")
    parser.add_argument("--json", action="store_true", help="print the per-query results as JSON (for --baseline)")
    parser.add_argument("--queries", action="store_true", help="print each query's figures and top results")
    args = parser.parse_args(argv)
    if args.step == "analyse":
        shard, shards = (int(n) for n in args.shard.split("/"))
        analyse(args.folder, shard, shards)
        return 0
    if args.step == "merge":
        merge(args.folder)
        return 0
    if args.json:
        print(json.dumps(run_here(), default=str))
        return 0
    baseline = None
    if args.baseline_tree:
        # The same script, judgments and library, with the other checkout's photocloud package imported.
        env = {**os.environ, "PYTHONPATH": str(args.baseline_tree.resolve())}
        output = subprocess.run(
            [sys.executable, __file__, "--json"], env=env, capture_output=True, text=True, check=True
        ).stdout
        baseline = json.loads(output.strip().splitlines()[-1])
    current = run_here()
    if args.queries:
        before = {r["id"]: r for r in baseline or []}
        for r in current:
            old = before.get(r["id"], {})
            print(
                f"{r['id']:>4} {r['split']:<6} {r['kind']:<10} {r['query']:<24} rel={r['relevant']:<3} "
                f"n={r['returned']:<4} P={_fmt(r['precision'])} (was {_fmt(old.get('precision'))}) "
                f"nDCG={_fmt(r['ndcg'])} strong={r['strong']} {' '.join(r['top'])}"
            )
    now, then = summary(current), summary(baseline) if baseline else None
    print(
        f"\n{'':<24}{'queries':>8}{'P@10':>8}{'nDCG@10':>9}{'zero-res':>9}{'unans.':>7}   baseline P@10 / nDCG / zero"
    )
    for name, figures in now.items():
        line = (
            f"{name:<24}{figures['queries']:>8}{figures['precision@10']:>8.3f}{figures['ndcg@10']:>9.3f}"
            f"{figures['zero results']:>9.3f}{figures['unanswerable answered']:>7}"
        )
        if then and name in then:
            old = then[name]
            line += f"   {old['precision@10']:.3f} / {old['ndcg@10']:.3f} / {old['zero results']:.3f}"
        print(line)
    return 0


def _fmt(value) -> str:
    return "  -  " if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
