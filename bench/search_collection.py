"""Builds the judged search collection: a realistic library of several hundred pictures from Debian packages and
pictures rendered on the spot, with what each one shows written down by hand (its *concepts*), for
bench/search_quality.py and bench/data/search_judgments.tsv.

Sources (Debian 12 packages; see bench/README.md, "Search quality"):
- photographs: `opencv-doc` examples (animals, fruit, people, buildings, street signs, a car, a circuit board…),
  scikit-image's and scikit-learn's samples (astronaut, cameraman, cat, coffee, rocket, the Summer Palace, a
  flower…), wallpapers from `lomiri-wallpapers-16.04` and `mate-backgrounds` that the classifier was NOT trained on
  (a beach under a bridge, flowers, a living room, paint brushes…), and eight wallpapers it WAS trained on
  (`TUNED`: the only sea, mountain, forest and dog-on-a-porch photographs there are in Debian's packages);
  each photograph three times (whole, a crop, a darker tilted copy), as a phone keeps several shots;
- documents: English and Chinese pages (invoices, receipts, notices, menus, tickets…) rendered with DejaVu,
  Liberation, Noto Sans/Serif CJK and WenQuanYi Micro Hei, some tilted and shaded like a photographed page; three
  pages of ExifTool's MIE specification PDF (`libimage-exiftool-perl`) rendered by `pdftoppm` (poppler-utils);
- screenshots drawn as app windows (chat, weather, calendar, error dialog, code, settings, shopping cart);
- drawings: Noto Color Emoji (`fonts-noto-color-emoji`) pictures enlarged on plain backgrounds, charts drawn here,
  and opencv-doc's drawings (a painting, graffiti, an anime girl, a robot, a 3D render, shapes).

File names are a camera's or a scanner's (IMG_0001.jpg, scan_0001.jpg): a file name tells search nothing, as in a real
library. Albums mix subjects (a trip album holds beaches, streets and meals; an album tagged "pets" holds the garden
too), so that album text alone cannot answer a query.

    sudo apt-get install opencv-doc lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds \\
        fonts-noto-cjk fonts-wqy-microhei fonts-noto-color-emoji poppler-utils libimage-exiftool-perl
    python bench/search_collection.py DIR     # writes DIR/*.jpg|png and DIR/manifest.json
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

OPENCV = "/usr/share/doc/opencv-doc/examples"
SKIMAGE = None  # found at run time (the installed scikit-image)
BACKGROUNDS = "/usr/share/backgrounds"
FONTS = {
    "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "serif": "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "cjk-serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "wqy": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "emoji": "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
}

# Albums: (key, title, description, tags). Each source below names its album.
ALBUMS = [
    ("trip", "Belgium trip 2024", "A week in Leuven: the old town, the coast and a lot of good food", ["travel"]),
    ("pets", "Garden and pets", "Our cat, the dogs and whatever grows in the garden", ["pets", "garden"]),
    ("home", "Phone camera", "", []),
    ("china", "中国之旅 2023", "北京颐和园和城市风光 Summer Palace", ["旅行"]),
    ("nature", "Nature walks", "Mountains, flowers and the sea", ["nature"]),
    ("paper", "Paperwork", "Scanned bills, letters and tickets", ["documents"]),
    ("zh-paper", "工作文件", "公司的通知、发票和合同", ["文件"]),
    ("screens", "Screenshots", "", []),
    ("drawings", "Drawings", "Clip art and the kids' drawings", ["art"]),
]

# Photographs: (key, path, album, concepts). Concepts were written down by looking at each picture.
_O, _B = OPENCV + "/data", BACKGROUNDS
PHOTOS = [
    ("plant", f"{OPENCV}/alphamat/input_images/plant.jpg", "home", "plant potted-plant green indoor"),
    ("aerial1", f"{_O}/aero1.jpg", "trip", "aerial city town landscape"),
    ("aerial3", f"{_O}/aero3.jpg", "trip", "aerial city town landscape"),
    ("aloe", f"{_O}/aloeL.jpg", "pets", "plant potted-plant aloe green"),
    ("apple", f"{_O}/apple.jpg", "home", "apple fruit food red"),
    ("baboon", f"{_O}/baboon.jpg", "home", "monkey baboon animal face-animal"),
    ("people-hall", f"{_O}/basketball1.png", "home", "person people man group indoor"),
    ("circuit", f"{_O}/board.jpg", "home", "circuit-board electronics green"),
    ("hotel-building", f"{_O}/building.jpg", "trip", "building architecture hotel modern"),
    ("butterfly", f"{_O}/butterfly.jpg", "pets", "butterfly insect animal"),
    ("dog-pekingese", f"{_O}/chicky_512.png", "pets", "dog animal pet"),
    ("fruits", f"{_O}/fruits.jpg", "trip", "fruit orange lemon kiwi food"),
    ("palace", f"{_O}/home.jpg", "trip", "palace building architecture sky blue"),
    ("leuven-street", f"{_O}/leuvenA.jpg", "trip", "street town old-town building architecture"),
    ("car", f"{_O}/licenseplate_motion.jpg", "home", "car vehicle"),
    ("football", f"{_O}/messi5.jpg", "home", "person man football sport stadium"),
    ("orange", f"{_O}/orange.jpg", "home", "orange fruit food"),
    ("squirrel", f"{_O}/squirrel_cls.jpg", "pets", "squirrel animal tree"),
    ("robin", f"{OPENCV}/hfs/data/000.jpg", "pets", "bird robin animal"),
    ("tree", f"{OPENCV}/hfs/data/002.jpg", "nature", "tree grass field sky landscape blue green"),
    ("no-parking", f"{OPENCV}/text/scenetext01.jpg", "trip", "sign street parking car text-sign"),
    ("sports-sign", f"{OPENCV}/text/scenetext02.jpg", "trip", "sign street text-sign"),
    ("copy-centre", f"{OPENCV}/text/scenetext03.jpg", "trip", "shop street sign building text-sign"),
    ("yellow-house", f"{OPENCV}/text/scenetext04.jpg", "trip", "building house street palm"),
    ("barrier", f"{OPENCV}/text/scenetext05.jpg", "trip", "street parking sign text-sign"),
    ("gallery-shop", f"{OPENCV}/text/scenetext06.jpg", "trip", "shop street building town car text-sign"),
    ("hotel-sign", f"{OPENCV}/text/scenetext_segmented_word01.jpg", "trip", "hotel sign text-sign flower"),
    ("stationery", f"{OPENCV}/text/scenetext_segmented_word02.jpg", "trip", "shop stationery sign text-sign"),
    ("taxi-sign", f"{OPENCV}/text/scenetext_segmented_word03.jpg", "trip", "sign text-sign taxi"),
    ("fosters", f"{OPENCV}/text/scenetext_segmented_word04.jpg", "trip", "sign text-sign beer"),
    ("projector", f"{OPENCV}/text/scenetext_segmented_word05.jpg", "home", "projector electronics text-sign"),
    ("astronaut", "skimage:astronaut.png", "home", "person woman face portrait astronaut space"),
    ("cameraman", "skimage:camera.png", "home", "person man camera photographer"),
    ("cat", "skimage:chelsea.png", "pets", "cat animal pet face-animal"),
    ("coffee", "skimage:coffee.png", "trip", "coffee drink cup food red"),
    ("coins", "skimage:coins.png", "home", "coins money"),
    ("hubble", "skimage:hubble_deep_field.jpg", "home", "space stars galaxy night-sky"),
    ("moon", "skimage:moon.png", "home", "moon space"),
    ("motorcycle", "skimage:motorcycle_left.png", "home", "motorcycle vehicle red"),
    ("rocket", "skimage:rocket.jpg", "home", "rocket space launch night-sky"),
    ("summer-palace", "sklearn:china.jpg", "china", "temple pagoda palace building architecture china"),
    ("dahlia", "sklearn:flower.jpg", "nature", "flower orange-flower plant"),
    ("beach-bridge", f"{_B}/Bridge_by_Sander_Klootwijk.jpg", "trip", "beach sea shore sky bridge landscape blue"),
    ("paint-brushes", f"{_B}/Picture_1A_by_freespace.jpg", "home", "paint-brush art colourful"),
    ("living-room", f"{_B}/Wine_by_Jakkub_Mede.jpg", "home", "room indoor wine bottle drum"),
    ("dandelion-field", f"{_B}/seeding_by_Clements_Engelhardt.jpg", "nature", "dandelion flower field grass"),
    ("water-drop", f"{_B}/mate/nature/Aqua.jpg", "nature", "water drop"),
    ("green-leaf", f"{_B}/mate/nature/Blinds.jpg", "pets", "leaf plant green"),
    ("orange-flower", f"{_B}/mate/nature/FreshFlower.jpg", "pets", "flower orange-flower plant"),
    ("red-flower", f"{_B}/mate/nature/Garden.jpg", "pets", "flower red plant garden"),
    ("grass", f"{_B}/mate/nature/GreenMeadow.jpg", "pets", "grass green plant"),
    ("raindrops", f"{_B}/mate/nature/RainDrops.jpg", "nature", "leaf water drop rain green plant"),
    ("seeds", f"{_B}/mate/nature/TwoWings.jpg", "nature", "dandelion flower plant"),
    ("wood", f"{_B}/mate/nature/Wood.jpg", "home", "wood texture"),
    ("yellow-flower", f"{_B}/mate/nature/YellowFlower.jpg", "nature", "flower yellow plant"),
]
# Wallpapers the default classifier was trained on (photocloud/vision/data/DATA.md): kept apart in the figures.
TUNED = [
    ("stormy-sea", f"{_B}/mate/nature/Storm.jpg", "trip", "sea storm cloud sky seaside landscape"),
    ("dunes", f"{_B}/mate/nature/Dune.jpg", "trip", "dune grass sea seaside beach landscape"),
    ("mountain-meadow", f"{_B}/aitzgorri_by_Aitzol_Berasategi.jpg", "nature", "mountain meadow landscape autumn"),
    ("snowy-peaks", f"{_B}/picosdeeuropa_by_Aitzol_Berasategi.jpg", "nature", "mountain snow landscape path"),
    ("forest-stream", f"{_B}/life_by_Aitzol_Berasategi.jpg", "nature", "forest stream water rock landscape"),
    ("sunset-hill", f"{_B}/sunset_by_Aitzol_Berasategi.jpg", "nature", "sunset sun hill landscape"),
    ("dogs-porch", f"{_B}/friends_by_Aitzol_Berasategi.jpg", "pets", "dog animal pet house"),
    ("nuthatch", f"{_B}/Kleiber_by_Lukas_Baubkus.jpg", "pets", "bird animal tree"),
]
# Drawings that opencv-doc and scikit-image ship: (key, path, concepts).
DRAWINGS = [
    ("starry-night", f"{_O}/starry_night.jpg", "painting art night-sky drawing"),
    ("graffiti", f"{_O}/graf1.png", "graffiti art drawing"),
    ("anime-girl", f"{OPENCV}/fuzzy/input.png", "drawing cartoon girl-drawing"),
    ("robot", f"{_O}/ml.png", "drawing robot cartoon"),
    ("suzanne", f"{_O}/Blender_Suzanne1.jpg", "render 3d monkey-drawing"),
    ("shapes", f"{_O}/pic3.png", "drawing shapes"),
    ("horse-silhouette", "skimage:horse.png", "horse drawing silhouette"),
    ("map", f"{OPENCV}/ximgproc/stanford.png", "map screenshot"),
    ("sudoku", f"{_O}/sudoku.png", "sudoku puzzle newspaper document"),
    ("cards", f"{_O}/cards.png", "playing-cards drawing"),
]
# Emoji as clip art: (key, emoji, concepts, background).
EMOJI = [
    ("cat-face", "🐱", "cat cat-drawing drawing", "#fde9c9"),
    ("cat-full", "🐈", "cat cat-drawing drawing", "#ffffff"),
    ("dog-face", "🐶", "dog dog-drawing drawing", "#d8ecff"),
    ("dog-full", "🐕", "dog dog-drawing drawing", "#ffffff"),
    ("horse-face", "🐴", "horse horse-drawing drawing", "#e8f5e0"),
    ("panda", "🐼", "panda animal-drawing drawing", "#ffffff"),
    ("fish", "🐟", "fish animal-drawing drawing", "#cfe8ff"),
    ("bird", "🐦", "bird bird-drawing drawing", "#ffffff"),
    ("pizza", "🍕", "pizza food-drawing drawing", "#fff3d6"),
    ("hamburger", "🍔", "hamburger food-drawing drawing", "#ffffff"),
    ("noodles", "🍜", "noodles food-drawing drawing", "#ffe9e0"),
    ("cake", "🎂", "cake birthday food-drawing drawing", "#ffffff"),
    ("red-apple", "🍎", "apple fruit-drawing drawing red", "#ffffff"),
    ("house", "🏠", "house building-drawing drawing", "#e0f0ff"),
    ("car-drawing", "🚗", "car vehicle-drawing drawing red", "#ffffff"),
    ("bicycle", "🚲", "bicycle vehicle-drawing drawing", "#f0f0f0"),
    ("airplane", "✈️", "airplane vehicle-drawing drawing", "#d6ecff"),
    ("sun", "☀️", "sun sun-drawing drawing", "#bfe3ff"),
    ("tree-drawing", "🌳", "tree tree-drawing drawing", "#ffffff"),
    ("rose", "🌹", "rose flower flower-drawing drawing red", "#ffffff"),
    ("sunflower", "🌻", "sunflower flower flower-drawing drawing yellow", "#e6f7ff"),
    ("beach-drawing", "🏖️", "beach beach-drawing drawing", "#ffffff"),
    ("mountain-drawing", "🏔️", "mountain mountain-drawing drawing snow", "#ffffff"),
    ("smiley", "😀", "smiley face-drawing drawing", "#ffffff"),
    ("heart", "❤️", "heart drawing red", "#ffffff"),
]

# English pages: (key, title line, lines). Each is rendered in several looks.
EN_DOCS = [
    (
        "invoice",
        "INVOICE No. 2024-0412",
        [
            "Northwind Trading Ltd, 12 Harbour Road, Bristol",
            "Bill to: Anna Schmidt",
            "Date: 12 April 2024",
            "Description                Qty     Amount",
            "Office chairs               4     640.00",
            "Standing desk               1     410.00",
            "Delivery                    1      35.00",
            "Total due (EUR)                 1085.00",
            "Payment within 30 days. Thank you for your business.",
        ],
    ),
    (
        "receipt",
        "GREEN MARKET SUPERSTORE",
        [
            "Receipt 88213   2024-05-03 18:42",
            "Milk 1L                      1.19",
            "Bread wholemeal              2.49",
            "Bananas 1kg                  1.89",
            "Coffee beans 500g            7.99",
            "Cheddar cheese               3.45",
            "TOTAL                       17.01",
            "Paid by card. Thank you for shopping with us!",
        ],
    ),
    (
        "meeting-notice",
        "MEETING NOTICE",
        [
            "The quarterly staff meeting will be held",
            "on Friday 14 June at 10:00 in Room 204.",
            "Agenda: budget review, summer schedule,",
            "new security badges.",
            "Please confirm your attendance by Wednesday.",
            "Human Resources Department",
        ],
    ),
    (
        "restaurant-menu",
        "TRATTORIA DA MARIO - MENU",
        [
            "Starters",
            "Bruschetta with tomatoes             6.50",
            "Minestrone soup                      5.00",
            "Pizza and pasta",
            "Pizza Margherita                     9.00",
            "Spaghetti carbonara                 11.50",
            "Lasagne al forno                    12.00",
            "Desserts",
            "Tiramisu                             6.00",
        ],
    ),
    (
        "train-ticket",
        "RAILWAY TICKET",
        [
            "From: Brussels Central    To: Leuven",
            "Date: 21 July 2024    Departure 09:14",
            "Coach 5   Seat 42   Second class",
            "Adult single   Price: 5.40 EUR",
            "Valid only on the date shown",
        ],
    ),
    (
        "boarding-pass",
        "BOARDING PASS",
        [
            "Passenger: CHEN / WEI MR",
            "Flight BA 0857   London Heathrow -> Prague",
            "Gate B32   Boarding 07:25   Seat 17C",
            "Please be at the gate 30 minutes before departure",
        ],
    ),
    (
        "recipe",
        "RECIPE: APPLE PIE",
        [
            "Ingredients: 6 apples, 200 g flour, 100 g butter,",
            "80 g sugar, 1 egg, cinnamon.",
            "1. Peel and slice the apples.",
            "2. Make the pastry and line the dish.",
            "3. Bake for 45 minutes at 180 degrees.",
        ],
    ),
    (
        "lease",
        "RESIDENTIAL LEASE AGREEMENT",
        [
            "This agreement is made between the landlord,",
            "Mr. Peter Jones, and the tenant, Ms. Laura Green.",
            "The apartment at 5 Elm Street is let for twelve months",
            "at a monthly rent of 950 pounds.",
            "Signed: ______________________",
        ],
    ),
    (
        "concert",
        "SUMMER JAZZ CONCERT",
        [
            "Live in the city park",
            "Saturday 10 August, 8 pm",
            "Tickets 15 dollars at the door",
            "Food trucks and drinks available",
        ],
    ),
    (
        "medical",
        "MEDICAL REPORT",
        [
            "Patient: John Miller    Age: 46",
            "Blood pressure: 128/84",
            "Cholesterol: normal",
            "Recommendation: more exercise, check again in one year.",
            "Dr. Sarah Brown, City Hospital",
        ],
    ),
    (
        "certificate",
        "CERTIFICATE OF COMPLETION",
        [
            "This certifies that",
            "Maria Lopez",
            "has completed the course in First Aid",
            "on 3 March 2024",
        ],
    ),
    (
        "parcel",
        "PARCEL DELIVERY NOTE",
        [
            "Tracking number: 4471 2290 8812",
            "Recipient: Tom Harris, 44 Queen Street, Leeds",
            "Weight 2.3 kg   Signature required",
            "We tried to deliver your parcel today.",
        ],
    ),
]

# Chinese pages (and two mixed-language ones): (key, title, lines).
ZH_DOCS = [
    (
        "zh-meeting",
        "会议通知",
        [
            "各部门负责人：",
            "公司定于六月十四日上午十点在三楼会议室",
            "召开季度工作会议，讨论预算和暑期安排。",
            "请准时参加，不得缺席。",
            "行政部  2024年6月10日",
        ],
    ),
    (
        "zh-invoice",
        "增值税普通发票",
        [
            "发票代码：011002300411  发票号码：08812233",
            "购买方：北京星辰科技有限公司",
            "货物名称：办公椅  数量：4  金额：2560.00",
            "价税合计（大写）：贰仟伍佰陆拾元整",
            "开票日期：2024年4月12日",
        ],
    ),
    (
        "zh-receipt",
        "超市购物小票",
        [
            "华联超市  收银员：王丽",
            "牛奶 1升            8.50",
            "面包                12.00",
            "苹果 1公斤          15.80",
            "合计               36.30",
            "谢谢惠顾，欢迎再次光临",
        ],
    ),
    (
        "zh-menu",
        "川菜馆菜单",
        [
            "麻婆豆腐        28元",
            "宫保鸡丁        36元",
            "水煮鱼          58元",
            "回锅肉          42元",
            "米饭             2元",
        ],
    ),
    (
        "zh-holiday",
        "放假通知",
        [
            "根据国家规定，国庆节放假安排如下：",
            "十月一日至七日放假调休，共七天。",
            "九月二十九日（星期日）上班。",
            "祝大家节日快乐！",
        ],
    ),
    (
        "zh-train",
        "火车票",
        [
            "北京南站  G101次  上海虹桥站",
            "2024年07月21日 08:00开  05车12A号",
            "二等座  ¥553.0元",
            "限乘当日当次车",
        ],
    ),
    (
        "zh-lease",
        "房屋租赁合同",
        [
            "出租方（甲方）：李明",
            "承租方（乙方）：张华",
            "甲方将位于上海市徐汇区的住房出租给乙方居住，",
            "租期一年，每月租金四千五百元。",
        ],
    ),
    (
        "zh-medical",
        "体检报告",
        [
            "姓名：刘强  性别：男  年龄：46岁",
            "血压：128/84  血糖：正常",
            "医生建议：加强锻炼，一年后复查。",
            "北京协和医院体检中心",
        ],
    ),
    (
        "zh-school",
        "课程表",
        [
            "星期一：语文  数学  英语  体育",
            "星期二：数学  科学  音乐  美术",
            "星期三：语文  英语  历史  地理",
        ],
    ),
    (
        "zh-express",
        "快递单",
        [
            "顺丰速运  运单号：SF1234567890",
            "寄件人：陈伟  广州市天河区",
            "收件人：赵敏  杭州市西湖区",
            "物品：书籍  重量：2公斤",
        ],
    ),
    (
        "mixed-notice",
        "Office Notice 办公室通知",
        [
            "The printer on the second floor is broken.",
            "二楼的打印机坏了，请使用三楼的打印机。",
            "IT Support 技术支持",
        ],
    ),
    (
        "mixed-menu",
        "Coffee Menu 咖啡菜单",
        [
            "Latte 拿铁        32",
            "Cappuccino 卡布奇诺  30",
            "Green tea 绿茶     25",
        ],
    ),
]
DOC_CONCEPTS = {
    "invoice": "document text invoice bill payment furniture",
    "receipt": "document text receipt shopping groceries milk bread coffee",
    "meeting-notice": "document text notice meeting",
    "restaurant-menu": "document text menu restaurant pizza pasta",
    "train-ticket": "document text ticket train travel-document",
    "boarding-pass": "document text ticket flight boarding-pass travel-document",
    "recipe": "document text recipe apple cooking",
    "lease": "document text contract lease rent",
    "concert": "document text poster concert music",
    "medical": "document text medical-report health",
    "certificate": "document text certificate",
    "parcel": "document text parcel delivery",
    "zh-meeting": "document text chinese-text notice meeting",
    "zh-invoice": "document text chinese-text invoice bill furniture",
    "zh-receipt": "document text chinese-text receipt shopping groceries milk bread",
    "zh-menu": "document text chinese-text menu restaurant tofu chinese-food",
    "zh-holiday": "document text chinese-text notice holiday",
    "zh-train": "document text chinese-text ticket train travel-document",
    "zh-lease": "document text chinese-text contract lease rent",
    "zh-medical": "document text chinese-text medical-report health",
    "zh-school": "document text chinese-text timetable school",
    "zh-express": "document text chinese-text parcel delivery",
    "mixed-notice": "document text chinese-text notice printer",
    "mixed-menu": "document text chinese-text menu coffee drink-menu",
    "pdf-mie": "document text specification manual",
}

# Screenshots: (key, title, lines, concepts).
SCREENS = [
    (
        "chat",
        "Messages - Family",
        ["Mum: Dinner at 7 tonight?", "Me: Yes! Shall I bring dessert?", "Dad: The dog needs a walk first"],
        "screenshot chat messages",
    ),
    (
        "chat-zh",
        "微信 - 家人群",
        ["妈妈：今晚七点吃饭", "我：好的，我带蛋糕", "爸爸：先去遛狗"],
        "screenshot chat messages chinese-text",
    ),
    (
        "weather",
        "Weather",
        ["Beijing   Sunny   25°C", "Tomorrow: cloudy 22°C", "Saturday: rain 18°C"],
        "screenshot weather",
    ),
    (
        "weather-zh",
        "天气预报",
        ["上海  晴  26°C", "明天：多云  23°C", "周六：小雨  19°C"],
        "screenshot weather chinese-text",
    ),
    (
        "calendar",
        "Calendar - June 2024",
        ["Mon 10  Dentist appointment 9:00", "Wed 12  Team lunch", "Fri 14  Quarterly meeting 10:00"],
        "screenshot calendar",
    ),
    (
        "error",
        "Error",
        ["Error: the file could not be found.", "Check the path and try again.", "[ OK ]   [ Cancel ]"],
        "screenshot error-message",
    ),
    (
        "code",
        "editor - main.py",
        ["def greet(name):", '    print("Hello, " + name)', "", "for user in users:", "    greet(user)"],
        "screenshot code programming",
    ),
    (
        "settings",
        "Settings",
        ["Wi-Fi: connected", "Bluetooth: off", "Battery saver: on", "Display brightness 80%"],
        "screenshot settings",
    ),
    (
        "cart",
        "Shopping cart",
        ["Running shoes   59.99", "Rain jacket     89.00", "Total 148.99", "[ Checkout ]"],
        "screenshot shopping online-shop",
    ),
]
CHARTS = [
    ("bar-chart", "bar", "chart graph bar-chart drawing"),
    ("pie-chart", "pie", "chart graph pie-chart drawing"),
    ("line-chart", "line", "chart graph line-chart drawing"),
]


def _resolve(path: str) -> Path:
    if path.startswith("skimage:"):
        import skimage

        return Path(skimage.__file__).parent / "data" / path.split(":", 1)[1]
    if path.startswith("sklearn:"):
        import sklearn

        return Path(sklearn.__file__).parent / "datasets" / "images" / path.split(":", 1)[1]
    return Path(path)


def _photo_versions(image: Image.Image, rng: random.Random) -> list[Image.Image]:
    """Three shots of one scene: the whole picture, a crop, and a darker, slightly tilted copy."""
    image = image.convert("RGB")
    image.thumbnail((1600, 1600))
    width, height = image.size
    share = rng.uniform(0.7, 0.85)
    left, top = rng.randint(0, int(width * (1 - share))), rng.randint(0, int(height * (1 - share)))
    crop = image.crop((left, top, left + int(width * share), top + int(height * share)))
    tilted = ImageEnhance.Brightness(image).enhance(rng.uniform(0.7, 0.85)).rotate(rng.uniform(-4, 4), expand=False)
    return [image, crop, tilted]


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS[name], size)


def _page(title: str, lines: list[str], font: str, rng: random.Random, photographed: bool) -> Image.Image:
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    draw.text((110, 120), title, fill="black", font=_font(font, 64))
    y = 260
    for line in lines:
        draw.text((110, y), line, fill=(20, 20, 20), font=_font(font if font != "serif" else "serif", 40))
        y += 72
    if not photographed:
        return page
    desk = Image.new("RGB", (1500, 1900), tuple(rng.randint(90, 160) for _ in range(3)))
    shaded = ImageEnhance.Brightness(page).enhance(rng.uniform(0.8, 0.95)).rotate(rng.uniform(-6, 6), expand=True)
    desk.paste(shaded.resize((shaded.width * 9 // 10, shaded.height * 9 // 10)), (60, 40))
    return desk.filter(ImageFilter.GaussianBlur(0.8))


def _screen(title: str, lines: list[str], cjk: bool) -> Image.Image:
    font = "cjk" if cjk else "sans"
    screen = Image.new("RGB", (1280, 800), (245, 246, 248))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1280, 56), fill=(52, 58, 70))
    draw.text((24, 10), title, fill="white", font=_font(font, 30))
    for index, colour in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        draw.ellipse((1180 + index * 30, 18, 1200 + index * 30, 38), fill=colour)
    y = 110
    for line in lines:
        draw.rounded_rectangle((40, y - 12, 1100, y + 54), radius=14, fill="white", outline=(210, 214, 220))
        draw.text((64, y), line, fill=(30, 30, 30), font=_font("mono" if title.startswith("editor") else font, 34))
        y += 100
    return screen


def _emoji(char: str, background: str) -> Image.Image:
    glyph = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text((10, 10), char, font=_font("emoji", 109), embedded_color=True)
    glyph = glyph.crop(glyph.getbbox()).resize((560, 560), Image.LANCZOS)
    canvas = Image.new("RGB", (800, 800), background)
    canvas.paste(glyph, (120, 120), glyph)
    return canvas


def _chart(kind: str) -> Image.Image:
    """A chart as a spreadsheet draws one: bars, a pie or a line, with a title and axes."""
    chart = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(chart)
    title = {"bar": "Sales per month", "pie": "Household budget", "line": "Average temperature"}[kind]
    draw.text((260, 20), title, fill="black", font=_font("sans", 30))
    if kind == "pie":
        start = 0
        for share, colour in zip((40, 25, 20, 15), ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"), strict=True):
            draw.pieslice((200, 120, 600, 520), start, start + share * 3.6, fill=colour, outline="white")
            start += share * 3.6
        return chart
    draw.line((80, 540, 760, 540), fill="black", width=2)
    draw.line((80, 540, 80, 90), fill="black", width=2)
    values = [12, 19, 7, 15, 10, 17] if kind == "bar" else [3, 4, 6, 9, 14, 18, 21, 20, 16, 11, 6, 4]
    step = 660 // len(values)
    points = [(100 + i * step, 540 - v * 20) for i, v in enumerate(values)]
    for x, y in points:
        if kind == "bar":
            draw.rectangle((x, y, x + step - 30, 540), fill="#1f77b4")
        else:
            draw.ellipse((x - 6, y - 6, x + 6, y + 6), fill="#1f77b4")
    if kind == "line":
        draw.line(points, fill="#1f77b4", width=4)
    return chart


def build(folder: Path, seed: int = 0) -> list[dict]:
    """Write the pictures into `folder` and return the manifest (also written to folder/manifest.json)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []
    counter = {"IMG": 0, "scan": 0, "Screenshot": 0, "drawing": 0}

    def add(image: Image.Image | None, prefix: str, ext: str, key: str, album: str, concepts: str, **extra):
        counter[prefix] += 1
        name = f"{prefix}_{counter[prefix]:04d}.{ext}"
        if image is not None:
            image.save(folder / name, quality=90) if ext == "jpg" else image.save(folder / name)
        manifest.append({"file": name, "source": key, "album": album, "concepts": concepts.split(), **extra})

    for tuned, sources in ((False, PHOTOS), (True, TUNED)):
        for key, path, album, concepts in sources:
            for image in _photo_versions(Image.open(_resolve(path)), rng):
                add(image, "IMG", "jpg", key, album, concepts, tuned=tuned)
    for key, title, lines in EN_DOCS + ZH_DOCS:
        cjk = key.startswith(("zh-", "mixed-"))
        fonts = ["cjk", "wqy", "cjk-serif"] if cjk else ["sans", "serif"]
        for look in range(3):
            page = _page(title, lines, fonts[look % len(fonts)], rng, photographed=look == 2)
            add(page.convert("RGB"), "scan", "jpg", key, "zh-paper" if cjk else "paper", DOC_CONCEPTS[key])
    with tempfile.TemporaryDirectory() as tmp:
        pdf = "/usr/share/doc/libimage-exiftool-perl/html/MIE1.1-20070121.pdf"
        subprocess.run(["pdftoppm", "-r", "100", "-f", "1", "-l", "3", "-png", pdf, f"{tmp}/mie"], check=True)
        for page in sorted(Path(tmp).glob("mie*.png")):
            add(Image.open(page).convert("RGB"), "scan", "jpg", "pdf-mie", "paper", DOC_CONCEPTS["pdf-mie"])
    for key, title, lines, concepts in SCREENS:
        add(_screen(title, lines, "chinese-text" in concepts), "Screenshot", "png", key, "screens", concepts)
    add(Image.open(_resolve(DRAWINGS[7][1])).convert("RGB"), "Screenshot", "png", "map", "screens", DRAWINGS[7][2])
    for key, path, concepts in [d for d in DRAWINGS if d[0] != "map"]:
        add(Image.open(_resolve(path)).convert("RGB"), "drawing", "png", key, "drawings", concepts)
    for key, char, concepts, background in EMOJI:
        add(_emoji(char, background), "drawing", "png", key, "drawings", concepts)
    for key, kind, concepts in CHARTS:
        add(_chart(kind), "drawing", "png", key, "drawings", concepts)
    (folder / "manifest.json").write_text(json.dumps({"albums": ALBUMS, "pictures": manifest}, ensure_ascii=False))
    return manifest


def concepts_by_source() -> dict[str, set[str]]:
    """What each source shows, as written down above (all pictures made from one source show the same)."""
    found = {key: concepts for key, _, _, concepts in PHOTOS + TUNED}
    found |= {key: concepts for key, _, concepts in DRAWINGS}
    found |= {key: concepts for key, _, concepts, _ in EMOJI}
    found |= DOC_CONCEPTS
    found |= {key: concepts for key, _, _, concepts in SCREENS}
    found |= {key: concepts for key, _, concepts in CHARTS}
    return {key: {key, *concepts.split()} for key, concepts in found.items()}  # a source's own name is a concept too


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    manifest = build(args.folder)
    print(f"{len(manifest)} pictures from {len({p['source'] for p in manifest})} sources in {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
