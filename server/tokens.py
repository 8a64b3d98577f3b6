"""Join tokens: HS256 JWTs signed with CIRCLES_SECRET (contract §2), via PyJWT."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import jwt

from .core.errors import CommandError
from .core.model import ROLES, SUB_PATTERN, SUB_RE, clean_name, valid_room_id

ALGORITHM: Final = "HS256"
DEFAULT_TTL: Final = 4 * 3600
MAX_TTL: Final = 30 * 86400
# Small clock differences between the minting system and this server.
LEEWAY_S: Final = 30
# A session credential (``mint(..., session=True)``): what a join gives back so that a
# meeting in progress outlives its link. Renewed while the person stays in the room.
SESSION_TTL: Final = 2 * 3600


@dataclass(frozen=True)
class Identity:
    sub: str
    name: str
    role: str
    room: str  # a room id, or "*" for any room
    exp: int
    # A session credential: it may only bring back someone who is still in its room.
    session: bool = False
    # Came by a group link (``gst`` claim): waits in the lobby until a facilitator admits.
    guest: bool = False

    def admits(self, room: str) -> bool:
        return self.room == "*" or self.room == room


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_claims(sub: object, name: object, role: object, room: object) -> tuple[str, str, str, str]:
    if not isinstance(sub, str) or not SUB_RE.match(sub):
        raise CommandError("invalid", f"sub must match {SUB_PATTERN}")
    if role not in ROLES:
        raise CommandError("invalid", f"role must be one of {', '.join(ROLES)}")
    if not (room == "*" or valid_room_id(room)):
        raise CommandError("invalid", "room must be a room id or *")
    assert isinstance(role, str) and isinstance(room, str)
    return sub, clean_name(name), role, room


def mint(secret: str, *, sub: str, name: str, role: str, room: str, ttl: int = DEFAULT_TTL,
         now: int | None = None, session: bool = False, guest: bool = False) -> tuple[str, int]:
    """A signed token and its expiry (seconds since the epoch); ``session``: a session
    credential for one room (``ses`` claim); ``guest``: someone who came by a group link
    (``gst`` claim: a member of one room, let in from the lobby)."""
    sub, name, role, room = validate_claims(sub, name, role, room)
    if not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
        raise CommandError("invalid", f"ttl must be 1-{MAX_TTL} seconds")
    iat = int(time.time()) if now is None else now
    exp = iat + ttl
    claims: dict[str, Any] = {"sub": sub, "name": name, "role": role, "room": room, "iat": iat, "exp": exp}
    if session:
        if room == "*":
            raise CommandError("invalid", "a session is for one room")
        claims["ses"] = 1
    if guest:
        if room == "*" or role != "member":
            raise CommandError("invalid", "a guest is a member of one room")
        claims["gst"] = 1
    return jwt.encode(claims, secret, algorithm=ALGORITHM), exp


def verify(secret: str, token: object) -> Identity:
    """Check signature, algorithm, expiry and claims; raise ``TokenError`` if any fail."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise TokenError("unauthorized", "a token is required")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_S,
                            options={"require": ["sub", "name", "role", "room", "exp", "iat"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("expired", "the token has expired; ask for a new link") from None
    except jwt.PyJWTError:
        raise TokenError("unauthorized", "the token is not valid") from None
    try:
        sub, name, role, room = validate_claims(claims.get("sub"), claims.get("name"),
                                                claims.get("role"), claims.get("room"))
    except CommandError as e:
        raise TokenError("unauthorized", f"the token's claims are not valid: {e.message}") from None
    return Identity(sub=sub, name=name, role=role, room=room, exp=int(claims["exp"]),
                    session=claims.get("ses") == 1 and room != "*",
                    guest=claims.get("gst") == 1)
