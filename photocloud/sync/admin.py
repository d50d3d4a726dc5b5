from django.contrib import admin

from .forms import ImportFolderForm
from .models import ImportEvent, ImportFolder, UploadSession


@admin.register(ImportFolder)
class ImportFolderAdmin(admin.ModelAdmin):
    form = ImportFolderForm
    list_display = [
        "path",
        "owner",
        "album",
        "mode",
        "enabled",
        "imported_count",
        "duplicate_count",
        "rejected_count",
        "pending_count",
        "last_activity_at",
    ]
    list_filter = ["enabled", "mode"]
    search_fields = ["path", "owner__username"]
    raw_id_fields = ["owner", "album"]
    readonly_fields = [
        "imported_count",
        "duplicate_count",
        "rejected_count",
        "pending_count",
        "last_scan_at",
        "last_activity_at",
        "last_error",
    ]


@admin.register(ImportEvent)
class ImportEventAdmin(admin.ModelAdmin):
    list_display = ["relative_path", "folder", "status", "reason", "created_at"]
    list_filter = ["status"]
    search_fields = ["relative_path", "folder__path"]
    raw_id_fields = ["photo"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "received", "size", "updated_at"]
    search_fields = ["sha256", "owner__username"]
    raw_id_fields = ["owner", "album"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
