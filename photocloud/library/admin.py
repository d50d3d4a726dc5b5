from django.contrib import admin
from django.db.models import Q

from . import pipeline, tallies
from .models import Album, Photo, Tag


def _what(form) -> str:
    return "category" if {"category", "album"} & set(form.changed_data) else "fields"


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "category", "access", "created_at"]
    list_filter = ["access", "category"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner", "cover"]

    def delete_model(self, request, obj):
        """Its pictures go with it (on_delete CASCADE): the tallies follow, as with the services."""
        self.delete_queryset(request, Album.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # With the other files of their stacks, whose home may be another album: they are listed once the cover goes.
        affected = Photo.objects.filter(Q(album__in=queryset) | Q(stack_cover__album__in=queryset))
        with tallies.changing(affected.values_list("pk", flat=True)):
            super().delete_queryset(request, queryset)

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

    def save_model(self, request, obj, form, change):
        """A date, album, owner or category changed here moves the picture in the tallies, as the services do."""
        if not change:
            super().save_model(request, obj, form, change)
            tallies.added([obj.pk])
            return
        with tallies.changing([obj.pk]):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Photo.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # With the other files of their stacks: a stack's cover deleted leaves them listed (stack_cover SET_NULL).
        ids = list(queryset.values_list("pk", flat=True))
        with tallies.changing([*ids, *Photo.objects.filter(stack_cover__in=ids).values_list("pk", flat=True)]):
            super().delete_queryset(request, queryset)

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
