"""The social panel under an album or picture: likes, collect, comments, and "add to my album"."""

from django import template

from photocloud.library.access import can_edit

from .. import selectors, services
from ..forms import CommentForm, CopyForm

register = template.Library()
SHOWN_THREADS = 50  # newest comment threads shown under a target; the rest behind "show all"


@register.inclusion_tag("social/_panel.html", takes_context=True)
def social_panel(context, target):
    """Everything the panel shows, read through the selectors for the page's viewer."""
    user = context["request"].user
    kind = selectors.kind_of(target)
    panel = {
        "request": context["request"],
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "target": target,
        "kind": kind,
        "likes": selectors.like_summary(user, target),
        "all_comments": context["request"].GET.get("comments") == "all",
        "is_owner": can_edit(user, target),
        "comment_form": CommentForm(),
    }
    panel["comments"], panel["hidden_comments"] = selectors.comment_thread(
        target, limit=None if panel["all_comments"] else SHOWN_THREADS
    )
    if kind == "album":
        panel["collects"] = selectors.collect_summary(user, target)
    elif services.can_copy(user, target):
        panel["copy_form"] = CopyForm(user=user)
    return panel
