"""Template context every page needs from the social space."""

from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def notifications(request):
    """The unread-notification count in the header: one query, only for logged-in users, and only run when the
    page shows it (lazy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
