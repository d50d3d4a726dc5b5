"""Template context every page needs from the social space."""


def notifications(request):
    """The unread-notification count shown in the header (filled in by the notifications feature)."""
    return {}
