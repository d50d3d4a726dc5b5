"""Account pages: register, log in (rate-limited), profile, avatar, personal API tokens, public profile."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from photocloud.core.pagination import page_of
from photocloud.library import selectors
from photocloud.library.imaging import ImageRejected

from . import services
from .forms import ProfileForm, RegisterForm, TokenForm
from .models import ApiToken, User
from .selectors import is_following


def rate_limited(request, exception):
    return render(request, "429.html", status=429)


@ratelimit(key="ip", rate="20/h", method="POST", block=True)
def register(request):
    if request.user.is_authenticated:
        return redirect("library:timeline")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Photocloud, {user.username}! Start by creating an album.")
        return redirect("library:album_create")
    return render(
        request, "accounts/register.html", {"form": form, "title": "Create your account", "submit_label": "Sign up"}
    )


@method_decorator(ratelimit(key="ip", rate="10/m", method="POST", block=True), name="post")
@method_decorator(ratelimit(key="post:username", rate="10/m", method="POST", block=True), name="post")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": "Log in", "submit_label": "Log in"}


@login_required
def profile_edit(request):
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        try:
            if form.cleaned_data["remove_avatar"]:
                services.remove_avatar(user)
            elif avatar := form.cleaned_data.get("avatar_file"):
                services.set_avatar(user, avatar)
        except ImageRejected as rejection:
            form.add_error("avatar_file", rejection.message)
        else:
            messages.success(request, "Profile saved.")
            return redirect("accounts:profile_edit")
    return render(
        request,
        "form_page.html",
        {"form": form, "title": "Edit profile", "cancel_url": reverse("people:profile", args=[request.user.username])},
    )


def avatar(request, username):
    user = get_object_or_404(User, username=username, is_active=True)
    if not user.avatar:
        raise Http404("No avatar.")
    response = FileResponse(default_storage.open(user.avatar, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=300"
    return response


def profile(request, username):
    owner = get_object_or_404(User, username=username, is_active=True)
    albums = selectors.albums_for_profile(request.user, owner)
    context = {
        "owner": owner,
        "page": page_of(request, albums, 24),
        "is_self": request.user == owner,
        "is_following": is_following(request.user, owner),
        "follower_count": owner.followers.count(),
        "following_count": owner.following.count(),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        token, new_key = ApiToken.issue(request.user, form.cleaned_data["name"])
        form = TokenForm()
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": request.user.api_tokens.all(), "new_key": new_key}
    )


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    messages.success(request, f"Token “{token.name}” revoked; clients using it can no longer connect.")
    return redirect("accounts:tokens")


def _form_page(view_class, title, **kwargs):
    """Django's password views rendered with the site's own simple form page."""
    return view_class.as_view(template_name="form_page.html", extra_context={"title": title}, **kwargs)


password_change = _form_page(
    auth_views.PasswordChangeView, "Change password", success_url=reverse_lazy("accounts:password_change_done")
)
password_change_done = _form_page(auth_views.PasswordChangeDoneView, "Password changed")
password_reset = ratelimit(key="ip", rate="5/h", method="POST", block=True)(
    _form_page(
        auth_views.PasswordResetView,
        "Reset password",
        success_url=reverse_lazy("accounts:password_reset_done"),
        email_template_name="accounts/password_reset_email.txt",
    )
)
password_reset_done = _form_page(auth_views.PasswordResetDoneView, "Check your e-mail")
password_reset_confirm = _form_page(
    auth_views.PasswordResetConfirmView, "Choose a new password", success_url=reverse_lazy("accounts:login")
)
