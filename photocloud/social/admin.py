from django.contrib import admin

from .models import Follow

admin.site.register(Follow, list_display=["follower", "followee", "created_at"], raw_id_fields=["follower", "followee"])
