"""Domain names the link and contact hooks recognise.

A bare ``word.word`` is only taken for a domain when it ends in one of the TLDs listed
here: a full TLD list would turn every "done.It" typed without a space into a link.
TLDs that are everyday words ("it", "is", "to", "me", "be", "so", "no", "at", "my",
"am", "us", "do", "go", "life", "today") are left out for the same reason; links on
them are still found when written with a scheme or "www.".
"""

from __future__ import annotations

from typing import Final

TLDS: Final = frozenset(
    """
    com org net edu gov mil int info biz name pro xyz top site online store shop app dev
    io ai co cc tv fm ly gl gg ws club live link click page blog news tech space website
    fun icu vip win bid loan work life world today email
    in uk ca au nz de fr es nl ru cn jp kr br mx za ng pk bd lk np ae sa sg my ph id
    """.split()
)

# The TLDs a bare "word.tld" (no scheme, no "www.") is recognised on: the common ones,
# without those that are everyday English words, since people type "done.Life is good".
BARE_TLDS: Final = frozenset(
    """
    com org net edu gov info biz xyz io ai co cc tv ly gl gg ws
    in uk ca au nz de fr es nl ru cn jp kr br za ng pk bd lk np ae sg ph
    """.split()
)

# Messenger and social hosts: a link to a profile there is contact details.
MESSENGER_HOSTS: Final = (
    "t.me",
    "telegram.me",
    "telegram.dog",
    "wa.me",
    "api.whatsapp.com",
    "chat.whatsapp.com",
    "whatsapp.com",
    "instagram.com",
    "instagr.am",
    "snapchat.com",
    "facebook.com",
    "fb.com",
    "fb.me",
    "m.me",
    "signal.me",
    "discord.gg",
    "discord.com",
    "kik.me",
    "line.me",
    "x.com",
    "twitter.com",
)


def host_matches(host: str, domain: str) -> bool:
    """True when ``host`` is ``domain`` or one of its subdomains."""
    host = host.lower().rstrip(".")
    domain = domain.lower().strip().lstrip(".").rstrip(".")
    if domain.startswith("*."):
        domain = domain[2:]
    return host == domain or host.endswith("." + domain)
