"""Acting like a user in the pages: sign up, create and edit albums, drop or pick files, wait for images."""

import base64
import re

PASSWORD = "Sturdy-e2e-Passw0rd!"


def register(page, username, password=PASSWORD):
    """Sign up through the registration page; the new user lands, logged in, on the new-album form."""
    page.goto("/accounts/register/")
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(f"{username}@example.org")
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/albums/new/")
    return username


def create_album(page, title, category="landscape", tags="", description="", access="Everyone"):
    """Fill in the new-album form; returns the album's id (from the page it redirects to)."""
    page.goto("/albums/new/")
    page.locator("#id_title").fill(title)
    page.locator("#id_category").fill(category)
    page.locator("#id_tags").fill(tags)
    page.locator("#id_description").fill(description)
    page.get_by_label(access, exact=True).check()
    page.get_by_role("button", name="Create album").click()
    page.wait_for_url(re.compile(r"/albums/[0-9a-f-]{36}/$"))
    return album_id(page)


def album_id(page):
    return re.search(r"/albums/([0-9a-f-]{36})/", page.url).group(1)


def set_access(page, album, access):
    """Change the album's access level with the Edit button and the album form."""
    page.goto(f"/albums/{album}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(f"**/albums/{album}/edit/")
    page.get_by_label(access, exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/albums/{album}/")
    page.get_by_text("Album saved.").wait_for()


JPEG = "image/jpeg"


def drop_files(page, files, target="#dropzone"):
    """Drag and drop files onto `target` as a desktop file manager would: a DataTransfer holding real File objects.

    `files` is a list of (name, bytes) or (name, bytes, mime type).
    """
    payload = [
        {"name": f[0], "data": base64.b64encode(f[1]).decode("ascii"), "type": f[2] if len(f) > 2 else JPEG}
        for f in files
    ]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const binary = atob(f.data);
                const bytes = new Uint8Array(binary.length);
                for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
                transfer.items.add(new File([bytes], f.name, { type: f.type, lastModified: Date.now() }));
            }
            return transfer;
        }""",
        payload,
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(target, event, {"dataTransfer": transfer})
    transfer.dispose()


def pick_files(page, paths):
    """Choose files with the uploader's file input (what the "choose files" button opens)."""
    page.set_input_files("#file-input", [str(p) for p in paths])


def queue_item(page, name):
    """The uploader's queue entry for the file called `name`."""
    return page.locator("#queue li").filter(has=page.locator(f'span.name[title="{name}"]'))


def upload_queue(page, expected_stored):
    """Click Upload and wait until every queued file has its final result."""
    page.locator("#upload-start").click()
    page.locator("#upload-summary").filter(has_text=re.compile(rf"^{expected_stored} stored")).wait_for()
    # Stored files are watched until processed; with the ImmediateBackend they are ready on the first poll.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#queue .result')].every("
        "r => !/processing|Uploading|Ready to upload/.test(r.textContent))"
    )


def wait_images_loaded(page, selector):
    """Wait until every image matched by `selector` has loaded real pixels; returns how many there are."""
    page.locator(selector).first.wait_for()
    page.wait_for_function(
        """selector => {
            const images = [...document.querySelectorAll(selector)];
            images.forEach(img => { img.loading = "eager"; });
            return images.length > 0 && images.every(img => img.complete && img.naturalWidth > 0);
        }""",
        arg=selector,
    )
    return page.locator(selector).count()


def status_of(context, url):
    """HTTP status of a GET with this context's cookies (as if the visitor pasted the URL)."""
    response = context.request.get(url, max_redirects=0)
    status = response.status
    response.dispose()
    return status


def log_in(page, username, password=PASSWORD):
    """Sign in through the log-in page."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# axe-core, installed from the npm registry (pinned) by scripts/install.sh into the virtualenv; PHOTOCLOUD_AXE
# overrides where it is.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_script():
    import os
    import sys
    from pathlib import Path

    path = Path(
        os.environ.get("PHOTOCLOUD_AXE") or Path(sys.prefix) / "node" / "node_modules" / "axe-core" / "axe.min.js"
    )
    if not path.exists():
        import pytest

        pytest.fail(f"axe-core is not installed at {path}: run scripts/install.sh (it installs it with npm).")
    return path


def axe_violations(page) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it is now, one line per rule and element."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(axe_script()))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [
        f"{page.url} [{violation['id']}] {violation['help']}: {node['target']} {node.get('failureSummary', '')[:160]}"
        for violation in result["violations"]
        for node in violation["nodes"][:3]
    ]
