from django.contrib import admin

from .models import Crawl, CrawlSource


@admin.register(CrawlSource)
class CrawlSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "url_template", "enabled"]
    list_editable = ["enabled"]


@admin.register(Crawl)
class CrawlAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "status", "pages_fetched", "images_kept", "created_at"]
    list_filter = ["status"]
    readonly_fields = [field.name for field in Crawl._meta.fields]
