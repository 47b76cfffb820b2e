"""New passwords must be long and hard to guess, and the reason is given in French; a stored hash is
checked with Argon2id, and an account without a password never opens."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import zxcvbn

from coord.accounts import passwords
from coord.accounts.passwords import hash_password, password_problem, verify_password

AGENT = ("jean.dupont@herault.gouv.fr", "Jean Dupont")


def _zxcvbn_messages() -> set[str]:
    """Every string zxcvbn's feedback module passes to gettext, read from the installed package."""
    source = Path(zxcvbn.__file__).with_name("feedback.py").read_text(encoding="utf-8")
    return {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_a_short_password_is_refused_with_the_minimum_length():
    assert password_problem("Court-2026") == "Le mot de passe doit comporter au moins 12 caractères."


@pytest.mark.parametrize(
    ("password", "explanation"),
    [
        ("password1234", "C'est un mot de passe très courant."),
        ("motdepasse123", "Il ressemble à un mot de passe très courant."),
        ("abcdefghijklmnop", "Les suites comme « abc » ou « 6543 » sont faciles à deviner."),
        ("aaaaaaaaaaaaaaaa", "Les répétitions comme « aaa » sont faciles à deviner."),
        ("xcvbnm,./zxc", "Les rangées de touches du clavier sont faciles à deviner."),
    ],
)
def test_a_common_password_is_refused_with_the_reason_in_french(password, explanation):
    problem = password_problem(password)
    assert problem is not None
    assert problem.startswith("Ce mot de passe est trop facile à deviner.")
    assert explanation in problem
    assert "Ajoutez un ou deux mots, de préférence peu courants." in problem


@pytest.mark.parametrize("password", ["jean.dupont2026", "Dupont.Jean.2026", "JeanDupont-34000", "herault-dupont1"])
def test_a_password_made_of_the_persons_name_or_address_is_refused(password):
    problem = password_problem(password, user_inputs=AGENT)
    assert problem is not None
    assert "votre nom ou votre adresse électronique" in problem


def test_accents_do_not_hide_the_name_in_a_password():
    problem = password_problem("helene-martin-1985", user_inputs=("h.martin@gironde.gouv.fr", "Hélène Martin"))
    assert problem is not None and "votre nom" in problem


def test_the_same_name_based_password_is_fine_for_someone_else():
    assert password_problem("Jean.Dupont-Marais-Poitevin", user_inputs=("marie.curie@gouv.fr", "Marie Curie")) is None


@pytest.mark.parametrize(
    "password",
    ["tartine-girafe-lampadaire", "Jean-Dupont-aime-les-pommes-vertes", "Motdepasse-de-test-2026", "x7#Lq!v9Zp@2wRt"],
)
def test_a_strong_password_passes(password):
    assert password_problem(password, user_inputs=AGENT) is None
    assert password_problem(password) is None


def test_a_very_long_strong_password_passes():
    words = "ours-polaire-sous-la-pluie-de-novembre-cherche-un-parapluie-mauve-et-une-lanterne"
    assert len(words) > passwords.ZXCVBN_MAX_LENGTH
    assert password_problem(words) is None


def test_every_message_zxcvbn_can_give_has_a_french_translation():
    messages = _zxcvbn_messages()
    assert len(messages) >= 20  # the parse found the feedback strings
    missing = sorted(messages - passwords.FRENCH.keys())
    assert missing == []


def test_a_message_unknown_to_the_translation_gets_a_generic_french_sentence():
    result = {"score": 1, "sequence": [], "feedback": {"warning": "Brand new warning.", "suggestions": ["Try X."]}}
    assert passwords._explain(result) == f"{passwords.TOO_EASY} {passwords.GENERIC_ADVICE}"


def test_the_right_password_verifies_and_a_wrong_one_does_not():
    stored = hash_password("tartine-girafe-lampadaire")
    assert verify_password(stored, "tartine-girafe-lampadaire")
    assert not verify_password(stored, "tartine-girafe-lampadair")
    assert not verify_password("pas-un-hachage", "tartine-girafe-lampadaire")


@pytest.mark.parametrize("password", ["", "coord-dummy-password-for-timing", "tartine-girafe-lampadaire"])
@pytest.mark.parametrize("stored", ["", None])
def test_an_account_without_a_password_never_opens(stored, password):
    assert verify_password(stored, password) is False
