import re

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from photocloud.accounts.models import ApiToken, User
from tests import images

PASSWORD = "a-long-Passw0rd!"


@pytest.mark.django_db
def test_register_logs_in_and_leads_to_album_creation(client):
    response = client.post(
        "/accounts/register/", {"username": "carol", "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/albums/new/"
    user = User.objects.get(username="carol")
    assert user.password.startswith(("argon2", "md5"))  # hashed, never stored in clear
    assert client.get("/library/").status_code == 200


@pytest.mark.django_db
def test_register_rejects_weak_password_with_message(client):
    response = client.post("/accounts/register/", {"username": "dave", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="dave").exists()


def test_login_logout(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/library/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/library/").status_code == 302  # back to the login page


def test_login_is_rate_limited(client, alice):
    for _ in range(10):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_profile_edit_with_avatar(client, alice):
    client.force_login(alice)
    avatar = SimpleUploadedFile("me.png", images.encode(images.photo("astronaut"), "PNG"))
    response = client.post(
        "/accounts/profile/",
        {"display_name": "Alice A.", "email": "a@example.org", "bio": "I <3 photos", "avatar_file": avatar},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.display_name == "Alice A."
    assert alice.avatar == f"avatars/{alice.pk}.jpg"  # named after the user, never after the upload
    served = client.get("/u/alice/avatar.jpg")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    page = client.get("/u/alice/").content.decode()
    assert "I &lt;3 photos" in page  # user text is escaped


def test_profile_rejects_a_broken_avatar(client, alice):
    client.force_login(alice)
    bad = SimpleUploadedFile("me.jpg", images.truncated_jpeg())
    response = client.post("/accounts/profile/", {"display_name": "A", "avatar_file": bad})
    assert response.status_code == 200
    assert "damaged" in response.content.decode()
    alice.refresh_from_db()
    assert alice.avatar == ""


def test_change_password(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "another-Passw0rd!", "new_password2": "another-Passw0rd!"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-Passw0rd!")


def test_reset_password_by_email(client, make_user):
    user = make_user("erin", email="erin@example.org")
    response = client.post("/accounts/password/reset/", {"email": "erin@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "fresh-Passw0rd!", "new_password2": "fresh-Passw0rd!"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-Passw0rd!")


def test_tokens_created_shown_once_and_revoked(client, alice):
    client.force_login(alice)
    page = client.post("/accounts/tokens/", {"name": "laptop sync"}).content.decode()
    key = re.search(r'value="(pc_[^"]+)"', page).group(1)
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash != key and token.key_hash == ApiToken.hash_key(key)  # only the hash is stored
    assert key not in client.get("/accounts/tokens/").content.decode()  # never shown again

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api.get("/api/me/")
    assert me.status_code == 200 and me.json()["username"] == "alice"

    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_tokens_through_the_api(api):
    created = api.post("/api/tokens/", {"name": "script"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("pc_")
    listed = api.get("/api/tokens/").json()["results"]
    assert {t["name"] for t in listed} == {"tests", "script"}
    assert all(t["key"] is None for t in listed)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert other.get("/api/me/").status_code == 200
    assert api.delete(f"/api/tokens/{created.json()['id']}/").status_code == 204
    assert other.get("/api/me/").status_code == 401


def test_cannot_revoke_someone_elses_token(client, alice, bob):
    token, _ = ApiToken.issue(bob, "bob's")
    client.force_login(alice)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_me_api_updates_profile_but_not_username(api):
    response = api.patch("/api/me/", {"display_name": "Ally", "username": "mallory"}, format="json")
    assert response.status_code == 400 and "cannot be changed" in response.json()["username"][0]  # not ignored
    response = api.patch("/api/me/", {"display_name": "Ally"}, format="json")
    assert response.json()["username"] == "alice" and response.json()["display_name"] == "Ally"


def test_follow_and_unfollow_through_page_and_api(client, api, alice, bob):
    client.force_login(bob)
    client.post("/u/alice/follow/", {"action": "follow"})
    assert alice.followers.filter(follower=bob).exists()
    assert "Unfollow" in client.get("/u/alice/").content.decode()
    client.post("/u/alice/follow/", {"action": "unfollow"})
    assert not alice.followers.exists()

    assert api.post("/api/users/bob/follow/").json()["followers"] == 1
    assert api.post("/api/users/alice/follow/").status_code == 400  # not yourself
    assert api.delete("/api/users/bob/follow/").json()["followers"] == 0
    assert api.post("/api/users/nobody/follow/").status_code == 404


def test_avatar_is_removed_from_storage(client, alice):
    client.force_login(alice)
    client.post("/accounts/profile/", {"display_name": "", "avatar_file": SimpleUploadedFile("a.jpg", images.jpeg())})
    alice.refresh_from_db()
    name = alice.avatar
    assert default_storage.exists(name)
    client.post("/accounts/profile/", {"display_name": "", "remove_avatar": "on"})
    assert not default_storage.exists(name)
