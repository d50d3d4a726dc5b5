"""The Undo toast: a destructive action says where the pictures went, with an Undo button for a few seconds.

The action stores the offer in the session (`offer`); the next page shows it once (`context`, a context processor,
and base.html). Undo posts the ids to the Trash's restore view, so it works without JavaScript too.
"""


def offer(request, what: str, photos=(), albums=()) -> None:
    """`what` moved to the Trash; Undo restores these pictures and albums."""
    request.session["undo"] = {
        "message": f"{what} moved to the Trash.",
        "photos": [str(pk) for pk in photos],
        "albums": [str(pk) for pk in albums],
    }


def context(request):
    session = getattr(request, "session", None)
    if session is None or "undo" not in session:
        return {}
    return {"undo": session.pop("undo")}
