from django.contrib import admin

from .models import Collect, Comment, Like, Notification, PhotoView

admin.site.register(
    Like, list_display=["user", "album", "photo", "created_at"], raw_id_fields=["user", "album", "photo"]
)
admin.site.register(Collect, list_display=["user", "album", "created_at"], raw_id_fields=["user", "album"])
admin.site.register(
    Comment,
    list_display=["author", "album", "photo", "created_at", "edited_at"],
    search_fields=["body"],
    raw_id_fields=["author", "album", "photo", "parent"],
)
admin.site.register(
    Notification,
    list_display=["recipient", "actor", "verb", "created_at", "read_at"],
    raw_id_fields=["recipient", "actor", "album", "photo", "comment"],
)
admin.site.register(
    PhotoView, list_display=["user", "photo", "count", "last_viewed_at"], raw_id_fields=["user", "photo"]
)
