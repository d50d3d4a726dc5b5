from django.contrib import admin

from . import pipeline
from .models import Album, Photo, Tag


def _what(form) -> str:
    return "category" if {"category", "album"} & set(form.changed_data) else "fields"


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "category", "access", "created_at"]
    list_filter = ["access", "category"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner", "cover"]

    def save_related(self, request, form, formsets, change):
        """An edit here is announced to the pipeline like one through the services (search follows)."""
        super().save_related(request, form, formsets, change)
        album = form.instance
        pipeline.albums_changed([album.pk], _what(form) if change else "created", owner_ids=[album.owner_id])


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "album", "status", "format", "sort_date"]
    list_filter = ["status", "format"]
    search_fields = ["title", "sha256", "owner__username"]
    raw_id_fields = ["owner", "album"]
    readonly_fields = ["sha256", "file_size", "width", "height", "attempts"]
    actions = ["reprocess"]

    def save_related(self, request, form, formsets, change):
        """An edit here is announced to the pipeline like one through the services (search follows)."""
        super().save_related(request, form, formsets, change)
        photo = form.instance
        pipeline.pictures_changed([photo.pk], _what(form) if change else "created", owner_ids=[photo.owner_id])

    @admin.action(description="Process the selected pictures again")
    def reprocess(self, request, queryset):
        from .services import retry_processing

        for photo in queryset:
            retry_processing(photo)


admin.site.register(Tag)
