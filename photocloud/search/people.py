"""People words: "person", "woman", "selfie", 人物, 合影… find the pictures where faces were detected, closest first.

Nobody tags "person" on their own pictures, and ImageNet has no class for people, so these words would find almost
nothing by keyword. A picture's document carries marker words instead (never shown, kept out of the vocabulary):
one when faces were found, more as the faces take a larger share of the picture, and one for two faces or more. A
people word in a query is searched as these markers (and the portrait category) in place of the word, with the other
words still required; each marker a picture holds adds to its score, so close faces rank above distant ones. The
detector does not tell a man from a woman or a child, nor a photographer from a player, so those words find every
face.
"""

FACES = "pcfaces"  # at least one face
# Faces covering at least this share of the picture, each adding to the score: a face in the crowd, a half-length
# portrait (about 5 %), a close-up or selfie (about 20 % and more).
SHARE_MARKERS = ((0.05, "pcfacesnear"), (0.2, "pcfacesclose"))
GROUP = "pcgroup"  # two faces or more
PORTRAIT = "portrait"  # the category, by its name in the labels

PERSON_WORDS = {
    "person",
    "persons",
    "people",
    "human",
    "humans",
    "man",
    "men",
    "woman",
    "women",
    "child",
    "children",
    "kid",
    "kids",
    "boy",
    "boys",
    "girl",
    "girls",
    "baby",
    "babies",
    "face",
    "faces",
    "selfie",
    "selfies",
    "portrait",
    "portraits",
    "lady",
    "ladies",
    "guy",
    "guys",
    "teenager",
    "teenagers",
    "student",
    "students",
    "player",
    "players",
    "athlete",
    "athletes",
    "photographer",
    "photographers",
    "worker",
    "workers",
    "tourist",
    "tourists",
    "bride",
    "groom",
    "人",
    "人物",
    "人们",
    "男人",
    "女人",
    "男孩",
    "女孩",
    "孩子",
    "小孩",
    "儿童",
    "宝宝",
    "婴儿",
    "人脸",
    "脸",
    "自拍",
    "人像",
    "肖像",  # (words jieba cuts into pieces, such as 摄影师 and 运动员, would need every piece; left out)
    "学生",
    "球员",
    "游客",
    "新娘",
    "新郎",
}
GROUP_WORDS = {
    "group",
    "groups",
    "crowd",
    "crowds",
    "team",
    "family",
    "friends",
    "合影",
    "合照",
    "集体照",
    "人群",
    "团队",
    "家人",
}
WORDS = PERSON_WORDS | GROUP_WORDS


def markers(faces: list, width: int | None, height: int | None) -> list[str]:
    """The marker words of a picture with these face boxes ([x, y, width, height, score] in original pixels)."""
    if not faces:
        return []
    found = [FACES, *([GROUP] if len(faces) > 1 else [])]
    if width and height:
        share = sum(box[2] * box[3] for box in faces) / (width * height)
        found += [marker for least, marker in SHARE_MARKERS if share >= least]
    return found


def alternatives(required: list[str]) -> list[list[str]]:
    """For a query holding a people word: the query's words with that word as each marker (alternatives that add
    up); none for other queries."""
    others = [word for word in required if word not in WORDS]
    if len(others) == len(required):
        return []
    if any(word in GROUP_WORDS for word in required):
        wanted = [GROUP]
    else:
        wanted = [FACES, *(marker for _, marker in SHARE_MARKERS), PORTRAIT]
    return [[*others, marker] for marker in wanted]
