"""What the social space does when a user logs in: tell them about the notifications waiting for them."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.urls import reverse
from django.utils.html import format_html

from .selectors import unread_count


@receiver(user_logged_in, dispatch_uid="social.waiting_notifications")
def waiting_notifications(sender, request, user, **kwargs):
    if request is None:
        return
    count = unread_count(user)
    if count:
        text = format_html(
            'You have <a href="{}">{} new notification{}</a>.',
            reverse("social:notifications"),
            count,
            "" if count == 1 else "s",
        )
        messages.info(request, text, fail_silently=True)
