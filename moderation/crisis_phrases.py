"""The phrase tables of the crisis-language detector (``moderation.crisis``).

Everything here is data: canonical spellings, negation rules and phrases. Phrases are
regexes over the normalised token string (lower-case tokens separated by single
spaces, " | " between clauses), written in canonical spelling; ``_phrase`` wraps each
one in token boundaries and folds its Devanagari/Gurmukhi the way messages are folded.

When adding a phrase, add labelled examples to ``data/crisis_labelled.tsv`` (positives
AND the near-miss negatives it might catch) and run ``python -m moderation.crisis_eval``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .scripts import fold_indic

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

# -- negation and history -------------------------------------------------------------------

EN_NEGATORS: Final = frozenset("not never no nor neither".split())
LATN_NEGATORS: Final = EN_NEGATORS | frozenset("nahi na mat".split())
DEVA_NEGATORS: Final = frozenset(fold_indic(w) for w in "नहीं नही न ना मत".split())
GURU_NEGATORS: Final = frozenset(fold_indic(w) for w in "ਨਹੀਂ ਨਹੀ ਨਾ ਨਾਂ ਮਤ ਨ".split())
# Coordinators end a negation's reach: in "chitta laaya te hun hosh nahi aa rahi" the
# "nahi" belongs to the second half.
COORDINATORS: Final = frozenset(fold_indic(w) for w in "and aur te ate tey then और एवं ਤੇ ਅਤੇ".split())
# "can't stop thinking about it", "can't help it", "not only": negation of something else.
NEGATION_CANCELLERS: Final = frozenset("stop help only know wait".split())

# Markers, anywhere in the clause, that the phrase is not the writer's present state:
# told as resolved history, or said about people in general ("if you are having
# thoughts of self harm, call ..."), or "I thought I was going to die" (hyperbole).
EN_HISTORY: Final = (
    "used to",
    "years ago",
    "year ago",
    "back then",
    "back when",
    "in the past",
    "as a teenager",
    "as a kid",
    "when i was younger",
    "long ago",
    "long time ago",
    "if you",
    "if anyone",
    "anyone who",
    "for anyone",
    "people who",
    "someone who",
    "those who",
    "if someone",
    "when someone",
    "thought i was",
    "thought i would",
    "he said",
    "she said",
    "they said",
    "he says",
    "she says",
    "he told me",
    "she told me",
)
LATN_HISTORY: Final = (
    *EN_HISTORY,
    "pehle",
    "pehlan",
    "saal pehle",
    "kabhi pehle",
    "khabar",
    "khabrein",
)
DEVA_HISTORY: Final = tuple(fold_indic(w) for w in ("पहले", "सालों पहले", "खबर", "खबरें"))
GURU_HISTORY: Final = tuple(fold_indic(w) for w in ("ਪਹਿਲਾਂ", "ਸਾਲ ਪਹਿਲਾਂ", "ਖ਼ਬਰ", "ਖ਼ਬਰਾਂ"))
# Past auxiliaries right after a desire verb: "marna chahta tha" (I wanted to die).
LATN_PAST: Final = frozenset("tha thi the si sigi".split())
DEVA_PAST: Final = frozenset(fold_indic(w) for w in "था थी थे".split())
GURU_PAST: Final = frozenset(fold_indic(w) for w in "ਸੀ ਸਨ".split())


@dataclass(frozen=True)
class Rule:
    """How a phrase's match may be cancelled.

    ``before``/``after``: how many tokens either side of the match (within its clause)
    are searched for a negator. English puts negation before the verb; Hindi and
    Punjabi usually after the object, before the verb ("khud ko nuksan nahi pahunchaunga").
    ``negatable`` False: the phrase carries its own negation ("don't want to live").
    """

    negatable: bool
    before: int
    after: int
    negators: frozenset[str]
    history: tuple[str, ...]
    past: frozenset[str]

    def fixed(self) -> Rule:
        return Rule(False, self.before, self.after, self.negators, self.history, self.past)


EN: Final = Rule(True, 4, 0, EN_NEGATORS, EN_HISTORY, frozenset())
LATN: Final = Rule(True, 2, 8, LATN_NEGATORS, LATN_HISTORY, LATN_PAST)
DEVA: Final = Rule(True, 2, 8, DEVA_NEGATORS, DEVA_HISTORY, DEVA_PAST)
GURU: Final = Rule(True, 2, 8, GURU_NEGATORS, GURU_HISTORY, GURU_PAST)

# -- phrases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    category: str  # suicide, overdose, self-harm, relapse
    lang: str  # en, hi, pa, or "Latn": romanised, Hindi or Punjabi by marker words
    script: str  # latin, deva or guru: the script the phrase is written in
    parts: tuple[re.Pattern[str], ...]  # all must be found, anywhere in the message
    rule: Rule
    first: str  # the first part's folded source, for the first-token index


_ALL_NEGATORS = sorted(LATN_NEGATORS | DEVA_NEGATORS | GURU_NEGATORS, key=len, reverse=True)
_NOT_NEGATOR = r"(?!(?:" + "|".join(map(re.escape, _ALL_NEGATORS)) + r")(?!\S))"


def gap(n: int) -> str:
    """Up to ``n`` intervening tokens, none of them a negator or a clause break."""
    return rf"(?: {_NOT_NEGATOR}[^\s|]+){{0,{n}}}"


def _phrase(category: str, lang: str, script: str, rule: Rule, *parts: str) -> Phrase:
    folded = [fold_indic(p) for p in parts]
    compiled = tuple(re.compile(r"(?<!\S)(?:" + p + r")(?!\S)") for p in folded)
    return Phrase(category, lang, script, compiled, rule, folded[0])


def _many(category: str, lang: str, script: str, rule: Rule, sources: Iterable[str]) -> list[Phrase]:
    return [_phrase(category, lang, script, rule, s) for s in sources]


G2 = gap(2)
G3 = gap(3)

_EN_SUICIDE = (
    r"(?:kill|killing|killed|end|ending|hang|hanging|hanged|drown|drowning|poison"
    r"|poisoning|off|offing|suffocate|strangle|stab|stabbing) myself",
    r"(?:shoot|shooting) myself(?! in the foot)",
    r"(?:want|wanted|wants|wanting|going|plan|planning|planned|ready|decided|need|needs"
    r"|trying|tried|try|about) to (?:just |simply )?die",
    r"want to be dead|wish i (?:was|were|could be) dead|rather (?:be dead|die)"
    r"|better off dead|wish i (?:was|were|had) never (?:been )?born",
    r"(?:better|happier|easier) (?:off )?without me",
    r"better off if i (?:was|were) (?:gone|dead|not (?:here|around))|better off if i died",
    r"(?:think|thinking|thought|thoughts) (?:about|of) (?:suicide|ending (?:it|my life|things)"
    r"|dying(?! (?:my|her|his|the) hair)|taking my (?:own )?life)",
    r"suicidal(?! (?:thoughts? )?(?:prevention|hotline|helpline|awareness))",
    r"(?:commit|committing|attempt|attempted|attempting|contemplating|considering|planning)"
    r" suicide",
    r"suicide (?:note|letter|plan|attempt|pact)",
    r"suicide (?:seems|feels|is|looks) (?:like )?(?:the |my )?only (?:way|option|answer|choice)",
    r"(?:end|ending) (?:it all|my life|my own life|everything)",
    r"(?:want|going|should|will|could|might|need|plan|planning|decided|ready|just|gonna)"
    r" (?:to )?(?:just )?end it(?! (?:here|now for|for today|there|off|with))",
    r"(?:take|took|taking) my (?:own )?life",
    r"(?:jump|jumping|throw myself|throwing myself|step|stepping|walk|walking|lie|lying)"
    r" (?:off|from|in front of|under) (?:a|the|this|that)(?: [^\s|]+)? (?:bridge|building"
    r"|roof|train|metro|terrace|balcony|cliff|truck|bus|lorry|car)",
    # Not "goodbye everyone": that ends every meeting.
    r"(?:goodbye|bye) (?:forever|world|cruel world)|this is (?:my )?goodbye"
    r"|(?:final|last) goodbye|(?:goodbye|suicide) (?:letter|letters|note|notes)",
    r"(?:nobody|everyone) (?:would|will) (?:even |really )?(?:notice|care|miss me|be happier"
    r"|be happy)(?: [^\s|]+){0,3} if i (?:died|was gone|were gone|disappeared|was dead"
    r"|were dead|killed myself|was not here)",
    r"wish i could (?:just )?(?:disappear|vanish|not exist|stop existing|fall asleep forever)",
    r"(?:want|wanna|going|need) to (?:just )?(?:disappear|vanish)(?: forever| for good"
    r"| and never come back)?(?= \||$)|disappear and never come back",
    r"(?:painless|easiest|quickest|best|fastest|least painful|surest) (?:way|ways|method"
    r"|methods) to (?:go|die|end it|kill myself|do it|end my life)",
    r"(?:except|other than|but to|apart from) (?:dying|die|death|suicide|ending it)",
    r"in case i (?:am not|do not make it|die|will not be)(?: here| around| alive)?",
    r"(?:i am|i will be) not (?:here|around|alive) (?:tomorrow|by morning|anymore|next week)",
    r"(?:thinking about|thinking of|want to|going to|about to|ready to|planning to|plan to)"
    r" (?:jump|jumping)(?: off)?(?= \||$)",
    r"(?:nobody|everyone) (?:would|will|is going to) (?:even )?miss me"
    r"(?! (?:at|in|during|tomorrow|today|for|if i (?:left|leave|skip)))",
    r"(?:do not|dont) care (?:if|whether) i (?:die|live|wake up|make it)",
    r"(?:pills|rope|gun|knife|blade|poison)(?: [^\s|]+){0,4} to end it(?: all)?",
    r"(?:imagining|imagine|planning|thinking about) my (?:own )?funeral",
    r"can not live with myself",
    r"(?:done|finished) with (?:life|living|it all)"
    r"|(?:tired|sick) of (?:living|being alive)(?! (?:in|with|like|at|here|there|near|alone"
    r"|on|under|by))",
    r"(?:this is|this will be|here is) my (?:last|final) (?:message|post|text|words)"
    r"|(?:my )?(?:last|final) (?:message|post) (?:here|ever)|goodbye world",
    r"(?:i am|being|feel like|feel like i am|i feel like) (?:such )?a burden(?! of)",
    r"(?:use|drink|drank|using|drinking) (?:until|till|til) i die"
    r"|(?:drink|use) myself to death",
    r"noose",
    r"(?:want|need|wish) (?:for )?(?:everything|it all|my life|life) to (?:stop|end|be over)",
    r"(?:want|wanna|going) to (?:stop existing|not exist|sleep forever|disappear forever)"
    r"|sleep forever",
    r"(?:feel like|feel like just|thinking of|thinking about) (?:just )?ending it"
    r"(?! (?:here|with|for today|there))",
    r"(?:drive|driving|crash|crashing|steer|steering) (?:my |the )?(?:car|bike|scooter"
    r"|motorbike) (?:into|off)|(?:drive|driving) off (?:a|the) (?:cliff|bridge)",
    r"(?:life|living) (?:has|holds) no (?:meaning|point|purpose)|life is (?:meaningless"
    r"|pointless)",
    r"(?:scared|afraid|terrified|worried) (?:of )?what i (?:might|will|could|would|am going to)"
    r" do to myself|(?:might|will|could|going to|about to) do something (?:to myself|stupid"
    r"|drastic|dumb|terrible)",
    r"(?:better|favour|favor|happier|easier|relief|care|notice|miss me|matter)(?: [^\s|]+){0,6}"
    r" if i (?:just )?(?:died|was dead|were dead|was gone|were gone|killed myself|disappeared"
    r"|was not here|was not around)",
    r"giving away (?:all )?(?:of )?my (?:stuff|things|belongings|possessions)",
    r"(?:saved|saving|stockpiling|hoarding|stockpiled|hoarded|collecting|collected"
    r"|stocking up on) (?:up )?(?:my )?(?:pills|meds|tablets|medication|sleeping pills)",
    r"slit my throat",
)
_EN_SUICIDE_FIXED = (
    r"(?:do not|does not|no longer|never) want to (?:live|be alive|exist|wake up|go on"
    r"|be here anymore|carry on)(?! (?:like|with|without|in|there|here|for|early|at|before"
    r"|so early|this early|that early|on time))",
    r"(?:no|see no|do not see (?:a|any)|there is no|can not see (?:a|any)) way out",
    r"can not (?:go on|carry on|keep going|do this|do it|take it|take this|handle (?:it|this)"
    r"|live like this)(?: [^\s|]+)? (?:anymore|any longer)",
    r"can not (?:go on|carry on|keep going) like this",
    r"(?:no|not any|see no|do not see (?:the|any)|there is no|what is the|whats the)"
    r" (?:reason|point|purpose) (?:to|in|of) (?:live|living|life|go on|going on|being alive"
    r"|carry on|keep going)",
    r"nothing (?:left )?to live for",
    r"(?:life|living) (?:is not|is no longer|not) worth (?:living|it)|not worth living",
    r"(?:not sure|do not know if) i (?:want|can) (?:to )?(?:live|go on|keep going|be alive)",
    r"(?:and|to|hope i|wish i|i will|i would|just) (?:never|not) wake up"
    r"(?! (?:early|at|before|so early|this early|that early|on time))",
    r"(?:will not|would not|not|never)(?: [^\s|]+){0,4} be (?:around|here|alive)"
    r" (?:much longer|for long|tomorrow|anymore|by tomorrow|by morning|by the morning"
    r"|next week)",
)
_EN_SELF_HARM = (
    r"(?:cut|cutting|burn|burned|burnt|burning|hurt|hurting|harm|harming|punish|punishing"
    r"|scratch|scratching|hit|hitting|starve|starving) myself(?! (?:shaving|cooking|by accident"
    r"|accidentally|on (?:a|the)|in the kitchen|while|at the gym))",
    r"self (?:harm|harming|harmed|injury|injuring|injure|mutilation|mutilate)"
    r"(?! (?:awareness|prevention|support|resources|group))",
    r"(?:slit|slash|slashed|slashing|cut|cutting) my (?:wrist|wrists|arm|arms|thigh|thighs"
    r"|skin|veins)",
    r"(?:been|started|start|keep|kept|back to|went back to|go back to) cutting(?! (?:back|down"
    r"|out|off|my hair|hair|onions|vegetables|ties|corners|carbs|sugar))",
    r"cutting again",
    r"(?:want|going|urge|need) to cut(?! (?:back|down|out|off|ties|sugar|carbs|my hair|hair"
    r"|the|a|an|some|this|that|it|them|costs|corners|onions|vegetables|class|school|work"
    r"|in|from|him|her|you|people)(?!\S))",
    r"(?:burn|burning|burned|burnt|cut|cutting|scratch|scratching|hit|hitting)\S* my"
    r" (?:arms?|legs?|skin|wrists?|thighs?|hands?|stomach|chest) (?:with|using) (?:a |the )?"
    r"(?:lighter|cigarette|blade|razor|knife|glass|compass|pin|needle|match|iron)",
    r"(?:scratch|scratching|scratched|hit|hitting|bang|banging|burn|burning|pinch|pinching"
    r"|bite|biting|cut|cutting)\S* my (?:arms?|legs?|skin|wrists?|head|thighs?)"
    r"(?: [^\s|]+){0,3} (?:till|until|til) (?:they|it|i) (?:bleed|bleeds|bled|hurt|hurts)",
)
_EN_OVERDOSE = (
    r"(?:took|taken|take|taking|swallowed|swallow|swallowing|popped|pop|ate|had|downed)"
    r" (?:a |the |an |my )?(?:whole|entire|full) (?:bottle|pack|packet|strip|box|prescription"
    r"|supply|stash)",
    r"(?:mixed|mixing|mix) (?:alcohol|booze|drinks|vodka|whiskey|beer|wine|daru|pills"
    r"|xanax|benzos)(?: [^\s|]+){0,2} (?:with|and) (?:[^\s|]+ )?(?:pills|xanax|benzos|valium"
    r"|meds|tablets|alcohol|booze|vodka|whiskey|drinks)",
    r"(?:took|taken|take|taking|swallowed|swallow|swallowing|popped|pop|ate|downed)"
    r" (?:all|all of) (?:my|the|of my|of the|these|those)(?: [^\s|]+)? (?:pills|tablets|meds"
    r"|medication|medicine|medicines|painkillers|antidepressants)",
    r"(?:took|taken|take|taking|swallowed|popped|ate|downed) (?:like |about |around )?"
    r"(?:too many|a lot of|loads of|a bunch of|a handful of|[1-9][0-9]+)(?: of)?"
    r"(?: my| the| these| those)?(?: [^\s|]+)? (?:pills|tablets|meds|painkillers"
    r"|antidepressants|xanax|valium|tramadol|benzos|insulin)",
    r"overdosed|overdosing",
    r"(?:use|take|shoot|snort|drink|swallow) (?:everything|all) i (?:have|got)(?: left)?",
    r"(?:thinking about|thought about|want to|going to|could just|should just) (?:just )?"
    r"(?:take|taking|swallow|swallowing) (?:them all|all of them|all the pills|all my pills"
    r"|all my meds|the whole bottle)",
    r"(?:going|want|plan|planning|try|trying|about|ready|decided) to (?:overdose|od)",
)
_EN_DANGER_SIGN = (
    r"(?:is not|not|stopped|stop) breathing|can not (?:breathe|stay awake|wake (?:him|her|them))"
    r"|heart is (?:racing|pounding)|chest (?:is )?(?:hurts|hurting|pain|tight)"
    r"|(?:lips|skin) (?:are |is )?(?:turning )?blue|passing out|passed out|throwing up blood"
    r"|can not feel my (?:legs|arms|hands|face|body)|(?:everything|room) is spinning"
    r"|can not keep my eyes open"
    r"|feel like i am dying(?! (?:of|to|laughing|inside))"
)
_EN_HEAVY_USE = (
    r"(?:took|taken|used|drank|did|had|shot|snorted|smoked|injected|swallowed) (?:way |far "
    r"|a lot |so much )?(?:too much|more than usual|more than i should|too many|everything)"
    r"|overdose|overdosed|od|shot up|relapsed|used again|pills|that hit|the hit|took a hit"
)
# Alcohol with sedatives: the commonest accidental overdose.
_EN_HEAVY_DRINKING = (
    r"(?:drank|had|finished|downed) (?:a |the )?(?:whole|entire|full) bottle"
    r"|(?:had|drank|downed) (?:like |about )?(?:[1-9][0-9]*|a lot of|so many|too many)"
    r" (?:drinks|beers|shots|pegs)"
)
_EN_SEDATIVES = (
    r"(?:took|taking|popped|with|and) (?:some |a few |all )?(?:of )?(?:my )?(?:[^\s|]+ )?"
    r"(?:xanax|pills|meds|tablets|valium|benzos|tramadol|painkillers|sleeping pills)"
)
_EN_RELAPSE = (
    r"(?:dealer|dealers|plug|connect) (?:is |was )?(?:on (?:his|her|their|the) way"
    r"|coming(?! back)"
    r"|here|outside|waiting|at my door|at the door)",
    r"about to (?:use|drink|relapse|shoot up|score|get high|get drunk|pick up|take a drink"
    r"|have a drink|inject)(?! (?:the|this|my|a|an|some|our|it)(?!\S))",
    r"going to (?:use|drink|relapse|shoot up|get high|get drunk|get wasted|inject)"
    r"(?: again| tonight| today| now| right now| anyway)?(?= \||$)",
    r"(?:going to|gonna|will|about to) (?:drink|use|take|finish) (?:them all|it all"
    r"|all of (?:it|them)|the whole (?:bottle|thing|bag|lot))",
    r"(?:needle|syringe|rig|bottle|drugs|gear|stash|bag|dope|heroin|smack|chitta|coke|meth"
    r"|crack|powder|vodka|whiskey) (?:is |are )?(?:in my hand|in front of me|right here"
    r"|next to me|in my pocket)",
)
_EN_RELAPSE_FIXED = (
    r"can not (?:stop|quit) (?:using|drinking|shooting up|taking (?:it|them|pills)|snorting)",
    r"can not (?:fight|resist|beat|control) (?:it|this|the urge|the urges|the craving"
    r"|the cravings|myself)(?: anymore| any longer)?",
)
_EN_RELAPSED = (
    r"relapsed|relapsing|used again|drank again|shot up|scored|picked up again"
    r"|(?:been|was|am) (?:drinking|using|high|drunk) all (?:day|night)"
    r"|started (?:using|drinking) again|been (?:drinking|using) again"
)
_EN_DISTRESS = (
    r"scared|afraid|terrified|alone|can not stop|help me|please help|want to die"
    r"|do not care if i (?:die|live)|(?:do not|dont) care anymore"
    r"|going to die|will die|i will die|dying|overdose|can not breathe|can not stop myself"
)

# Romanised Hindi/Punjabi (canonical spellings; see CANON).
_LATN_SUICIDE = (
    ("hi", r"(?:marna|mar jaana|mar jaun) (?:hi |bas )?chahta"),
    ("pa", r"(?:marna|mar jaana) (?:hi |bas )?chahunda"),
    (
        "Latn",
        r"(?:mujhe|mainu|main) (?:bas |ab |hun |sach mein |sach )?(?:mar jaana|marna)"
        r" (?:hai|aa|ae|e)",
    ),
    (
        "Latn",
        r"(?:mar jaan|mar jaana|marne|marn) (?:da|ka|nu|di|ki) (?:dil|mann|iccha|ichha"
        r"|khayal|khyal|vichar) (?:karda|karta|kar|aa|aata|aunda|hai|reha|raha)",
    ),
    (
        "Latn",
        r"(?:khudkushi|atmahatya|suicide) (?:hi )?(?:kar|karna|karni|karne|karunga"
        r"|karanga|karan|karoon|karu|ki koshish)",
    ),
    ("Latn", r"(?:mar jaana|marna) hai (?:mujhe|mainu)"),
    ("Latn", r"mar (?:jaun|jaavan) (?:to|toh|taan|tan) (?:achha|better|theek|changa|sahi)"),
    ("Latn", r"(?:mar jaana|marna) (?:hi )?(?:theek|achha|behtar|better|sahi|changa)"),
    ("Latn", r"bojh (?:hu|hun|haan|ban gaya|ban gayi|ban gea)"),
    (
        "Latn",
        r"(?:aakhri|last|antim) (?:message|msg|sandesh|post)"
        r"|alvida (?:duniya|hamesha)|hamesha ke liye alvida",
    ),
    ("Latn", r"(?:subah|kal|savere|raat) tak (?:main )?nahi (?:rahunga|rehna|bachunga)"),
    ("Latn", r"(?:zinda|jeonda) nahi (?:rehna|rahunga)"),
    (
        "Latn",
        r"(?:khudkushi|atmahatya|suicide) (?:ke |ka |de |da )?(?:baare|khayal|khyal"
        r"|vichar|thoughts)" + G3 + r" (?:soch|sochta|sochda|aa|aata|aate|aunde|reha"
        r"|raha|soch raha|soch reha)",
    ),
    ("Latn", r"(?:khud|apne aap|aapne aap) (?:ko|nu) (?:maar|khatam|mita|mukka)"),
    ("Latn", r"(?:apni|meri apni) jaan (?:le|de|lai|dena|lena)"),
    (
        "Latn",
        r"(?:sab|sab kuch|sabkuch|sab kujh|zindagi|apni zindagi|life) (?:hi )?khatam"
        r" (?:kar|karna|karni|karne|karunga|karanga)",
    ),
    ("Latn", r"(?:zeher|poison) (?:kha|khaa|pee|pi|pe|le)"),
    ("Latn", r"(?:phansi|faaha|fanda|phanda) (?:laga|lagaa|lagana|lagaunga|le|lai|la|pe|par)"),
    ("Latn", r"(?:pankhe|pankha|fan|chhat) (?:se|naal|ton|te|pe) (?:latak|lamak)\S*"),
    (
        "Latn",
        r"(?:train|truck|bus|gaadi|metro) (?:ke|de) (?:aage|agge|niche|neeche|saamne"
        r"|samne) (?:kood|chhal|chaal|aa|jump|let)\S*",
    ),
    (
        "Latn",
        r"(?:nehar|nahar|nadi|river|dariya|pul|bridge|chhat|building|terrace) (?:vich|ch"
        r"|wich|mein|me|se|ton|to) (?:kood|chhal|chaal|chhalang|jump)\S*",
    ),
    (
        "Latn",
        r"mere (?:bina|baghair|bagair) (?:sab|saare|sabhi|sab log|ghar wale|family)"
        r" (?:khush|better|theek|sukhi)",
    ),
    ("Latn", r"(?:kaash|kash) (?:main )?(?:mar jaun|mar jaata|paida hi na|paida na)"),
)
_LATN_SUICIDE_FIXED = (
    r"(?:jeena|jeon|jeene) nahi(?: hai| chahta| chahunda| aa| e)?",
    r"nahi jeena(?: hai| chahta| chahunda)?",
    r"(?:jeene|jeon|jeen) (?:ka|ki|da|di|nu|ko) (?:koi )?(?:mann|dil|iccha|wajah|matlab"
    r"|maksad|reason|point|umeed) nahi",
    r"(?:ab|aur|hun|hor) nahi (?:jee|ji) (?:sakta|sakda|sakdi|paunga|paungi|pavanga)",
    r"(?:jee|ji) nahi (?:sakta|sakda|sakdi|paunga|paungi|pavanga)",
    r"(?:jeene|jeon|jeen) (?:ka|ki|da|di|nu|ko) (?:iccha|ichha|umeed|chaah) khatam",
)
_LATN_SELF_HARM = (
    r"(?:haath|nas|nasen|naso|kalai|wrist|baanh|banh|bazu|arm)(?: (?:pe|par|te|utte))?"
    r" (?:kaat|katt|cut)\S*",
    r"(?:khud|apne aap|aapne aap) (?:ko|nu) (?:hurt|chot|nuksan|dard|takleef|saza|satt"
    r"|zakhmi|cut)",
    r"(?:blade|razor|chaku|chaaku|churi|chhuri) (?:se|naal|nal) (?:khud|haath|nas|kalai|apne)",
    r"(?:kalai|haath|baanh|banh|gutt|nas|wrist|arm) (?:pe|par|te|utte) (?:blade|razor|chaku"
    r"|chaaku|churi|chhuri)",
)
_LATN_OVERDOSE = (
    r"(?:bahut|saari|sari|saare|sare|sabhi|sab|poori|puri|zyada|saariyan|sariyan|kai|das"
    r"|bees|vih|tees|pachas|[1-9][0-9]+)"
    + G2
    + r" (?:goliyan|goli|tablets|pills|dawaiyan|dawai|medicine|meds)"
    + G2
    + r" (?:kha|khaa|le|li|lai|nigal|khali)\S*",
    r"(?:zyada|over) (?:dose|doses)(?! awareness)",
    r"overdose (?:ho|hoya|hoyi|hua|hui|gaya|gayi|le|lai|kar|karunga|karanga)",
)
_LATN_RELAPSE = (
    r"chitta (?:le|lai|la|li|laga|maar|pee|pi)\S*",
    r"dealer (?:aa|aane|aaya|bula|bulaya|nu bulaya|ko bulaya|ke paas|de kol)\S*",
    r"(?:nasha|chitta|smack|daaru|sharab|heroin|drugs|peeni|peena) (?:phir se |dobara )?"
    r"(?:karne|lene|peene|pine|laun|karan|lain|pin) (?:wala|vala|wali|lagga|laga|lagi)",
    r"(?:phir se|phir|dobara) (?:nasha|chitta|sharab|daaru) (?:karunga|karanga|lunga|lavanga"
    r"|peeunga|karna)",
    r"(?:teeka|injection|sui) (?:laun|lagaun|lagana|laga|lagane|lau) (?:lagga|laga|lagi|wala"
    r"|vala|lagya)",
)
_LATN_RELAPSE_FIXED = (
    r"(?:khud|apne aap|aapne aap) (?:ko|nu) rok nahi (?:pa|paa|sak|sakta|sakda|sakdi|hunda"
    r"|reha|raha)",
    r"(?:mujhe|mainu) (?:koi )?rok (?:lo|le|lao|lavo)|koi (?:mujhe |mainu )?rok (?:lo|le|lao"
    r"|lavo|lena|laye)",
)
_LATN_USED_AGAIN = (
    r"(?:phir se|phir|dobara) (?:pee|pi|pee li|pi li|pee lai|nasha kar|nasha kita|chitta le"
    r"|chitta lai|chitta la|smack le|smack lai|use kar|le liya|lai leya|daaru|sharab)"
)
_LATN_DISTRESS = r"darr|ghabrahat|ghabra\S*|rok nahi|ruk nahi|marna|mar jaunga|bachao|help|akela|akeli"

_DEVA_SUICIDE = (
    r"(?:मरना|मर जाना) (?:ही |बस )?चाह(?:ता|ती|ते)",
    r"(?:मुझे|मैं) (?:बस |अब )?(?:मर जाना|मरना) है",
    r"(?:मरने|मर जाने) (?:का|की) (?:मन|इच्छा|ख्याल|खयाल) (?:करता|करती|होता|आता|है)",
    r"(?:आत्महत्या|आत्म हत्या|खुदकुशी|सुसाइड) (?:ही )?(?:कर|करना|करनी|करने|करूंगा|करूंगी"
    r"|की कोशिश)",
    r"(?:सुसाइड|आखिरी) (?:नोट|खत|चिट्ठी)",
    r"(?:मर जाना|मरना) है (?:मुझे)",
    r"मर जाऊं (?:तो) (?:अच्छा|बेहतर|ठीक|सही)",
    r"(?:सुबह|कल|सवेरे|रात) तक (?:मैं )?नहीं? (?:रहूंगा|रहूंगी|बचूंगा|बचूंगी)",
    r"(?:जिंदा|जीवित) नहीं? (?:रहना|रहूंगा|रहूंगी)",
    r"हमेशा के लिए (?:चला|चली|सो) जा\S*|(?:चला|चली|सो) जा\S* हमेशा के लिए",
    r"(?:मर जाना|मरना) (?:ही )?(?:ठीक|अच्छा|बेहतर|सही)",
    r"बोझ (?:हूं|हू|बन गया|बन गई)",
    r"(?:आखिरी|अंतिम) (?:मैसेज|संदेश|मेसेज)|अलविदा (?:दुनिया|हमेशा)",
    r"(?:आत्महत्या|आत्म हत्या|खुदकुशी|सुसाइड) (?:के|का|की) (?:बारे|ख्याल|खयाल|विचार)" + G3 + r" (?:सोच|आते|आता|आ)",
    r"(?:खुद|अपने आप) को (?:खत्म|मार|मिटा)",
    r"अपनी जान (?:ले|दे)",
    r"(?:सब|सब कुछ|जिंदगी|जिन्दगी|अपनी जिंदगी) (?:ही )?(?:खत्म|खतम) (?:कर|करना|करनी|करने"
    r"|करूंगा)",
    r"जहर (?:खा|पी|ले)",
    r"फांसी (?:लगा|लगाना|लगाऊंगा|पर|पे)",
    r"(?:पंखे|पंखा) से लटक\S*",
    r"(?:ट्रेन|गाडी|ट्रक|बस) के (?:आगे|नीचे|सामने) (?:कूद|आ)\S*",
    r"(?:छत|पुल|बिल्डिंग|नदी|नहर) (?:से|में) (?:कूद|छलांग)\S*",
    r"मेरे बिना (?:सब|सभी|सब लोग|घरवाले) (?:खुश|बेहतर|ठीक)",
    r"काश (?:मैं )?(?:मर जाऊं|मर जाता|पैदा ही न|पैदा न)",
)
_DEVA_SUICIDE_FIXED = (
    r"(?:जीना) नहीं?(?: है| चाहता| चाहती)?",
    r"नहीं? जीना",
    r"जीने (?:का|की) (?:कोई )?(?:मन|इच्छा|वजह|मतलब|मकसद) नहीं?",
    r"(?:अब|और) नहीं? जी (?:सकता|सकती|पाऊंगा|पाऊंगी|पाउंगा)",
    r"जी नहीं? (?:सकता|सकती|पाऊंगा|पाऊंगी|पाउंगा)",
    r"जीने (?:का|की) (?:इच्छा|चाह|उम्मीद) खत्म",
)
_DEVA_SELF_HARM = (
    r"(?:हाथ|नस|नसें|कलाई|बांह|बाजू)(?: (?:पर|पे))? (?:काट|कट)\S*",
    r"(?:ब्लेड|चाकू|छुरी) से (?:खुद|हाथ|नस|कलाई|बांह|अपने)",
    r"(?:कलाई|हाथ|बांह|नस) (?:पर|पे) (?:ब्लेड|चाकू|छुरी)",
    r"(?:खुद|अपने आप) को (?:चोट|नुकसान|दर्द|तकलीफ|सजा|हर्ट)",
)
_DEVA_OVERDOSE = (
    r"(?:बहुत|सारी|सब|सभी|ढेर|पूरी|ज्यादा|दस|बीस|तीस|पचास|[1-9][0-9]+)"
    + G2
    + r" (?:गोलियां|गोली|दवाइयां|दवाई|टैबलेट)"
    + G2
    + r" (?:खा|ले|निगल)\S*",
    r"ज्यादा (?:डोज|डोस)",
    r"ओवरडोज (?:हो|ले|कर)\S*",
)
_DEVA_RELAPSE = (
    r"डीलर (?:आ|आने|को बुला)\S*",
    r"(?:नशा|शराब|दारू|चिट्टा) (?:करने|पीने|लेने) (?:वाला|वाली)",
)
_DEVA_RELAPSE_FIXED = (
    r"(?:खुद|अपने आप) को रोक नहीं? (?:पा|सक)\S*",
    r"कोई (?:मुझे )?रोक (?:लो|ले|लेना)",
)
_DEVA_USED_AGAIN = r"(?:फिर से|दोबारा) (?:पी|नशा|ले|स्मैक|चिट्टा|दारू|शराब)\S*"
_DEVA_DISTRESS = r"डर|घबराहट|रुक नहीं?|रोक नहीं?|मरना|बचा\S*"
_DEVA_BREATH = r"सांस नहीं? (?:आ|ले)\S*|सांस लेने में (?:दिक्कत|तकलीफ|परेशानी|मुश्किल)|होश नहीं?"
_DEVA_DRUG = r"डोज|ओवरडोज|गोलियां|गोली|नशा|चिट्टा"

_GURU_SUICIDE = (
    r"(?:ਮਰਨਾ|ਮਰ ਜਾਣਾ) (?:ਹੀ |ਬਸ )?ਚਾਹੁੰਦ(?:ਾ|ੀ|ੇ)",
    r"(?:ਮੈਨੂੰ|ਮੈਂ) (?:ਬਸ |ਹੁਣ )?(?:ਮਰ ਜਾਣਾ|ਮਰਨਾ) (?:ਹੈ|ਏ|ਆ)",
    r"(?:ਮਰ ਜਾਣ|ਮਰਨ) (?:ਨੂੰ|ਦਾ) (?:ਦਿਲ|ਮਨ) (?:ਕਰਦਾ|ਕਰਦੀ)",
    r"(?:ਖੁਦਕੁਸ਼ੀ|ਆਤਮ ?ਹੱਤਿਆ|ਸੁਸਾਈਡ) (?:ਹੀ )?(?:ਕਰ|ਕਰਨੀ|ਕਰਨਾ|ਕਰਨ|ਕਰਾਂਗਾ|ਕਰਾਂਗੀ)",
    r"ਮਰ ਜਾਵਾਂ (?:ਤਾਂ) (?:ਚੰਗਾ|ਵਧੀਆ|ਠੀਕ|ਸਹੀ)",
    r"(?:ਸਵੇਰ|ਸਵੇਰੇ|ਕੱਲ੍ਹ|ਰਾਤ) ਤੱਕ (?:ਮੈਂ )?ਨਹੀਂ? (?:ਰਹਿਣਾ|ਰਹਾਂਗਾ|ਰਹਾਂਗੀ|ਬਚਣਾ)",
    r"(?:ਜਿਉਂਦਾ|ਜਿਉਂਦੀ|ਜ਼ਿੰਦਾ) ਨਹੀਂ? (?:ਰਹਿਣਾ|ਰਹਾਂਗਾ|ਰਹਾਂਗੀ)",
    r"ਹਮੇਸ਼ਾ ਲਈ (?:ਚਲਾ|ਚਲੀ|ਸੌਂ) ਜਾ\S*",
    r"(?:ਮਰ ਜਾਣਾ|ਮਰਨਾ) (?:ਹੀ )?(?:ਠੀਕ|ਚੰਗਾ|ਵਧੀਆ|ਸਹੀ)",
    r"ਬੋਝ (?:ਹਾਂ|ਬਣ ਗਿਆ|ਬਣ ਗਈ)",
    r"(?:ਆਖਰੀ|ਅਖੀਰਲਾ) (?:ਮੈਸੇਜ|ਸੁਨੇਹਾ)|ਅਲਵਿਦਾ (?:ਦੁਨੀਆ|ਹਮੇਸ਼ਾ)",
    r"(?:ਖੁਦਕੁਸ਼ੀ|ਆਤਮ ?ਹੱਤਿਆ|ਸੁਸਾਈਡ) (?:ਬਾਰੇ|ਦੇ ਬਾਰੇ|ਦਾ ਖਿਆਲ|ਦੇ ਖਿਆਲ)" + G3 + r" (?:ਸੋਚ|ਆਉਂਦ\S*|ਆ)",
    r"(?:ਆਪਣੇ ਆਪ|ਖੁਦ) ਨੂੰ (?:ਮਾਰ|ਖਤਮ|ਮੁਕਾ)\S*",
    r"ਆਪਣੀ ਜਾਨ (?:ਲੈ|ਦੇ)",
    r"(?:ਸਭ ਕੁਝ|ਸਭ|ਸਬ|ਜ਼ਿੰਦਗੀ|ਆਪਣੀ ਜ਼ਿੰਦਗੀ) (?:ਹੀ )?ਖਤਮ (?:ਕਰ|ਕਰਨੀ|ਕਰਨਾ|ਕਰਾਂਗਾ)",
    r"ਜ਼ਹਿਰ (?:ਖਾ|ਪੀ)",
    r"(?:ਫਾਹਾ|ਫਾਂਸੀ) (?:ਲੈ|ਲਾ|ਲਗਾ)",
    r"(?:ਨਹਿਰ|ਨਦੀ|ਦਰਿਆ|ਛੱਤ|ਪੁਲ) (?:ਵਿੱਚ|ਚ|ਤੋਂ|ਵਿਚ) (?:ਛਾਲ|ਕੁੱਦ)\S*",
    r"(?:ਟ੍ਰੇਨ|ਟਰੇਨ|ਗੱਡੀ|ਟਰੱਕ) (?:ਦੇ )?(?:ਅੱਗੇ|ਥੱਲੇ|ਹੇਠਾਂ) (?:ਛਾਲ|ਆ|ਲੇਟ)\S*",
    r"ਮੇਰੇ ਬਿਨਾਂ? (?:ਸਾਰੇ|ਸਭ|ਸਾਰਾ ਪਰਿਵਾਰ) (?:ਖੁਸ਼|ਠੀਕ|ਸੁਖੀ)",
)
_GURU_SUICIDE_FIXED = (
    r"(?:ਜੀਣਾ|ਜੀਉਣਾ) ਨਹੀਂ?",
    r"(?:ਜੀਣ|ਜੀਉਣ) (?:ਨੂੰ|ਦਾ|ਦੀ) (?:ਕੋਈ )?(?:ਦਿਲ|ਮਨ|ਵਜ੍ਹਾ|ਵਜਹ|ਵਜਾ|ਮਤਲਬ|ਮਕਸਦ) ਨਹੀਂ?",
    r"(?:ਹੁਣ|ਹੋਰ) ਨਹੀਂ? ਜੀ (?:ਸਕਦਾ|ਸਕਦੀ|ਹੁੰਦਾ)",
    r"ਜੀ ਨਹੀਂ? (?:ਸਕਦਾ|ਸਕਦੀ|ਹੁੰਦਾ)",
    r"(?:ਜੀਣ|ਜੀਉਣ) (?:ਦੀ|ਦਾ) (?:ਇੱਛਾ|ਚਾਹ|ਉਮੀਦ) (?:ਨਹੀਂ?|ਖਤਮ)",
)
_GURU_SELF_HARM = (
    r"(?:ਹੱਥ|ਨਾੜ|ਨਸ|ਗੁੱਟ|ਬਾਂਹ|ਬਾਹ)(?: (?:ਤੇ|ਉੱਤੇ))? (?:ਕੱਟ)\S*",
    r"(?:ਬਲੇਡ|ਚਾਕੂ|ਛੁਰੀ) ਨਾਲ (?:ਆਪਣੇ|ਹੱਥ|ਨਸ|ਗੁੱਟ|ਬਾਂਹ)",
    r"(?:ਗੁੱਟ|ਹੱਥ|ਬਾਂਹ|ਨਸ) (?:ਤੇ|ਉੱਤੇ) (?:ਬਲੇਡ|ਚਾਕੂ|ਛੁਰੀ)",
    r"(?:ਆਪਣੇ ਆਪ|ਖੁਦ) ਨੂੰ (?:ਨੁਕਸਾਨ|ਸੱਟ|ਦੁੱਖ|ਚੋਟ)",
)
_GURU_OVERDOSE = (
    r"(?:ਬਹੁਤ|ਸਾਰੀਆਂ|ਸਾਰੀ|ਸਭ|ਕਈ|ਢੇਰ|ਦਸ|ਵੀਹ|ਤੀਹ|ਪੰਜਾਹ|[1-9][0-9]+)"
    + G2
    + r" (?:ਗੋਲੀਆਂ|ਗੋਲੀ|ਦਵਾਈਆਂ|ਦਵਾਈ)"
    + G2
    + r" (?:ਖਾ|ਲੈ|ਨਿਗਲ)\S*",
    r"(?:ਜ਼ਿਆਦਾ|ਵੱਧ) (?:ਡੋਜ਼|ਡੋਜ)",
    r"ਓਵਰਡੋਜ਼ (?:ਹੋ|ਲੈ|ਕਰ)\S*",
)
_GURU_RELAPSE = (
    r"ਚਿੱਟਾ (?:ਲੈ|ਲਾ|ਲਗਾ|ਪੀ|ਖਿੱਚ)\S*",
    r"ਡੀਲਰ (?:ਆ|ਆਉਣ|ਨੂੰ ਬੁਲਾ)\S*",
    r"(?:ਟੀਕਾ|ਇੰਜੈਕਸ਼ਨ) (?:ਲਾਉਣ|ਲਗਾਉਣ) (?:ਲੱਗਾ|ਲੱਗੀ|ਵਾਲਾ|ਵਾਲੀ)",
)
_GURU_RELAPSE_FIXED = (
    r"(?:ਆਪਣੇ ਆਪ|ਖੁਦ) ਨੂੰ ਰੋਕ ਨਹੀਂ? (?:ਸਕਦ|ਪਾ|ਹੁੰਦ)\S*",
    r"ਕੋਈ (?:ਮੈਨੂੰ )?ਰੋਕ (?:ਲਓ|ਲਵੋ|ਲੈ|ਲਵੇ)",
)
_GURU_USED_AGAIN = r"(?:ਫਿਰ ਤੋਂ|ਫੇਰ|ਦੁਬਾਰਾ|ਮੁੜ) (?:ਪੀ|ਨਸ਼ਾ|ਚਿੱਟਾ)\S*"
_GURU_DISTRESS = r"ਡਰ|ਘਬਰਾਹਟ|ਰੁਕ ਨਹੀਂ?|ਰੋਕ ਨਹੀਂ?|ਮਰ\S*"
_GURU_BREATH = r"ਸਾਹ ਨਹੀਂ? (?:ਆ|ਲੈ)\S*|ਸਾਹ (?:ਔਖਾ|ਮੁਸ਼ਕਲ)|ਹੋਸ਼ ਨਹੀਂ?"
_GURU_DRUG = r"ਡੋਜ਼|ਓਵਰਡੋਜ਼|ਗੋਲੀਆਂ|ਨਸ਼ਾ|ਚਿੱਟਾ"


def _build() -> tuple[Phrase, ...]:
    en, latn, deva, guru = EN, LATN, DEVA, GURU
    out: list[Phrase] = []
    # English (also matches English inside Hinglish messages)
    out += _many("suicide", "en", "latin", en, _EN_SUICIDE)
    out += _many("suicide", "en", "latin", en.fixed(), _EN_SUICIDE_FIXED)
    out += _many("self-harm", "en", "latin", en, _EN_SELF_HARM)
    out += _many("overdose", "en", "latin", en, _EN_OVERDOSE)
    out.append(_phrase("overdose", "en", "latin", en.fixed(), _EN_DANGER_SIGN, _EN_HEAVY_USE))
    out.append(_phrase("overdose", "en", "latin", en, _EN_HEAVY_DRINKING, _EN_SEDATIVES))
    out.append(
        _phrase(
            "suicide",
            "en",
            "latin",
            en,
            r"(?:bought|got|have|buying|tied|tying|found) (?:a |the )?(?:rope|noose)",
            r"know what i am going to do|going to use it|tonight|hang|end it|goodbye|decided"
            r"|made up my mind",
        )
    )
    out.append(
        _phrase(
            "suicide",
            "en",
            "latin",
            en.fixed(),
            r"kms|kys myself",
            r"for real|not joking|seriously|no joke|i am serious|really",
        )
    )
    out.append(
        _phrase(
            "suicide",
            "en",
            "latin",
            en,
            r"i am (?:so |just |really )?(?:done|finished)",
            r"(?:with )?(?:everything|life|breathing|existing|it all)(?= \||$)",
        )
    )
    out.append(
        _phrase(
            "suicide",
            "en",
            "latin",
            en,
            r"ready to (?:go|leave)|time for me to go",
            r"made (?:my )?peace|said (?:my )?goodbyes|forgive me|sorry for everything",
        )
    )
    out += _many("relapse", "en", "latin", en, _EN_RELAPSE)
    out += _many("relapse", "en", "latin", en.fixed(), _EN_RELAPSE_FIXED)
    out.append(_phrase("relapse", "en", "latin", en, _EN_RELAPSED, _EN_DISTRESS))
    # Romanised Hindi and Punjabi
    out += [_phrase("suicide", lang, "latin", latn, src) for lang, src in _LATN_SUICIDE]
    out += _many("suicide", "Latn", "latin", latn.fixed(), _LATN_SUICIDE_FIXED)
    out += _many("self-harm", "Latn", "latin", latn, _LATN_SELF_HARM)
    out += _many("overdose", "Latn", "latin", latn, _LATN_OVERDOSE)
    out.append(
        _phrase(
            "overdose",
            "Latn",
            "latin",
            latn.fixed(),
            r"saans nahi (?:aa|le pa)\S*|saans (?:aukha|mushkil|dikkat)|hosh nahi"
            r"|saans lene (?:mein|vich|ch) (?:dikkat|taklif|takleef|problem|mushkil)",
            r"dose|overdose|goliyan|goli|chitta|nasha|teeka|injection|smack|heroin|daaru|sharab",
        )
    )
    out += _many("relapse", "Latn", "latin", latn, _LATN_RELAPSE)
    out += _many("relapse", "Latn", "latin", latn.fixed(), _LATN_RELAPSE_FIXED)
    out.append(_phrase("relapse", "Latn", "latin", latn, _LATN_USED_AGAIN, _LATN_DISTRESS))
    out.append(
        _phrase(
            "suicide",
            "Latn",
            "latin",
            latn,
            r"rassi|fanda|phanda|faaha",
            r"soch liya|tay kar liya|faisla|aaj raat|latak\S*|soch leya",
        )
    )
    # Hindi, Devanagari
    out += _many("suicide", "hi", "deva", deva, _DEVA_SUICIDE)
    out += _many("suicide", "hi", "deva", deva.fixed(), _DEVA_SUICIDE_FIXED)
    out += _many("self-harm", "hi", "deva", deva, _DEVA_SELF_HARM)
    out += _many("overdose", "hi", "deva", deva, _DEVA_OVERDOSE)
    out.append(_phrase("overdose", "hi", "deva", deva.fixed(), _DEVA_BREATH, _DEVA_DRUG))
    out += _many("relapse", "hi", "deva", deva, _DEVA_RELAPSE)
    out += _many("relapse", "hi", "deva", deva.fixed(), _DEVA_RELAPSE_FIXED)
    out.append(_phrase("relapse", "hi", "deva", deva, _DEVA_USED_AGAIN, _DEVA_DISTRESS))
    out.append(
        _phrase(
            "suicide",
            "hi",
            "deva",
            deva,
            r"रस्सी|फंदा|फांसी",
            r"सोच लिया|तय कर लिया|फैसला|आज रात|लटक\S*",
        )
    )
    # Punjabi, Gurmukhi
    out += _many("suicide", "pa", "guru", guru, _GURU_SUICIDE)
    out += _many("suicide", "pa", "guru", guru.fixed(), _GURU_SUICIDE_FIXED)
    out += _many("self-harm", "pa", "guru", guru, _GURU_SELF_HARM)
    out += _many("overdose", "pa", "guru", guru, _GURU_OVERDOSE)
    out.append(_phrase("overdose", "pa", "guru", guru.fixed(), _GURU_BREATH, _GURU_DRUG))
    out += _many("relapse", "pa", "guru", guru, _GURU_RELAPSE)
    out += _many("relapse", "pa", "guru", guru.fixed(), _GURU_RELAPSE_FIXED)
    out.append(_phrase("relapse", "pa", "guru", guru, _GURU_USED_AGAIN, _GURU_DISTRESS))
    out.append(
        _phrase(
            "suicide",
            "pa",
            "guru",
            guru,
            r"ਰੱਸੀ|ਫਾਹਾ|ਫੰਦਾ",
            r"ਸੋਚ ਲਿਆ|ਫੈਸਲਾ|ਅੱਜ ਰਾਤ|ਲਟਕ\S*",
        )
    )
    return tuple(out)


PHRASES: Final = _build()
