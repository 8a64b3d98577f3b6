"""Phrases written in Latin script: English, and Hindi and Punjabi romanised.

English phrases use the ``EN`` rule (negation before the verb); romanised Hindi and
Punjabi use ``LATN`` (negation mostly after the object) and are written in the canonical
spellings of ``canon.CANON``. Their language, "Latn", is told apart at detection time by
``canon.PUNJABI_MARKERS`` and ``canon.HINDI_MARKERS``.
"""

from __future__ import annotations

import re
from typing import Final

from .common import EN_NEGATORS, G1, G2, G3, G4, LATN_NEGATORS, Rule, Table, each, together

# -- history --------------------------------------------------------------------------------

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
    # Recovery stories: the time of the addiction, told from sobriety.
    "last year",
    "months ago",
    "in my drinking days",
    "in my using days",
    "in active addiction",
    "in my addiction",
    "at my worst",
    "at my lowest",
    "at rock bottom",
    "before i got sober",
    "before i got clean",
    "before i got help",
    "before recovery",
    "the old me",
    "in high school",
    # A story told about someone else: a film, a book, a series.
    "in the movie",
    "in the film",
    "in the book",
    "in the show",
    "in the series",
    "the character",
)
# The same as patterns: a year ("in 2015"), the time of the addiction ("when I was
# drinking"), and hyperbole by degree ("so boring I wanted to die"). They are searched in
# the clause with the match itself left out ("so boring i # lol").
EN_HISTORY_PATTERN: Final = re.compile(
    r" (?:in|back in|around) (?:19|20)[0-9][0-9] "
    r"| when i was (?:still )?(?:[0-9]+|a teen|a teenager|a kid|a child|younger|little|in school"
    r"|at school|in college|drinking|using|drunk|high|in rehab|in active addiction|at my worst"
    r"|at my lowest) "
    r"| (?:so|too|really) (?:boring|bad|long|awkward|embarrassing|cringe|cringey|funny|hot|cold"
    r"|loud|slow|annoying|hungry|full) (?:that )?i "
)
LATN_HISTORY: Final = (
    *EN_HISTORY,
    "pehle",
    "pehlan",
    "saal pehle",
    "kabhi pehle",
    "khabar",
    "khabrein",
    "pichle saal",
    "pichhle saal",
    "pichle mahine",
    "pichhle mahine",
    # Advice and other people, in Hindi and Punjabi as in English ("agar koi kahe ki ...").
    "agar koi",
    "jab koi",
    "agar kisi",
    "kisi ko bhi",
    "usne kaha",
    "usne bola",
    "je koi",
    "jekar koi",
    "jado koi",
    "jadon koi",
    "ohne kiha",
    "usne kiha",
    # Films and stories.
    "film mein",
    "movie mein",
    "kahani mein",
    "serial mein",
    "film vich",
    "movie vich",
    "kahani vich",
)
# Past auxiliaries right after a desire verb: "marna chahta tha" (I wanted to die).
LATN_PAST: Final = frozenset("tha thi the si sigi".split())

EN: Final = Rule(True, 4, 0, EN_NEGATORS, EN_HISTORY, frozenset(), EN_HISTORY_PATTERN)
LATN: Final = Rule(True, 2, 8, LATN_NEGATORS, LATN_HISTORY, LATN_PAST, EN_HISTORY_PATTERN)

# -- English phrases ------------------------------------------------------------------------

_EN_SUICIDE = (
    r"(?:kill|killing|killed|end|ending|hang|hanging|hanged|drown|drowning|poison"
    r"|poisoning|off|offing|suffocate|strangle|stab|stabbing) myself",
    r"(?:shoot|shooting) myself(?! in the foot)",
    r"(?:want|wanted|wants|wanting|going|plan|planning|planned|ready|decided|need|needs"
    r"|trying|tried|try|about) to (?:just |simply )?die",
    r"want to be dead|wish i (?:was|were|could be) dead|rather (?:be dead|die)(?! than)"
    r"|rather (?:be dead|die) than (?:keep|go on|live|carry on|be alive|wake up|face|feel|be here"
    r"|spend another|do this|go through)"
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
    r"|(?:goodbye|bye) (?:everyone|everybody|all|guys|all of you|world) (?:forever|for good)"
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
    r"(?:no|see no|do not see (?:a|any)|there is no|can not see (?:a|any)) way out"
    r"|(?:see no|do not see (?:a|any)|can not see (?:a|any)) way forward(?= \||$)",
    r"can not (?:go on|carry on|keep going|do this|do it|take it|take this|handle (?:it|this)"
    r"|live like this)(?: [^\s|]+)? (?:anymore|any longer)",
    r"can not (?:go on|carry on|keep going) like this(?! (?:with|at|in|for|about|because))"
    r"|can not (?:go on|carry on|keep going)(?= \||$)",
    r"(?:no|not any|see no|do not see (?:the|any)|there is no|what is the|whats the)"
    r" (?:reason|point|purpose) (?:to|in|of) (?:live|living|life|go on|going on|being alive"
    r"|carry on|keep going)",
    r"nothing (?:left )?to live for",
    r"(?:life|living) (?:is not|is no longer|not) worth (?:living|it)|not worth living",
    r"(?:not sure|do not know if) i (?:want|can) (?:to )?(?:live|go on|keep going|be alive)",
    r"(?:and|to|hope i|wish i|i will|i would|just) (?:never|not) wake up"
    r"(?! (?:early|at|before|so early|this early|that early|on time))",
    r"(?:will not|would not|not going to|never going to)(?: (?:even|still))? be (?:around|here|alive)"
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
    r"(?! (?:coffee|tea|chai|caffeine|sugar|food|cake|water|energy drinks?|red bull|coke zero))"
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

# -- English constructions ------------------------------------------------------------------
# The phrases above grew sentence by sentence and did not generalise (held-out English
# recall 0.43). What follows is written by construction instead: slots of words that play
# the same part (drugs, means, body parts, how relief is said), and the frames they fill,
# so that a new sentence of a known shape is caught whatever its words.

_EN_DRUG_ALT = (
    r"pills|tablets|meds|medication|medicine|medicines|painkillers|sleeping pills"
    r"|sleeping tablets|sleeping meds|antidepressants|paracetamol|tylenol|ibuprofen|insulin"
    r"|methadone|xanax|valium|benzos|diazepam|tramadol|oxy|oxys|oxycodone|oxycontin|morphine"
    r"|codeine|opioids|fentanyl|fent|heroin|subs|suboxone|lithium|seroquel"
)
_EN_DRUG = f"(?:{_EN_DRUG_ALT})"
_EN_ALCOHOL = r"(?:alcohol|booze|vodka|whiskey|whisky|wine|beer|beers|rum|gin|daru|daaru|liquor|tequila|brandy)"
_EN_MEANS = (
    r"(?:rope|noose|belt|knife|knives|gun|pistol|shotgun|blade|blades|razor|razors|pills|tablets"
    r"|bridge|tracks|train tracks|railway|railway line|ledge|roof|rooftop|cliff|balcony|overpass"
    r"|knife drawer|medicine cabinet)(?! (?:club|course|game|class|party|shop|store))"
)
_EN_BODY_ALT = (
    r"arms?|legs?|thighs?|wrists?|skin|stomach|hips?|belly|chest|forearms?|veins?|ankles?"
    r"|shoulders?|calves|neck|throat"
)
_EN_BODY = f"(?:{_EN_BODY_ALT})"
# What others would feel, or be, without the writer ...
_EN_RELIEF = (
    r"(?:better|better off|happier|easier|relieved|relief|a relief|fine|okay|ok|free|freer|lighter"
    r"|safer|happy|at peace|glad|more peaceful|a favour|a favor|a blessing)"
)
# ... and how the writer being gone is put ("you'll be fine without me tonight" is not).
_EN_GONE = (
    r"(?:without me(?= \||$| around| here| in it| in their| anyway| anymore| honestly| really"
    r"| for good| permanently)|once i am gone|when i am gone|after i am gone|after i die|once i die"
    r"|if i (?:were|was|am) (?:gone|dead|not here|not around|not alive|no longer here"
    r"|no longer around)|if i (?:died|ended it|ended my life|killed myself|disappeared|left"
    r" for good|did it|was gone for good|were gone for good|went away for good|was not here"
    r"|were not here|was not around|were not around))"
)
_EN_DIE = (
    r"(?:die(?! (?:of|from|laughing|for|to|waiting|on|in this|when))|be dead|kill myself|end it all"
    r"|end my life|end everything|end things|take my (?:own )?life|stop existing|sleep forever"
    r"|hang myself|leave this world|disappear (?:forever|for good|permanently)"
    r"|be gone (?:forever|for good|permanently)|not (?:be here|be around|be alive|exist|wake up)"
    r"(?= \||$| anymore| any more| at all| forever| for good| ever again))"
)
_EN_DYING = (
    r"(?:dying(?! (?:my|her|his|the) hair| of| laughing| to)|killing myself|ending it|ending it all"
    r"|ending my life|ending things|suicide|taking my (?:own )?life|not waking up|never waking up"
    r"|hanging myself|overdosing|jumping(?: off)?(?= \||$)|disappearing forever"
    r"|how to (?:die|do it|end it|kill myself))"
)
# Using, for relapse in danger (not drinking: "drinking alone" is not yet an emergency).
_EN_USE_ALT = (
    r"use|using|shoot up|shooting up|shoot|shooting|inject|injecting|fix|fixing|get high"
    r"|getting high|snort|snorting|do (?:it|a hit|a line|a shot|heroin|fent|fentanyl|meth|coke"
    r"|dope|gear)|doing (?:it|heroin|fent|fentanyl|meth|coke|dope|gear)|take (?:it|a hit)"
    r"|taking (?:it|a hit)|dose|dosing"
)
_EN_USE = f"(?:{_EN_USE_ALT})"
_EN_ALONE = (
    r"(?:alone|by myself|on my own|with nobody (?:around|here|home)|nobody (?:around|here|home"
    r"|with me|will (?:know|check|find|notice))|nobody is (?:around|here|home|coming)"
    r"|house to myself|place to myself)"
)
_EN_RECKLESS = (
    r"(?:do not|does not) care (?:what happens|if (?:i|it|this|that) (?:just )?(?:die|dies"
    r"|kills me|kill me|wake up|od|overdose|make it|live))|whatever happens(?: happens)?"
    r"|come what may|(?:until|till|til) (?:it stops hurting|it kills me|i (?:pass out|black out"
    r"|can not feel|feel nothing|stop feeling|die|am numb|am dead))|and see what happens"
)

_EN_CONSTRUCTIONS = (
    # Desire, intent or plan + dying: "I am ready to finally end it all".
    r"(?:want|wants|need|wish|plan|planning|ready|decided|going|trying|tempted|about|prepared"
    r"|preparing|intend|intending) to" + G1 + " " + _EN_DIE,
    r"(?:thinking|think|thought|thoughts|dreaming|fantasising|fantasizing) (?:about|of) " + _EN_DYING,
    # Passive wishes: "I hope I die in my sleep".
    r"(?:hope|hoping|pray|praying|wish|wishing) (?:that )?i (?:just )?(?:die|would die|will die"
    r"|could die|was dead|were dead|had died|drop dead)",
    r"(?:die|dying) in my sleep",
    r"(?:tired|sick|exhausted|weary) of (?:being alive|existing|life|living|waking up|breathing"
    r"|being me)(?= \||$| anymore| any more| and| i | so| already| honestly| every| each| now)",
    r"(?:done|tired of|sick of|stop|stopped|give up|gave up|giving up) trying to (?:stay alive|live"
    r"|keep going|go on|survive|be alive|keep living)",
    r"(?:given|give|giving|gave) up on (?:life|living|myself|everything)",
    r"(?:no|lost the|lost my|losing the|losing my|lose the|without the) will to live",
    # Burden: "they would all be relieved if I were gone".
    _EN_RELIEF + r"(?: [^\s|]+){0,6} " + _EN_GONE,
    r"(?:better|happier|easier|good|nicer) (?:life|lives|place|world|home)(?: [^\s|]+){0,2} without me",
    r"without me in (?:it|their lives|his life|her life|the picture|the way)",
    r"better off with(?: [^\s|]+){0,5} than (?:with )?me",
    # Last contact: "this is the last time you will hear from me".
    r"(?:this is|it is|will be) the last time (?:i (?:am going to|will) (?:reach out|write|post"
    r"|ask|talk|say|message)|(?:you|anyone) (?:will|are going to) (?:hear from|see) me)"
    r"|last time (?:you|anyone) (?:will|are going to) (?:ever )?(?:hear from|see) me"
    r"|(?:you|nobody) will (?:never )?(?:hear from|see) me again",
    r"(?:said|saying|say) (?:my )?goodbyes? to(?: [^\s|]+){1,3} (?:for the last time|one last time"
    r"|forever|for good)",
    # Plans: "I'm working out how I'm going to do it".
    r"(?:planning|planned|plan|figured out|worked out|working out|decided|deciding|chose|chosen"
    r"|picked|researching|looked up|looking up|googled|googling) (?:how|when|where) (?:i am going"
    r" to|i will|to|i would|i could|i should|i can) (?:do it|end it|go|die|kill myself|end my"
    r" life|end things|do this)(?= \||$| tonight| today| tomorrow| this| soon)",
    # Means sought out or at hand: "I keep walking to the train tracks", "rope is ready".
    r"(?:i keep|i kept|i have been|i am|i can not stop|i could not stop|spent (?:the|all) (?:day"
    r"|night|evening)|keep|kept)"
    r" (?:looking at|staring at|thinking about|going to|going back to|walking to|walking past"
    r"|walking by|driving to|driving past|driving by|standing (?:at|on|by|near)|sitting (?:at|on"
    r"|by|near)|holding|touching|checking|visiting) (?:the|a|my|that|this)(?: [^\s|]+)? " + _EN_MEANS,
    r"(?:have|got|bought|tied|set up|hid|hidden|put) (?:the|a|my) " + _EN_MEANS + r" (?:ready|tied"
    r"|set up|all set|prepared|laid out|lined up|out)(?= \||$| and| to| for| tonight| now)",
    r"(?:rope|noose|pills|tablets|gun|blade|razor) (?:is|are) (?:ready|tied|set up|laid out"
    r"|lined up|loaded)",
    r"(?:sitting|sat|lying|here|in my room|in the bathroom|in bed|in my car) (?:here |there )?with"
    r" (?:a|the|my) (?:blade|razor|rope|noose|gun|pistol)",
)
# Constructions that carry their own negation ("I don't think I can keep going").
_EN_FIXED_CONSTRUCTIONS = (
    # Endurance.
    r"(?:do not think|do not know if|do not know whether|not sure if|not sure|doubt|do not know"
    r" how much longer|do not know how long|no idea how much longer|no idea how long) i (?:can"
    r"|could|will be able to|am able to) (?:keep going|go on|carry on|keep doing this|do this"
    r"|take (?:it|this|much more)|hold on|last|survive|keep living|cope|keep fighting)"
    r"(?= \||$| anymore| any longer| much longer| like this| for much longer| another day"
    r"| one more day| for long)",
    r"can not (?:keep|go on|carry on) (?:living|existing|waking up|going on)(?: like this)?",
    r"(?:do not think|doubt) i will (?:still )?(?:be (?:alive|here|around)|make it|survive)"
    r"(?= \||$| tomorrow| next| much| by| through| till| until| for| past| the)",
    r"(?:do not|can not) see (?:a|any) future (?:for me|for myself)",
    r"(?:do not|can not) see myself (?:being )?(?:alive|here|around|living) (?:by|next|in|past"
    r"|after|at)",
    r"(?:will not|would not) be (?:around|here|alive) (?:for it|to see it|much longer|for long"
    r"|for much longer|by (?:then|tomorrow|morning|the morning|next week))",
    # No reason, no point: "there is no reason for me to be here".
    r"(?:no|not (?:a|any|one)|see no|do not see (?:a|any|the)|can not see (?:a|any|the)|there is no"
    r"|can not find (?:a|any)|can not think of (?:a|any)|do not have (?:a|any)|what is the"
    r"|what is even the) (?:good |real |single )?(?:reason|point|purpose|use) (?:for me |left )?"
    r"(?:to|in|of) (?:live|living|life|be here|being here|be alive|being alive|stay alive"
    r"|staying alive|stay|go on|going on|keep going|carry on|carrying on|wake up|waking up|get up"
    r"|getting up|exist|existing|continue|anything|everything|it all|any of (?:it|this)|me"
    r"|keep trying|trying(?! to)|fight(?! (?:with|for|over|about))|fighting(?! (?:with|for|over"
    r"|about)))(?! (?:this|so|too|yet|at|on|today|now|early|before|tonight|tomorrow|for (?:the|a"
    r"|this)))",
    r"what is (?:even )?the point (?:anymore|any more|of it all)(?= \||$)|what is even the point"
    r"|is there even a point",
    # Passive wishes in the negative: "praying I don't wake up".
    r"(?:hope|hoping|pray|praying|wish|wishing) (?:that )?i (?:do not|never|would not|will not"
    r"|did not|had not|would never|will never) (?:wake up|woke up|woken up|survive|make it)"
    r"(?! (?:early|at|before|so early|this early|that early|on time|late))",
    r"wish i (?:had not|did not|never) (?:woken up|woke up|been born|survived)",
    r"(?:do not|does not) care (?:if|whether) (?:i|it|this|that|the next one|this hit|this one)"
    r" (?:just )?(?:od|overdose|overdosed|kills me|kill me|die|dies|wake up)",
)
_EN_SELF_HARM_CONSTRUCTIONS = (
    # Cutting-type verbs on the body are self-harm on their own ...
    r"(?:cut|cutting|carve|carved|carving|slash|slashed|slashing|slice|sliced|slicing|stab"
    r"|stabbed|stabbing|gouge|gouged|gouging)(?: into)? my " + _EN_BODY,
    # ... the others with how or why: "scratched my arms raw on purpose".
    r"(?:scratch|scratched|scratching|burn|burned|burnt|burning|hit|hitting|punch|punched"
    r"|punching|bang|banged|banging|pinch|pinched|pinching|bite|bit|biting)(?: into)? my "
    + _EN_BODY
    + r"(?: [^\s|]+){0,3} (?:raw|on purpose|deliberately|intentionally|(?:till|until|til)"
    r" (?:they|it|i|the skin) (?:bleed|bleeds|bled|broke|hurt|hurts|blistered)|to feel|to punish"
    r"|so (?:it|they) (?:would )?(?:hurt|bleed))",
    # Urges: "the urges to burn my skin".
    r"(?:urge|urges|want|wanted|wanting|need|needing|itching|tempted|craving|cravings|going"
    r"|about|planning|desire|impulse|impulses) to (?:cut|burn|hurt|harm|scratch|carve|bleed"
    r"|punish|slice|stab|hit) (?:myself|my " + _EN_BODY + r"|again)",
    r"(?:urge|urges|impulse|impulses) to (?:cut|burn|carve|bleed|self harm|hurt)"
    r"(?= \||$| again| tonight| so| really| is| are| back)",
    r"(?:want|need|crave|miss|craving|urge|itching) to (?:feel|see) (?:the |my )?(?:blade|razor"
    r"|my blood|my own blood)",
    r"(?:holding|hold|have|got|put|putting|pressing|press) (?:a|the|my) (?:knife|blade|razor|glass"
    r"|shard|gun|pistol|scissors) (?:to|against|on|at|into) my (?:" + _EN_BODY_ALT + r"|head|face)",
    r"(?:got|get|getting|took|taking|have) (?:my|the|a) (?:razor|blade|blades|knife) out",
)
_EN_HIT_WALL = (
    r"(?:punch|punched|punching|hit|hitting|bang|banged|banging|slam|slammed|slamming|smash"
    r"|smashed|smashing)(?: my (?:fists?|hands?|head))? (?:into |against )?(?:the |a )?(?:wall"
    r"|walls|door|mirror|my head|floor)"
)
_EN_HIT_WALL_HOW = (
    r"(?:till|until|til) (?:my )?(?:knuckles|hands?|fists?|head|it|they) (?:bled|bleed|bleeds"
    r"|was bleeding|were bleeding|broke|cracked)|wanted it to hurt|want it to hurt|on purpose"
    r"|deserved? (?:it|the pain|to hurt)|to feel (?:something|pain)"
)
_EN_OVERDOSE_CONSTRUCTIONS = (
    # Stockpiling: "I've saved up enough tablets".
    r"(?:saved|saving|stockpiling|stockpiled|hoarding|hoarded|collecting|collected|stashing"
    r"|stashed|stocking up on|stocked up on|hiding|hid|squirrelling|squirreling|putting aside"
    r"|put aside|set aside|setting aside|kept back|keeping back) (?:up )?(?:enough |all |all of"
    r" |some of |a lot of |loads of |a stash of |a bunch of )?(?:my |the |these |those )?" + _EN_DRUG,
    _EN_DRUG + r" (?:saved|stockpiled|stashed|hoarded|put aside|set aside) (?:up )?(?:for|to|and"
    r"|ready|now)",
    # Lethality looked up: "I looked up the lethal dose of my meds".
    r"(?:looked up|looking up|look up|googled|googling|searched|searching|researched"
    r"|researching|find out|found out|finding out|checked|checking|read up on|asking about"
    r"|ask about|know) (?:the |a |what )?(?:lethal|fatal|deadly|toxic) (?:dose|amount|dosage"
    r"|doses)",
    r"(?:lethal|fatal|deadly) (?:dose|amount|dosage) of (?:my|these|those|your|his|her)",
    r"how (?:many|much)(?: of)?(?: my| the| these| those)?(?: [^\s|]+)? " + _EN_DRUG + r"(?: [^\s|]+)?"
    r" (?:would it take|does it take|it takes|it would take|would i need|do i need|would kill"
    r"|will kill|to (?:die|kill|overdose|od|not wake up|end it|never wake up)|is (?:lethal|fatal"
    r"|deadly|too many|too much)|until)",
    # Everything at once: "swallow every pill in the house".
    r"(?:take|taking|took|swallow|swallowing|swallowed|down|downing|downed|pop|popping|popped"
    r"|eat|ate) (?:every|each) (?:single )?(?:pill|tablet|med|capsule)",
    r"(?:take|taking|took|swallow|swallowing|swallowed|down|downing|downed|pop|popping|popped)"
    r" (?:everything|all the " + _EN_DRUG + r"|every " + _EN_DRUG + r") (?:in|from) (?:the|my)"
    r" (?:house|cabinet|medicine cabinet|bathroom|drawer|kitchen|box|cupboard|flat)",
    r"(?:use|take|shoot|snort|drink|swallow|do|using|taking|shooting|snorting) (?:everything"
    r"|all) i (?:have|got|bought|scored|picked up)",
    # Sedatives and alcohol on purpose: "mix my sleeping pills with a bottle of wine".
    r"(?:mix|mixing|mixed|combine|combining|combined|wash down|washing down|washed down)"
    r" (?:my |the |some |all |all my |a few |a |a bunch of |a handful of )?(?:[^\s|]+ )?"
    + _EN_DRUG
    + r"(?: [^\s|]+){0,2} (?:with|and) (?:a |the |my |some |half a )?(?:bottle of |glass of |few"
    r" |whole bottle of )?" + _EN_ALCOHOL,
    r"(?:mix|mixing|mixed|combine|combining|combined) (?:my |the |some |a |a bottle of |half a"
    r" bottle of )?" + _EN_ALCOHOL + r"(?: [^\s|]+){0,2} (?:with|and) (?:my |the |some |all my"
    r" |a few |a bunch of )?(?:[^\s|]+ )?" + _EN_DRUG,
)
# Using alone: nobody there to call for help or give naloxone.
_EN_RELAPSE_CONSTRUCTIONS = (
    _EN_USE + r"(?: [^\s|]+){0,4} " + _EN_ALONE,
    r"(?:alone|by myself|on my own)(?: [^\s|]+){0,3} (?:going to|about to|will|want to|planning"
    r" to) " + _EN_USE,
)
# Two-part constructions (parts anywhere in the message).
_EN_INTENT_TO_USE = (
    r"(?:going to|about to|will|want to|planning to|plan to|decided to|ready to|need to)"
    r"(?: [^\s|]+)? (?:" + _EN_USE_ALT + r"|drink|get drunk|get wasted|relapse|pick up)"
)
_EN_DEALER = (
    r"(?:at|outside|in|to|going to|on my way to|heading to) (?:the |my )?(?:dealers|dealer|plugs"
    r"|plug|connects|connect)(?: (?:place|house|flat|door|spot))?"
)
_EN_NOW_OR_DISTRESS = r"right now|now|scared|afraid|can not stop|tonight|help|terrified"
# Tolerance drops with sobriety: the old dose after a break is how many overdoses happen.
_EN_OLD_DOSE = (
    r"(?:going to|about to|will|planning to|want to|do|use|take|shoot|have|doing|using|taking)"
    r"(?: [^\s|]+){0,2} (?:my |the )?(?:old|usual|normal|regular|same|full) (?:amount|dose"
    r"|dosage|hit|shot|quantity)"
)
_EN_ABSTINENT = (
    r"(?:have not|had not|did not|not) (?:used|touched|drank|had any|had a)(?: [^\s|]+){0,2}"
    r" (?:in|for)|(?:clean|sober) (?:for|since)|(?:months|weeks|years|days) (?:clean|sober|off)"
)
_EN_PREPARATION = (
    r"(?:wrote|written|writing|write|left|leaving|leave) (?:a |my |some |the )?(?:final |last"
    r" |goodbye )?(?:note|notes|letter|letters)|(?:put|putting|got|getting|get) my (?:affairs"
    r"|things|stuff|papers) in order|(?:updated|updating|wrote|made|making|written|changed)"
    r" (?:my|a) (?:will|testament)|(?:gave|giving|give|given) away (?:my|all my|all of my)"
    r"|(?:said|saying|say) (?:my )?goodbyes? to"
)
_EN_FINALITY = (
    r"just in case|in case i|in case something|when i am gone|after i am gone|once i am gone"
    r"|for the last time|one last time|will not need|do not need (?:it|them|him|her|these|those"
    r"|my)|no longer need"
)
_EN_DECISION = (
    r"(?:decided|made up my mind|mind is made up|made my decision|made the decision|it is decided"
    r"|no going back|no turning back)"
)
_EN_DECISION_WHEN = (
    r"(?:(?:tonight|today|tomorrow|this weekend|this week) (?:is|will be) (?:it|the night|the day)"
    r"|(?:it is|this is) (?:it|time))(?= \||$)|no going back|no turning back|made (?:my )?peace"
)
_EN_WANT_OUT = r"(?:want|need) out(?= \||$)|want out of (?:this life|life|it all|everything|this world)"
_EN_HATE_LIFE = r"(?:hate|sick of|tired of|done with) (?:my )?(?:life|living|everything|it all)"
_EN_DOUBLE_DOSE = (
    r"(?:took|taken|used|had|did|taking|take) (?:a )?(?:double|triple|twice|two times|three times"
    r"|2x|3x) (?:my |the |a )?(?:usual |normal |regular )?(?:dose|dosage|amount|methadone|meds"
    r"|pills|insulin|hit|shot)"
)
_EN_DROWSY = (
    r"(?:so |really |very |super )?(?:sleepy|drowsy|dizzy|confused|woozy)|(?:can not|could not)"
    r" (?:stay awake|keep my eyes open|think straight)|feel (?:really |so |very )?(?:weird|strange"
    r"|wrong)(?= \||$| and)"
)
_EN_BINGE = (
    r"(?:using|drinking|high|drunk|awake|on it|binging|bingeing)(?: [^\s|]+){0,2} (?:for )?(?:[0-9]+"
    r"|two|three|four|five|six|seven|several|a few|many) (?:days|nights)(?: straight| in a row"
    r"| non stop)?|(?:days|nights) (?:straight|in a row) (?:using|drinking|high)|on a bender"
)
_EN_RELAPSE_DISTRESS = _EN_DISTRESS + r"|(?:have not|had not) slept"

# -- Romanised Hindi and Punjabi ------------------------------------------------------------
# Canonical spellings: see ``canon.CANON``.
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
        r"(?:aakhri|antim) (?:message|msg|sandesh|post)"
        r"|(?:mera|meri|yeh|ye|eh|ih|mera ye|mera eh) last (?:message|msg|sandesh|post)"
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


# -- Hindi and Punjabi constructions -------------------------------------------------------
# As for English: frames with slots, one set per script (Devanagari and Gurmukhi: in their
# own modules). Romanised spellings are canonical (see ``canon.CANON``).

_LATN_RELIEF = (
    r"(?:khush|sukhi|better|behtar|theek|chain|aaram|bhala|sokhi|saukhi|sukh|azaad|free|relief"
    r"|khushi|changa|changi|vadhiya|badhiya|hasde|hanste)\S*"
)
_LATN_CONSTRUCTIONS = (
    # Burden: "mere jaane ke baad sab chain se rahenge", "je main na hovan taan ...".
    r"(?:mere|meri) (?:bina|baghair|bagair|bagher|jaane ke baad|jaan ton baad|jaan de baad"
    r"|marne ke baad|marn ton baad|marne ton baad|marne se|jaane se)" + G4 + " " + _LATN_RELIEF,
    r"(?:agar|je|jo) (?:main )?(?:na|nahi) (?:rahun|rahu|raha|rahaan|rahan|hovan|hova|hun|hota"
    r"|hunda|hoon)" + G4 + " " + _LATN_RELIEF,
    r"(?:main )?(?:na|nahi) (?:rahun|rahaan|rahan|hovan) (?:to|toh|taan|tan)" + G4 + " " + _LATN_RELIEF,
    r"(?:mera|mere) (?:na|nahi) (?:hona|rehna|rahna|hon|rehn)" + G3 + r" (?:theek|achha|better"
    r"|behtar|changa|sahi|bhala)\S*",
    # Pills saved up: "neend ki goliyan ikatthi kar rakhi hain".
    r"(?:goliyan|goli|tablets|pills|dawaiyan|dawai|dawaai|meds)" + G3 + r" (?:jama|jamaa|ikattha"
    r"|ikatthi|ikatthe|ikathi|ikathiyan|ikatthiyan|katthiyan|kathiyan|katthi|kathi|bacha|bachaa"
    r"|chhupa|chhupaa|luko|lukaa|stock)\S*",
    # Using alone, the whole stash at once: "aaj akele room mein poora maal le lunga".
    r"(?:poora|pura|poori|puri|saara|sara|saari|sari) (?:maal|stash|packet|pudiya|chitta|dose)"
    + G2
    + r" (?:le|la|laa|lai|lag|laga|pee|pi|kheench|khich|maar|ikko|ek saath|ek baar|ikk vaar)\S*",
    # "Do something to myself": "darr hai ki main khud ko kuch kar baithunga".
    # (self-harm: see _LATN_SELF_HARM_CONSTRUCTIONS)
    # Ending, Punjabi "mukaa": "sab kujh mukaun da faisla kar leya", "sab mukk jaauga".
    r"(?:sab|sab kuch|sab kujh|sabkuch|zindagi|apni zindagi|apne aap|apne aap nu|khud nu|kahani"
    r"|khed) (?:hi )?(?:muka|mukaa|mukau|mukaun|mukaan|mukka|mukk|mukana|mukauna)\S*",
    r"(?:khatam|muka|mukaun|mukau)\S* (?:karne |karn |kar dene )?(?:ka|da|di|ki) (?:faisla|plan"
    r"|iraada|irada)",
    # Letters: "aakhri chitthi", and see the two-part letters + in case.
    # Not "last": "the last note of the song".
    r"(?:aakhri|antim|akhiri) (?:chitthi|chithi|khat|letter|note)|last (?:chitthi|chithi|khat)",
)
# With their own negation.
_LATN_FIXED_CONSTRUCTIONS = (
    # Endurance: "ab aur nahi sehan hota", "hun hor nahi jhal sakda".
    r"(?:ab|hun|aur|hor) (?:aur |hor )?(?:nahi|na) (?:jhel|jhal|seh|sah|sehan|bardasht|jhalia"
    r"|jhaleya|saha|sahaa|sehna|sahna|jhalea)\S*",
    r"(?:jhel|jhal|seh|sah|sehan|bardasht)\S* (?:hi )?nahi (?:hota|hunda|hoti|hundi|ho|sakta"
    r"|sakda|sakdi|jaata|janda|jaandi|paunga|hoga)",
    # Meaningless: "zindagi ka koi matlab nahi", "jeene ki koi wajah hi nahi bachi".
    r"(?:zindagi|jeene|jeon|jeen|jeevan|life|kisi cheez|kise cheez|kisi baat|kise gal|kisi gal"
    r"|kisi bhi cheez|kise vi cheez|kisi bhi baat) (?:ka|da|ki|di|mein|vich|ch|nu|ko) (?:koi |hun"
    r" |ab |bhi |vi )?(?:matlab|maksad|fayda|faida|mol|wajah|reason|point|umeed|sense|mann|dil"
    r"|iccha) (?:hi |bhi |vi )?nahi",
    r"(?:jee|ji|jeeke|jeekar|jeo) (?:ke |kar )?(?:kya|ki) (?:karna|karu|karun|karunga|karanga"
    r"|faida|fayda|labh)|kya fayda (?:jeene|zindagi|jeon)",
    # "May I not wake up": "kaash subah aankh hi na khule", "rabb kare savere uthan hi na".
    r"(?:kaash|kash|rabb kare|rab kare|bhagwan kare|waheguru kare|dua hai|dua karda|dua karta)"
    + G4
    + r" (?:(?:na|nahi) (?:uthun|uthan|uthu|jaagun|jaagan|jaagu|khule|khulle|khulan)|(?:uthun"
    r"|uthan|uthu|jaagun|jaagan|khule|khulle)(?: hi)? (?:na|nahi))",
    r"(?:kabhi|dobara|phir kabhi|fer kade|kade) (?:na|nahi) (?:uthun|uthan|jaagun|jaagan|khule)",
    r"(?:uthna|jaagna|uthana|jagna) hi (?:na|nahi)(?: hai| aa| e)?(?= \||$)",
    # Indifference to surviving: "subah uthun ya na uthun koi farak nahi padta".
    r"(?:uthun|uthan|uthu|jaagun|jaagan|bachun|bachan|jeeun|jiyun|marun|maran) (?:ya|ja) (?:na"
    r"|nahi)(?: [^\s|]+){0,5} (?:farak|fark|parwah|parvah|fikar|fikr)",
)
_LATN_SELF_HARM_CONSTRUCTIONS = (
    r"(?:khud|apne aap|aapne aap) (?:ko|nu) (?:kuch|kujh|kuchh) (?:kar|kar baith|kar le|kar la"
    r"|kar lai|kar de)\S*",
    r"(?:haath|nas|kalai|wrist|baanh|banh|bazu|arm|gutt)(?: (?:pe|par|te|utte))? (?:blade|razor"
    r"|chaku|churi|chhuri) (?:chala|chalaa|chalaya|maar|maare|phera|fer)\S*",
    r"(?:blade|razor|chaku) (?:naal|se) (?:baanh|banh|haath|kalai|gutt|nas)(?: (?:te|pe|par))?"
    r" (?:cut|kaat|katt|zakham|nishan)\S*",
    r"(?:baanh|banh|haath|kalai|gutt|nas) (?:te|pe|par) (?:cut|cuts) (?:maar|maare|lagaye|lagaaye"
    r"|kiye|kitte)\S*",
)
_LATN_ALONE = r"akele|akela|akeli|kalla|kalli|kalle|ikalla|ikalli|ikalle|alone"
_LATN_WILL_USE = (
    r"(?:maal|chitta|nasha|teeka|injection|smack|heroin|fent|drugs|dose|sui|use)" + G2 + r" (?:lunga"
    r"|lungi|lavanga|laavanga|laauga|launga|lauga|launga|laina|lena|lagaunga|lagaungi|lagavanga"
    r"|karunga|karungi|karanga|maarunga|piunga|peeunga|le lunga|la laina|lai laina|kar lunga)"
)
_LATN_LETTERS = (
    r"(?:chitthi|chitthiyan|chithi|chithiyan|chitthiyaan|khat|letter|letters|note|notes)"
    r"(?: [^\s|]+){0,3} likh\S*"
)
_LATN_IN_CASE = (
    r"just in case|in case|(?:agar|je) (?:mujhe|mainu|main) (?:kuch|kujh) (?:ho|hoya|ho gaya|ho"
    r" jaye|ho jave|ho jaave)|mere (?:jaane|jaan|marne|marn) (?:ke|ton|de) baad|alvida"
)

# -- the table ------------------------------------------------------------------------------

TABLE: Final = Table(
    "latin",
    (
        # English (also matches English inside Hinglish messages)
        each("suicide", "en", EN, _EN_SUICIDE),
        each("suicide", "en", EN.fixed(), _EN_SUICIDE_FIXED),
        each("self-harm", "en", EN, _EN_SELF_HARM),
        each("overdose", "en", EN, _EN_OVERDOSE),
        together("overdose", "en", EN.fixed(), _EN_DANGER_SIGN, _EN_HEAVY_USE),
        together("overdose", "en", EN, _EN_HEAVY_DRINKING, _EN_SEDATIVES),
        together(
            "suicide",
            "en",
            EN,
            r"(?:bought|got|have|buying|tied|tying|found) (?:a |the )?(?:rope|noose)",
            r"know what i am going to do|going to use it|tonight|hang|end it|goodbye|decided"
            r"|made up my mind",
        ),
        together(
            "suicide",
            "en",
            EN.fixed(),
            r"kms|kys myself",
            r"for real|not joking|seriously|no joke|i am serious|really",
        ),
        together(
            "suicide",
            "en",
            EN,
            r"i am (?:so |just |really )?(?:done|finished)",
            r"(?:with )?(?:everything|life|breathing|existing|it all)(?= \||$)",
        ),
        together(
            "suicide",
            "en",
            EN,
            r"ready to (?:go|leave)|time for me to go",
            r"made (?:my )?peace|said (?:my )?goodbyes|forgive me|sorry for everything",
        ),
        each("relapse", "en", EN, _EN_RELAPSE),
        each("relapse", "en", EN.fixed(), _EN_RELAPSE_FIXED),
        together("relapse", "en", EN, _EN_RELAPSED + "|" + _EN_BINGE, _EN_RELAPSE_DISTRESS),
        # English constructions
        each("suicide", "en", EN, _EN_CONSTRUCTIONS),
        each("suicide", "en", EN.fixed(), _EN_FIXED_CONSTRUCTIONS),
        together("suicide", "en", EN, _EN_PREPARATION, _EN_FINALITY),
        together("suicide", "en", EN, _EN_DECISION, _EN_DECISION_WHEN),
        together("suicide", "en", EN, _EN_WANT_OUT, _EN_HATE_LIFE),
        each("self-harm", "en", EN, _EN_SELF_HARM_CONSTRUCTIONS),
        together("self-harm", "en", EN, _EN_HIT_WALL, _EN_HIT_WALL_HOW),
        together(
            "self-harm",
            "en",
            EN,
            r"(?:want|need) to feel (?:some )?pain",
            r"razor|blade|knife|cut|cutting|burn|burning|bleed",
        ),
        each("overdose", "en", EN, _EN_OVERDOSE_CONSTRUCTIONS),
        together("overdose", "en", EN.fixed(), _EN_DOUBLE_DOSE, _EN_DANGER_SIGN + "|" + _EN_DROWSY),
        together("overdose", "en", EN, _EN_DRUG, _EN_ALCOHOL, _EN_ALONE),
        together("overdose", "en", EN, _EN_OLD_DOSE, _EN_ABSTINENT),
        each("relapse", "en", EN, _EN_RELAPSE_CONSTRUCTIONS),
        together("relapse", "en", EN, _EN_INTENT_TO_USE, _EN_RECKLESS),
        together("relapse", "en", EN, _EN_DEALER, _EN_NOW_OR_DISTRESS),
        # Romanised Hindi and Punjabi
        *(each("suicide", lang, LATN, (source,)) for lang, source in _LATN_SUICIDE),
        each("suicide", "Latn", LATN.fixed(), _LATN_SUICIDE_FIXED),
        each("self-harm", "Latn", LATN, _LATN_SELF_HARM),
        each("overdose", "Latn", LATN, _LATN_OVERDOSE),
        together(
            "overdose",
            "Latn",
            LATN.fixed(),
            r"saans nahi (?:aa|le pa)\S*|saans (?:aukha|mushkil|dikkat)|hosh nahi"
            r"|saans lene (?:mein|vich|ch) (?:dikkat|taklif|takleef|problem|mushkil)",
            r"dose|overdose|goliyan|goli|chitta|nasha|teeka|injection|smack|heroin|daaru|sharab",
        ),
        each("relapse", "Latn", LATN, _LATN_RELAPSE),
        each("relapse", "Latn", LATN.fixed(), _LATN_RELAPSE_FIXED),
        together("relapse", "Latn", LATN, _LATN_USED_AGAIN, _LATN_DISTRESS),
        together(
            "suicide",
            "Latn",
            LATN,
            r"rassi|fanda|phanda|faaha",
            r"soch liya|tay kar liya|faisla|aaj raat|latak\S*|soch leya",
        ),
        each("suicide", "Latn", LATN, _LATN_CONSTRUCTIONS),
        each("suicide", "Latn", LATN.fixed(), _LATN_FIXED_CONSTRUCTIONS),
        each("self-harm", "Latn", LATN, _LATN_SELF_HARM_CONSTRUCTIONS),
        together("relapse", "Latn", LATN, _LATN_ALONE, _LATN_WILL_USE),
        together("suicide", "Latn", LATN, _LATN_LETTERS, _LATN_IN_CASE),
    ),
)
