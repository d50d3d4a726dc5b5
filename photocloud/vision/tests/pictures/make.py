# ruff: noqa: E501  (the Chinese text and the page style read better on one line each)
"""How the pictures beside this file were made (run once by hand; the results are committed, so tests need nothing
outside the repository). Needs Debian's renpy-demo, tuxpaint-stamps-default, openclipart-png, fonts-wqy-microhei and
chromium.

None of them comes from a source the default head is trained on (vision/training_data.py): another visual novel,
Tux Paint's cartoon stamps (the training data takes only its photographs), a font the training pages do not use for
these layouts, and a screenshot taken by a real browser. The two openclipart drawings and the two fruits are for the
near-duplicate tests only (the classifier's tests do not read them).
"""

import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).parent
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def _jpeg(image: Image.Image, name: str, side: int = 800) -> None:
    image = image.convert("RGB")
    image.thumbnail((side, side))
    image.save(HERE / name, quality=85)


def anime_frame() -> None:
    _jpeg(Image.open("/usr/share/games/renpy/demo/game/images/concert1.png"), "anime_frame.jpg")


def clipart_person() -> None:
    drawing = Image.open("/usr/share/tuxpaint/stamps/people/cartoon/mermaid.png").convert("RGBA")
    canvas = Image.new("RGB", (520, 520), "white")
    canvas.paste(drawing, (40, 35), drawing)
    _jpeg(canvas, "clipart_person.jpg")


def clipart_drawings() -> None:
    """Two openclipart line drawings on white, as the classifier's set lays them out: thin strokes whose crops were
    missed when resampling alone was read as an edit."""
    for source, name in (
        ("people/stickmen/sm_003.png", "clipart_stickmen.jpg"),
        ("people/yoga_architetto_francesc_01.png", "clipart_yoga.jpg"),
    ):
        drawing = Image.open(f"/usr/share/openclipart/png/{source}").convert("RGBA")
        canvas = Image.new("RGB", (max(drawing.size),) * 2, "white")
        canvas.paste(drawing, ((canvas.width - drawing.width) // 2, (canvas.height - drawing.height) // 2), drawing)
        _jpeg(canvas, name)


def small_fruits() -> None:
    """A red apple and a raspberry, each a tenth of the picture, in one place of the same surface (as the classifier's
    set lays Tux Paint's food stamps out): few pixels differ, but they hold the picture's detail."""
    import random

    from photocloud.vision.training_data import _background

    for stamp, name in (("apple_red", "fruit_apple.jpg"), ("raspberry", "fruit_raspberry.jpg")):
        canvas = _background(random.Random(0), 448)
        fruit = Image.open(f"/usr/share/tuxpaint/stamps/food/fruit/{stamp}.png").convert("RGBA")
        fruit.thumbnail((45, 45))
        canvas.paste(fruit, ((448 - fruit.width) // 2, (448 - fruit.height) * 2 // 5), fruit)
        canvas.save(HERE / name, quality=92)


def chinese_invoice() -> None:
    """A VAT invoice laid out like the real form: title, buyer and seller boxes, an item table, totals, a seal."""
    page = Image.new("RGB", (1400, 900), (252, 250, 244))
    draw = ImageDraw.Draw(page)
    font, big = ImageFont.truetype(FONT, 24), ImageFont.truetype(FONT, 44)
    brown = (140, 80, 40)
    draw.text((470, 30), "北京增值税电子普通发票", font=big, fill=brown)
    draw.text(
        (1000, 40), "发票代码：011002100511\n发票号码：48273615\n开票日期：2024年03月18日", font=font, fill=(30, 30, 30)
    )
    draw.rectangle((40, 170, 1360, 820), outline=brown, width=2)
    buyer = "购买方  名称：上海明远科技有限公司\n纳税人识别号：91310115MA1K3Y8X2Q\n地址、电话：上海市浦东新区张江路88号 021-58391234"
    draw.text((60, 185), buyer, font=font, fill=(30, 30, 30))
    draw.line((40, 300, 1360, 300), fill=brown, width=2)
    columns = ["货物或应税劳务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额"]
    xs = [60, 380, 540, 640, 760, 900, 1060, 1180]
    for x, name in zip(xs, columns, strict=True):
        draw.text((x, 315), name, font=font, fill=brown)
    rows = [
        ["*信息技术服务*软件维护费", "V2.1", "项", "1", "12000.00", "12000.00", "6%", "720.00"],
        ["*办公用品*打印纸", "A4 70g", "箱", "5", "150.00", "750.00", "13%", "97.50"],
        ["*电子设备*无线鼠标", "M330", "个", "10", "89.00", "890.00", "13%", "115.70"],
    ]
    for r, row in enumerate(rows):
        for x, value in zip(xs, row, strict=True):
            draw.text((x, 365 + 45 * r), value, font=font, fill=(30, 30, 30))
    draw.line((40, 560, 1360, 560), fill=brown, width=2)
    draw.text(
        (60, 575), "价税合计（大写）  壹万肆仟伍佰柒拾叁圆贰角整        （小写）¥14573.20", font=font, fill=(30, 30, 30)
    )
    seller = "销售方  名称：北京云图信息服务有限公司\n纳税人识别号：91110108MA01C2D3E4\n开户行及账号：中国工商银行北京中关村支行 0200 0045 0920 1234 567"
    draw.text((60, 640), seller, font=font, fill=(30, 30, 30))
    draw.text(
        (60, 840), "收款人：王丽      复核：李强      开票人：张敏      销售方：（章）", font=font, fill=(30, 30, 30)
    )
    draw.ellipse((1120, 620, 1300, 760), outline=(210, 40, 40), width=5)
    draw.text((1150, 675), "发票专用章", font=font, fill=(210, 40, 40))
    _jpeg(page, "chinese_invoice.jpg", 1200)


def chinese_receipt() -> None:
    """A taxi receipt photographed on a table: narrow thermal paper, slightly turned and blurred."""
    paper = Image.new("RGB", (330, 620), (246, 246, 240))
    draw = ImageDraw.Draw(paper)
    font = ImageFont.truetype(FONT, 20)
    lines = [
        "上海市出租汽车专用发票",
        "",
        "监督电话 12345",
        "车号 沪B·T5829",
        "证号 318746",
        "日期 2024-05-07",
        "上车 08:42",
        "下车 09:15",
        "单价 2.70元",
        "里程 14.6km",
        "等候 00:03:12",
        "金额 ¥58.40元",
        "",
        "谢谢乘坐 欢迎再次使用",
    ]
    for n, line in enumerate(lines):
        draw.text((30, 25 + 40 * n), line, font=font, fill=(40, 40, 60))
    table = Image.new("RGB", (560, 760), (120, 84, 60))
    table.paste(paper.rotate(4, expand=True, fillcolor=(120, 84, 60)), (100, 50))
    _jpeg(table.filter(ImageFilter.GaussianBlur(0.8)), "chinese_receipt.jpg")


PHONE_PAGE = """<!doctype html><meta charset="utf-8"><style>
body{margin:0;font:17px sans-serif;background:#ededed} header{background:#2e7d32;color:#fff;padding:14px 16px;font-size:20px}
.m{margin:12px;display:flex;gap:8px} .m.r{flex-direction:row-reverse} .a{width:40px;height:40px;border-radius:6px;background:#90a4ae}
.b{background:#fff;border-radius:8px;padding:9px 12px;max-width:250px} .r .b{background:#95ec69}
</style><header>项目讨论群 (5)</header>
<div class="m"><div class="a"></div><div class="b">明天上午十点开会，请大家准时参加。</div></div>
<div class="m r"><div class="a"></div><div class="b">收到，我会带上季度报告和预算表。</div></div>
<div class="m"><div class="a"></div><div class="b">Meeting room 3B, bring the slides please.</div></div>
<div class="m r"><div class="a"></div><div class="b">好的，没问题 👍</div></div>
<div class="m"><div class="a"></div><div class="b">发票已经上传到共享文件夹了，记得核对金额。</div></div>
<div class="m r"><div class="a"></div><div class="b">谢谢！周五之前给你回复。</div></div>"""


def phone_screenshot() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "chat.html").write_text(PHONE_PAGE, encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--hide-scrollbars",
                f"--screenshot={shot}",
                "--window-size=390,844",
                "--force-device-scale-factor=2",
                f"file://{tmp}/chat.html",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _jpeg(Image.open(shot), "phone_screenshot.jpg", 1000)


if __name__ == "__main__":
    anime_frame()
    clipart_person()
    clipart_drawings()
    small_fruits()
    chinese_invoice()
    chinese_receipt()
    phone_screenshot()
