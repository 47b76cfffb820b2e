"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendations) and the
strength rule for new passwords: at least 12 characters and zxcvbn's score of 3 or more, explained in
French."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^8 guesses
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; what follows only adds strength

# A fixed hash to verify against when the account does not exist or has no password, so that the
# answer takes the same time whether or not the address is known.
_DUMMY_HASH = _hasher.hash("coord-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True only for a real hash that matches. No hash (unknown account) or an empty one (an account
    that signs in with ProConnect only) never verifies, after the same work as a real check."""
    try:
        if not password_hash:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# zxcvbn's feedback strings (zxcvbn/feedback.py), each in French. A test checks that every string of
# the installed zxcvbn is here; one that is not (a newer zxcvbn) gets GENERIC_ADVICE.
FRENCH: dict[str, str] = {
    # Warnings.
    "Straight rows of keys are easy to guess.": "Les rangées de touches du clavier sont faciles à deviner.",
    "Short keyboard patterns are easy to guess.": "Les motifs courts tracés sur le clavier sont faciles à deviner.",
    'Repeats like "aaa" are easy to guess.': "Les répétitions comme « aaa » sont faciles à deviner.",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "Les répétitions comme « abcabcabc » sont à peine plus difficiles à deviner que « abc »."
    ),
    'Sequences like "abc" or "6543" are easy to guess.': "Les suites comme « abc » ou « 6543 » sont faciles à deviner.",
    "Recent years are easy to guess.": "Les années récentes sont faciles à deviner.",
    "Dates are often easy to guess.": "Les dates sont souvent faciles à deviner.",
    "This is a top-10 common password.": "C'est l'un des 10 mots de passe les plus utilisés.",
    "This is a top-100 common password.": "C'est l'un des 100 mots de passe les plus utilisés.",
    "This is a very common password.": "C'est un mot de passe très courant.",
    "This is similar to a commonly used password.": "Il ressemble à un mot de passe très courant.",
    "A word by itself is easy to guess.": "Un mot seul est facile à deviner.",
    "Names and surnames by themselves are easy to guess.": (
        "Un prénom ou un nom de famille seul est facile à deviner."
    ),
    "Common names and surnames are easy to guess.": "Les prénoms et noms de famille courants sont faciles à deviner.",
    # Suggestions.
    "Use a few words, avoid common phrases.": "Utilisez quelques mots, en évitant les expressions courantes.",
    "No need for symbols, digits, or uppercase letters.": "Nul besoin de symboles, de chiffres ni de majuscules.",
    "Add another word or two. Uncommon words are better.": ("Ajoutez un ou deux mots, de préférence peu courants."),
    "Use a longer keyboard pattern with more turns.": (
        "Tracez sur le clavier un motif plus long, qui change plus souvent de direction."
    ),
    "Avoid repeated words and characters.": "Évitez de répéter des mots ou des caractères.",
    "Avoid sequences.": "Évitez les suites de caractères.",
    "Avoid recent years.": "Évitez les années récentes.",
    "Avoid years that are associated with you.": "Évitez les années qui vous sont liées.",
    "Avoid dates and years that are associated with you.": "Évitez les dates et les années qui vous sont liées.",
    "Capitalization doesn't help very much.": "Une majuscule en début de mot n'aide pas beaucoup.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Tout en majuscules est presque aussi facile à deviner que tout en minuscules."
    ),
    "Reversed words aren't much harder to guess.": "Un mot écrit à l'envers n'est guère plus difficile à deviner.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Les substitutions prévisibles, comme « @ » au lieu de « a », n'aident pas beaucoup."
    ),
}
GENERIC_ADVICE = "Choisissez plutôt plusieurs mots peu courants, sans lien avec vous."
TOO_EASY = "Ce mot de passe est trop facile à deviner."
ABOUT_YOU = "Il reprend votre nom ou votre adresse électronique."
WITHOUT_YOU = (
    "Ce mot de passe repose sur votre nom ou votre adresse électronique : sans eux, ce qui reste est trop "
    "facile à deviner."
)

# zxcvbn keeps the user's words in a module-level dictionary while it runs: one evaluation at a time.
_zxcvbn_lock = threading.Lock()


def _strength(password: str, words: list[str]) -> dict[str, Any]:
    with _zxcvbn_lock:
        return zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=words)


def _in_french(text: str) -> str:
    if text in FRENCH.values():  # a zxcvbn already translated by a gettext catalogue of ours
        return text
    return FRENCH.get(text, GENERIC_ADVICE)


def _fold(text: str) -> str:
    """Lower case without accents: « Hélène » and « helene » are the same word to a guesser."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _words_about(user_inputs: Iterable[str]) -> tuple[list[str], list[str]]:
    """From the e-mail and name: every word zxcvbn should know (the domain too), and the personal
    ones (local part and name) whose removal must leave a strong password."""
    known: list[str] = []
    personal: list[str] = []
    for raw in user_inputs:
        text = _fold((raw or "").strip())
        if not text:
            continue
        local, _, domain = text.partition("@")
        known.append(text)
        for part, target in ((local, personal), (domain, known)):
            pieces = [p for p in re.split(r"[\W_]+", part) if p]
            letters = re.findall(r"[^\W\d_]+", part)
            candidates = [part, *pieces, *letters, "".join(letters)]
            target.extend(w for w in candidates if len(w) >= 3)
    known.extend(personal)
    return list(dict.fromkeys(known)), sorted(set(personal), key=len, reverse=True)


def _without(password: str, words: list[str]) -> str | None:
    """The password with the personal words taken out, None if it contains none of them."""
    rest = _fold(password)
    found = False
    for word in words:  # longest first, so « jeandupont » goes before « jean »
        if word in rest:
            rest, found = rest.replace(word, ""), True
    return rest if found else None


def password_problem(password: str, *, user_inputs: Iterable[str] = ()) -> str | None:
    """A French explanation of why the password is too weak, or None.

    `user_inputs` are what an attacker knows of the person (their e-mail, their name): a password
    built on them (« prenom.nom2026 ») is refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
    known, personal = _words_about(user_inputs)
    result = _strength(password, known)
    if result["score"] < MIN_SCORE:
        return _explain(result)
    rest = _without(password, personal)
    if rest is not None and _strength(rest, known)["score"] < MIN_SCORE:
        return WITHOUT_YOU
    return None


def _explain(result: dict[str, Any]) -> str:
    feedback = result.get("feedback") or {}
    sentences = [TOO_EASY]
    if any(match.get("dictionary_name") == "user_inputs" for match in result.get("sequence") or []):
        sentences.append(ABOUT_YOU)
    if warning := feedback.get("warning"):
        sentences.append(_in_french(warning))
    sentences.extend(_in_french(s) for s in feedback.get("suggestions") or [])
    if len(sentences) == 1:
        sentences.append(GENERIC_ADVICE)
    return " ".join(dict.fromkeys(sentences))
