from django_tasks import task

from . import services


@task()
def run_crawl_task(crawl_id: str) -> None:
    """One crawl, in the background (services.run_crawl)."""
    services.run_crawl(crawl_id)
