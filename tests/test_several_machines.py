"""Several machines on one host: two web nodes (`photocloud serve --task-workers 0`) and two worker nodes
(`photocloud db_worker`), each with its own data folder, sharing nothing but PostgreSQL (with pgvector), an S3 server
(moto's server mode) and Redis. Pictures uploaded through node A are processed by either worker and found through
node B; a worker killed with -9 in the middle of a job leaves it to the other, which finishes it once. What must
hold for the cluster as a whole does: crawlers' politeness and rate limits (through Redis), and the import-folder
watcher (one node watches a folder, under a lease).

Runs in the pgvector test run (PHOTOCLOUD_TEST_PGVECTOR=1, scripts/test.sh), where DATABASE_URL is PostgreSQL with
pgvector: search by image then needs no local state either.
"""

import hashlib
import os
import pickle
import signal
import subprocess
import time
import uuid
from contextlib import ExitStack, suppress

import httpx
import psycopg
import pytest
import redis
from django_ratelimit.core import _get_window

from photocloud.crawler.tests.site import serve as serve_site
from photocloud.library.tests.test_s3_storage import CREDENTIALS, Bucket, s3_endpoint  # noqa: F401 (a fixture)
from tests import images
from tests.servers import CLI, free_port, server_database, wait_until_answering

pytestmark = [
    pytest.mark.server,
    pytest.mark.vision,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") != "1", reason="the pgvector run only"),
]
REDIS_URL = os.environ.get("PHOTOCLOUD_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
LEASE_KEY = ":1:photocloud:lease:periodic"  # core/lease.py's key as Django's cache names it
CRAWL_DELAY = 0.3  # seconds between two requests to one host, whichever worker makes them


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s")


@pytest.fixture(scope="module")
def cluster(s3_endpoint, tmp_path_factory):  # noqa: F811
    database_url, drop_database = server_database(os.environ["DATABASE_URL"])
    bucket = Bucket(s3_endpoint)
    shared = {key: value for key, value in os.environ.items() if not key.startswith(("PHOTOCLOUD_", "DJANGO_"))}
    shared.update(
        DATABASE_URL=database_url,
        PHOTOCLOUD_S3_BUCKET=bucket.name,
        PHOTOCLOUD_S3_ENDPOINT_URL=s3_endpoint,
        PHOTOCLOUD_S3_ACCESS_KEY=CREDENTIALS["aws_access_key_id"],
        PHOTOCLOUD_S3_SECRET_KEY=CREDENTIALS["aws_secret_access_key"],
        PHOTOCLOUD_S3_REGION=CREDENTIALS["region_name"],
        PHOTOCLOUD_REDIS_URL=REDIS_URL,
        # The crawler may reach the test site on 127.0.0.1; one request at a time per host, CRAWL_DELAY apart.
        PHOTOCLOUD_CRAWLER_ALLOW="127.0.0.1/32",
        PHOTOCLOUD_CRAWLER_HOST_DELAY=str(CRAWL_DELAY),
        PHOTOCLOUD_CRAWLER_HOST_CONCURRENCY="1",
        PHOTOCLOUD_CRAWLER_TIMEOUT="5",  # a loaded CI machine answers a request in more than 1 s now and then
    )

    def node(name):
        return {**shared, "PHOTOCLOUD_DATA_DIR": str(tmp_path_factory.mktemp(name))}

    # Leases left by an earlier run would hold for minutes, and its rate-limit counts would still count.
    shared_cache = redis.Redis.from_url(REDIS_URL)
    for pattern in (":1:photocloud:lease:*", ":1:rl:*", ":1:throttle_*"):
        for key in shared_cache.scan_iter(pattern):
            shared_cache.delete(key)
    incoming = tmp_path_factory.mktemp("import-folder")  # on one host, both web nodes see it (a shared mount)
    processes = {}
    with ExitStack() as stack:
        stack.callback(drop_database)
        subprocess.run([*CLI, "migrate", "--noinput", "-v", "0"], env=node("deploy"), check=True, timeout=300)
        script = (
            "from photocloud.accounts.models import User, ApiToken; from photocloud.sync.models import ImportFolder;"
            "keys = [ApiToken.issue(User.objects.create_user(n, password='a-long-Passw0rd!'), 't')[1] "
            "for n in ('alice', 'bob', 'carol')];"
            f"ImportFolder.objects.create(owner=User.objects.get(username='alice'), path={str(incoming)!r});"
            "print(*keys)"
        )
        keys = (
            subprocess.run(
                [*CLI, "shell", "-c", script],
                env=node("deploy"),
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            .stdout.strip()
            .splitlines()[-1]
            .split()
        )
        web = {}
        for name in ("a", "b"):
            port = free_port()
            env, log = node(f"web-{name}"), tmp_path_factory.mktemp("logs") / f"web-{name}.log"
            argv = [*CLI, "serve", "--port", str(port), "--task-workers", "0", "--web-workers", "1"]
            processes[f"web-{name}"] = subprocess.Popen(
                argv, env=env, start_new_session=True, stdout=log.open("w"), stderr=subprocess.STDOUT
            )
            web[name] = (f"http://127.0.0.1:{port}", log)
        for name in ("1", "2"):
            argv = [*CLI, "db_worker", "--interval", "0.5", "--no-startup-delay", "--worker-id", f"worker-{name}"]
            processes[f"worker-{name}"] = subprocess.Popen(
                argv, env=node(f"worker-{name}"), start_new_session=True, stdout=subprocess.DEVNULL
            )

        def stop_all():
            for process in processes.values():
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=30)
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)

        stack.callback(stop_all)
        for base, _ in web.values():
            wait_until_answering(base, seconds=180)

        def client(node_name, user):
            key = keys[("alice", "bob", "carol").index(user)]
            base = web[node_name][0]
            return httpx.Client(base_url=base, headers={"Authorization": f"Token {key}"}, timeout=60)

        yield {
            "client": client,
            "web": web,
            "processes": processes,
            "database": database_url,
            "bucket": bucket,
            "incoming": incoming,
        }


def _sql(cluster, query, *params):
    with psycopg.connect(cluster["database"].replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_upload_on_a_processed_by_a_worker_and_found_on_b(cluster):
    alice_a, alice_b, bob_a = (
        cluster["client"]("a", "alice"),
        cluster["client"]("b", "alice"),
        cluster["client"]("a", "bob"),
    )
    web_a_log = cluster["web"]["a"][1]
    assert "Search by image: pgvector in PostgreSQL" in web_a_log.read_text()
    # Periodic work (recovery, the vector index) is leased to one of the two web nodes, not run by both.
    holder = pickle.loads(redis.Redis.from_url(REDIS_URL).get(LEASE_KEY))
    web_pids = {cluster["processes"][name].pid for name in ("web-a", "web-b")}
    assert int(holder.split(":")[1]) in web_pids
    album = alice_a.post("/api/albums/", json={"title": "Shore", "category": "travel", "access": "public"}).json()
    files = [
        ("file", ("cat.jpg", images.jpeg("cat"), "image/jpeg")),
        ("file", ("cat2.jpg", images.unique_jpeg("cat"), "image/jpeg")),
        ("file", ("coffee.jpg", images.jpeg("coffee"), "image/jpeg")),
    ]
    uploaded = alice_a.post("/api/photos/upload/", data={"album": album["id"]}, files=files)
    assert uploaded.status_code == 201, uploaded.text
    cat, cat2, coffee = [result["photo"]["id"] for result in uploaded.json()["results"]]

    def analysed():
        return all(alice_b.get(f"/api/photos/{pk}/").json()["analysis"] for pk in (cat, cat2, coffee))

    wait_for(analysed, 600, "the workers analysed the three pictures")
    # Node B serves what node A took in: the list, thumbnails and originals (from the shared bucket).
    listed = {photo["id"] for photo in alice_b.get("/api/photos/", params={"album": album["id"]}).json()["results"]}
    assert listed == {cat, cat2, coffee}
    thumbnail = alice_b.get(f"/photos/{cat}/s")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert alice_b.get(f"/photos/{coffee}/original").content == images.jpeg("coffee")
    # By keyword (a title set through A, indexed by a worker) and by image, on B.
    assert alice_a.patch(f"/api/photos/{coffee}/", json={"title": "lighthouse morning"}).status_code == 200
    wait_for(
        lambda: coffee
        in {hit["photo"]["id"] for hit in alice_b.get("/api/search/", params={"q": "lighthouse"}).json()["results"]},
        120,
        "the new title is found on B",
    )
    similar = alice_b.get(f"/api/photos/{cat}/similar/").json()
    assert similar[0]["photo"]["id"] == cat2  # the other cat, nearest
    # Bob likes through A; Alice sees the notification on B.
    assert bob_a.post(f"/api/photos/{cat}/likes/").status_code in (200, 201)
    notifications = alice_b.get("/api/notifications/").json()
    assert any(item["verb"] == "like" for item in notifications["results"]), notifications


def test_crawls_started_on_both_nodes_run_on_both_workers_politely_and_show_on_the_other_node(cluster):
    """Runs while both workers live (before the next test kills one). Alice starts a crawl through A, Bob one through
    B, of the same site; the two workers run them at the same time, yet the site sees its requests CRAWL_DELAY apart:
    the host's turn is kept in Redis (crawler/polite.py). Each crawl's results are read through the other node."""
    site = serve_site()
    try:
        started = {}
        for user, node, start in (("alice", "a", "/"), ("bob", "b", "/cats.html")):
            body = {"keywords": "cat", "start_pages": [site.url + start], "max_pages": 4}
            answer = cluster["client"](node, user).post("/api/crawls/", json=body)
            assert answer.status_code == 201, answer.text
            started[user] = answer.json()["id"]
        readers = {"alice": cluster["client"]("b", "alice"), "bob": cluster["client"]("a", "bob")}

        def finished():
            crawls = {user: readers[user].get(f"/api/crawls/{pk}/").json() for user, pk in started.items()}
            return crawls if all(crawl["status"] not in ("queued", "running") for crawl in crawls.values()) else None

        crawls = wait_for(finished, 120, "both crawls end")
    finally:
        site.stop()
    for user, crawl in crawls.items():
        assert crawl["status"] == "done" and crawl["images_kept"] > 0, crawl
        candidates = readers[user].get(f"/api/crawls/{started[user]}/candidates/").json()["results"]
        assert len(candidates) == crawl["images_kept"] and all(c["image_url"].startswith(site.url) for c in candidates)
    ran_on = _sql(
        cluster,
        "SELECT worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%%run_crawl%%' "
        "AND (args_kwargs::text LIKE %s OR args_kwargs::text LIKE %s)",
        *[f"%{pk}%" for pk in started.values()],
    )
    assert sorted(ids for (ids,) in ran_on) == [["worker-1"], ["worker-2"]], ran_on
    arrivals = sorted(hit.at for hit in site.hits)
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) >= 6 and min(gaps) >= CRAWL_DELAY - 0.02, gaps


def test_a_worker_killed_mid_job_leaves_it_to_the_other_done_once(cluster):
    alice = cluster["client"]("a", "alice")
    analysing = (
        "SELECT h.worker_id, h.pid, h.task_id FROM core_workerheartbeat h JOIN django_tasks_database_dbtaskresult t "
        "ON t.id = h.task_id WHERE t.task_path LIKE '%%analyze_photos' AND t.status = 'RUNNING'"
    )
    # The analysis is quick; to kill its worker mid-job every time, the test holds back the analysis's first write
    # (its PhotoAnalysis row) with a table lock: the job cannot finish before the worker is killed. (The killed
    # worker's connection waits on the lock; once it is released, PostgreSQL finds the client gone and rolls back.)
    with psycopg.connect(cluster["database"].replace("postgres://", "postgresql://")) as hold:
        hold.execute("LOCK TABLE vision_photoanalysis IN SHARE ROW EXCLUSIVE MODE")
        upload = alice.post("/api/photos/upload/", files={"file": ("p.jpg", images.unique_jpeg("astronaut"))})
        photo = upload.json()["results"][0]["photo"]["id"]
        worker_id, pid, task_id = wait_for(lambda: _sql(cluster, analysing), 300, "a worker analyses the picture")[0]
        os.kill(pid, signal.SIGKILL)  # one host: the heartbeat's pid is the worker's process
        hold.rollback()
    other = "worker-2" if worker_id == "worker-1" else "worker-1"
    assert cluster["processes"][other].poll() is None

    def done():
        rows = _sql(cluster, "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = %s", task_id)
        return rows[0] if rows[0][0] in ("SUCCESSFUL", "FAILED") else None

    # The other worker sees the killed one's heartbeat go stale (core/workers.py), queues its job again, runs it.
    status, worker_ids = wait_for(done, 300, "the killed worker's job is finished")
    assert (status, worker_ids) == ("SUCCESSFUL", [worker_id, other])
    assert alice.get(f"/api/photos/{photo}/").json()["analysis"]
    assert _sql(cluster, "SELECT count(*) FROM vision_photoanalysis WHERE photo_id = %s", uuid.UUID(photo)) == [(1,)]
    runs = _sql(
        cluster,
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%%analyze_photos' "
        "AND args_kwargs::text LIKE %s",
        f"%{photo}%",
    )
    assert runs == [(1,)]  # one job for the picture, not a second one queued beside it


def test_rate_limits_count_the_requests_of_both_web_nodes_together(cluster):
    """Through the shared cache (Redis): wrong passwords alternating between A and B are refused at the same count
    as on one node (django-ratelimit, 10 a minute per address and per user name), and so are costly API requests
    (DRF's "search" scope, 60 a minute; Carol makes no other request in this module)."""
    nodes = {name: httpx.Client(base_url=base, timeout=60) for name, (base, _) in cluster["web"].items()}
    tokens = {}
    for name, node in nodes.items():
        node.get("/accounts/login/").raise_for_status()
        tokens[name] = node.cookies["csrftoken"]
    # django-ratelimit counts in fixed windows of a minute, each key's ending at its own second (_get_window): the
    # attempts are made well inside both windows, so none starts afresh half-way.
    ends = [_get_window(value, 60) for value in ("127.0.0.1", "mallory")]
    if min(ends) - time.time() < 5:  # eleven attempts take well under a second
        time.sleep(min(ends) - time.time() + 1)
    answers = []
    for attempt in range(11):
        name = "ab"[attempt % 2]
        form = {"username": "mallory", "password": f"guess-{attempt}", "csrfmiddlewaretoken": tokens[name]}
        answers.append(nodes[name].post("/accounts/login/", data=form).status_code)
    assert answers == [200] * 10 + [429], answers  # one node alone would have let each node have ten
    carol = {name: cluster["client"](name, "carol") for name in ("a", "b")}
    answers = [carol["ab"[attempt % 2]].post("/api/search/image/").status_code for attempt in range(61)]
    assert answers == [400] * 60 + [429], answers  # no picture: refused, but counted


def test_a_dropped_file_is_imported_once_by_one_of_the_web_nodes(cluster):
    """Both web nodes run the import-folder watcher (`serve`); the folder's lease gives it to one of them."""
    alice = cluster["client"]("b", "alice")
    watching = wait_for(
        lambda: [name for name, (_, log) in cluster["web"].items() if "watched by this node" in log.read_text()],
        60,
        "a web node watches the import folder",
    )
    assert len(watching) == 1, watching
    data = images.unique_jpeg("rocket")
    (cluster["incoming"] / "dropped.jpg").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    events = "SELECT e.status FROM sync_importevent e WHERE e.relative_path = 'dropped.jpg'"
    assert wait_for(lambda: _sql(cluster, events), 60, "the dropped file is imported") == [("stored",)]
    time.sleep(5)  # what a second watcher would do, it would have done by now (2 s to settle, one import)
    assert _sql(cluster, events) == [("stored",)]
    assert _sql(cluster, "SELECT count(*) FROM library_photo WHERE sha256 = %s", digest) == [(1,)]
    logs = {name: log.read_text() for name, (_, log) in cluster["web"].items()}
    assert [name for name, text in logs.items() if "dropped.jpg stored" in text] == watching
    assert digest in {photo["sha256"] for photo in alice.get("/api/photos/").json()["results"]}
