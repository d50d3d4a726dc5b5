from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from photocloud.accounts.models import User

from . import services


@login_required
@require_POST
def follow(request, username):
    followee = get_object_or_404(User, username=username, is_active=True)
    if request.POST.get("action") == "unfollow":
        services.unfollow(request.user, followee)
        messages.info(request, f"You no longer follow {followee.shown_name}.")
    else:
        try:
            services.follow(request.user, followee)
            messages.success(request, f"You now follow {followee.shown_name}.")
        except services.FollowError as error:
            messages.error(request, str(error))
    return redirect("people:profile", username=username)
