"""What the parser takes from pages, broken ones included."""

from photocloud.crawler.extract import parse_page


def test_images_links_and_words():
    page = parse_page(
        """<html><head><title>Cups &amp; mugs</title><base href="/shop/">
        <meta property="og:image" content="https://cdn.example/og.jpg"></head><body>
        <figure><img src="a.jpg" alt="A red cup"><figcaption>Our <b>red</b> cup</figcaption></figure>
        <img srcset="s.jpg 300w, l.jpg 1200w, m.jpg 800w" src="s.jpg" alt="Sizes">
        <img src="data:image/gif;base64,R0lGOD" data-src="lazy.webp" alt="Lazy">
        <picture><source srcset="p1.avif 1x, p2.avif 2x"><img src="p.jpg" alt="Pic"></picture>
        <a href="other.html#top">next</a> <a href="other.html">again</a> <a href="/full.PNG?v=2" title="Full">x</a>
        <a href="javascript:alert(1)">js</a> <a href="mailto:a@b.c">mail</a> <a href="ftp://x/y">ftp</a>
        <a href="ads.html" rel="sponsored nofollow">ad</a>
        """,
        "https://shop.example/shop/index.html",
    )
    assert page.title == "Cups & mugs" and not page.nofollow
    assert page.links == ["https://shop.example/shop/other.html"]
    found = {image.url: image for image in page.images}
    assert list(found) == [
        "https://cdn.example/og.jpg",
        "https://shop.example/shop/a.jpg",
        "https://shop.example/shop/l.jpg",
        "https://shop.example/shop/lazy.webp",
        "https://shop.example/shop/p.jpg",
        "https://shop.example/shop/p2.avif",
        "https://shop.example/full.PNG?v=2",
    ]
    assert (found["https://shop.example/shop/a.jpg"].alt, found["https://shop.example/shop/a.jpg"].caption) == (
        "A red cup",
        "Our red cup",
    )
    assert found["https://shop.example/full.PNG?v=2"].alt == "Full"


def test_broken_html_and_nofollow():
    page = parse_page(
        '<meta name="robots" content="noindex, nofollow"><title>x<p><img src="a.png" alt="unclosed<a href="b.html">',
        "http://h.example/",
    )
    assert page.nofollow
    assert parse_page("", "http://h.example/").images == []
    assert parse_page("\x00\xff<<<>>><img src=>", "http://h.example/").links == []


def test_links_no_url_parser_can_read_are_skipped_one_by_one():
    page = parse_page(
        '<a href="http://[zz]/">v6</a><img src="http://[zz]/a.jpg"><a href="ok.html">ok</a><img src="b.jpg">',
        "http://h.example/",
    )
    assert page.links == ["http://h.example/ok.html"]
    assert [image.url for image in page.images] == ["http://h.example/b.jpg"]
