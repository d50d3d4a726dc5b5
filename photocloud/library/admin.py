from django.contrib import admin

from .models import Album, Photo, Tag


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "category", "access", "created_at"]
    list_filter = ["access", "category"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner", "cover"]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "album", "status", "format", "sort_date"]
    list_filter = ["status", "format"]
    search_fields = ["title", "sha256", "owner__username"]
    raw_id_fields = ["owner", "album"]
    readonly_fields = ["sha256", "file_size", "width", "height", "attempts"]
    actions = ["reprocess"]

    @admin.action(description="Process the selected pictures again")
    def reprocess(self, request, queryset):
        from .services import retry_processing

        for photo in queryset:
            retry_processing(photo)


admin.site.register(Tag)
