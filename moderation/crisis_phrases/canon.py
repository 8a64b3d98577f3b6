"""Canonical spellings for the crisis-language detector's normaliser (``moderation.crisis``).

Every token of a message is rewritten to one spelling before any phrase is tried: English
contractions and chat spellings, common misspellings, and the many romanisations of Hindi
and Punjabi words. Phrases are written in these canonical spellings. Also here: the words
that tell romanised Punjabi from romanised Hindi.
"""

from __future__ import annotations

import re
from typing import Final

# -- canonical spellings --------------------------------------------------------------------


def _canon(groups: dict[str, str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, variants in groups.items():
        for variant in variants.split():
            table[variant] = canonical
    return table


# Token → canonical token(s). Keys are single lower-case tokens with apostrophes removed.
CANON: Final[dict[str, str]] = {
    # English contractions and chat spellings
    **_canon(
        {
            # Chat slang for killing oneself ("kms", "kys" is said to others, an insult).
            "kill myself": "kms",
            "do not": "dont dnt",
            "does not": "doesnt",
            "did not": "didnt",
            "can not": "cant cannot cnt",
            "could not": "couldnt",
            "will not": "wont",
            "would not": "wouldnt",
            "should not": "shouldnt",
            "is not": "isnt",
            "are not": "arent",
            "was not": "wasnt",
            "were not": "werent",
            "have not": "havent",
            "has not": "hasnt",
            "had not": "hadnt",
            "am not": "aint",
            "i am": "im",
            "i have": "ive",
            "you are": "youre",
            "there is": "theres",
            "that is": "thats",
            "what is": "whats",
            "want to": "wanna wana",
            "going to": "gonna gona finna",
            "got to": "gotta",
            "trying to": "tryna",
            "you": "u",
            "your": "ur",
            "right now": "rn",
            "for real": "fr frfr",
            "tonight": "tonite 2nite",
            "please": "pls plz",
            "kill": "kil unalive",
            "killing": "kiling unaliving",
            "myself": ("myslef myelf mysef meself myslf mysself mysel mysefl"),
            "overdose": "overdoze overdos ovrdose overdoz ovrdoz",
            "overdosed": "overdozed ovrdosed overdoesd",
            "nobody": "noone",
            "nobody is": "nobodys noones",
            "everyone is": "everyones",
            "i would": "id",
            "they would": "theyd",
            "you would": "youd",
            "it would": "itd",
            "he would": "hed",
            "they are": "theyre",
            "they have": "theyve",
            "would have": "wouldve",
            "could have": "couldve",
            "should have": "shouldve",
            "self harm": "selfharm",
            "suicidal": "suicidel sucidal suicidle",
        }
    ),
    # Romanised Hindi and Punjabi
    **_canon(
        {
            "nahi": "nahin nhi nai nahee nahii nhin ni nahiin nahee nehi",
            "na": "naa",
            "main": "mai mei",
            "mujhe": "mujhey mjhe muje mujhko",
            "mainu": "menu mennu mainnu mennu",
            "khud ko": "khudko",
            "chahta": "chahata chahtaa chaahta chahtha chahti chahati chaahti chahte chahtey",
            "chahunda": "chaunda chahonda chahnda chahundi chaundi chahndi chahunde chaunde",
            "marna": "mrna marnaa",
            "marne": "mrne marney",
            "marn": "maran",
            "jeena": "jina jeenaa jinaa",
            "jeene": "jine jeeney",
            "jeon": "jion jeeon jiyon jeeun jiun",
            "zindagi": "zindgi jindagi jindgi zindegi zndgi jindagee zindagee zindaggi",
            "khudkushi": "khudkhushi khudkusi khudkhusi khudkashi khudkshi khudkushii",
            "atmahatya": "aatmhatya atmhatya aatmahatya aatmhattya atamhatya aatamhatya",
            "khatam": "khtm khatm khattam khatem khatum",
            "goliyan": "goliya goliyaan golian goliyon golliyan goliyann goliyaa",
            "zeher": "zehar jahar jehar zahar zaher zehr",
            "phansi": "phaansi fansi faansi phasi fasi",
            "faaha": "faha phaha phaaha fahaa",
            "kaat": "kat kaatna",
            "katt": "katna",
            "lunga": "lungi loonga loongi",
            "dunga": "dungi doonga doongi",
            "karunga": "karungi krunga krungi karoonga karoongi",
            "lavanga": "lavangi lawanga lawangi lwanga",
            "dyanga": "dianga deyanga dyangi diyanga",
            "karanga": "karangi kranga",
            "raha": "rha rahi rhi rahe rhe",
            "reha": "riha rehi",
            "wajah": "vajah waja vaja wajha",
            "matlab": "mtlb matlb",
            "darr": "dar dr",
            "phir": "fir fer pher phr",
            "dobara": "dubara dobaara dubaara",
            "saans": "sans saas saah",
            "jaan": "jan",
            "jaana": "jana jaanaa",
            "jaun": "jau jaaun jaoon",
            "nasha": "nashaa nsha",
            "bahut": "bohot bohat bht bahot boht bhut bahoot",
            "zyada": "jyada ziada jada zada zyaada jyaada ziyada",
            "kood": "kud kudd",
            "kood jaunga": "koodunga kudunga",
            "neend": "nind",
            "dose": "doz doze dos",
            "karna": "krna",
            "karni": "krni",
            "karne": "krne",
            "karta": "krta karti krti karte",
            "karda": "kardi krda",
            "kar": "kr",
            "karo": "kro",
            "gaya": "gya gyaa",
            "gayi": "gyi gai gayee",
            "haath": "hath haat",
            "nuksan": "nuksaan nukasan nuqsan",
            "chitta": "chita chitaa chittaa",
            "mann": "man mn",
            "pehle": "pahle pehley pehlay",
            "pehlan": "pehla pehlaan",
            "hu": "hoon hoo",
            "hai": "h hae",
            "baare": "bare baarey barey",
            "dealer": "dealr peddler",
            "teeka": "tika teka",
            "iccha": "ichha icha echha ichchha ichcha",
            "achha": "accha acha achcha achchha",
            "jaavan": "javan jaava jawan",
            "zinda": "jinda zindaa",
            "jeonda": "jeunda jionda jiunda jeondi",
            "rehna": "rahna rhna rehnaa",
            "rahunga": "rahungi rahoonga rhunga",
            "hamesha": "hmesha humesha",
            "aakhri": "akhri aakhiri aakhari akhiri akhari",
            "gutt": "gut",
            "bojh": "bojh",
        }
    ),
}

# Whole-token spelling families too many to list.
CANON_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"s(?:u|ui|iu|uie|oo)(?:c|s|cc|ss|sc)i{0,2}(?:d|t)e?"), "suicide"),
    (re.compile(r"s(?:u|ui|iu)(?:c|s|cc|ss)i{0,2}d[ae]l"), "suicidal"),
)

# Multi-token rewrites on the joined string.
CANON_PHRASES: Final[dict[str, str]] = {
    "no one": "nobody",
    "no ones": "nobody is",
    "no body": "nobody",
    "any more": "anymore",
    "my self": "myself",
    "khud kushi": "khudkushi",
    "khud khushi": "khudkushi",
    "aatam hatya": "atmahatya",
    "atam hatya": "atmahatya",
    "aatm hatya": "atmahatya",
    "atma hatya": "atmahatya",
    "aatma hatya": "atmahatya",
    "over dose": "overdose",
}
CANON_PHRASE_RE: Final = re.compile(r"(?<!\S)(?:" + "|".join(map(re.escape, CANON_PHRASES)) + r")(?!\S)")

# Tokens that make a romanised message Punjabi rather than Hindi (for the alert detail).
PUNJABI_MARKERS: Final = frozenset(
    """
    mainu nu karda chahunda haan reha lavanga dyanga karanga sakda sakdi lagda vich naal
    ton jeon marn kade layi hoya hoyi tusi tuhanu assi sareyan saare hun hor kujh
    """.split()
)
HINDI_MARKERS: Final = frozenset(
    """
    mujhe hu hai raha chahta karta lunga dunga karunga mein ko se ka ki ke aur ab kuch
    sab main apni khud
    """.split()
)
