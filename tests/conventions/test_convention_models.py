"""Convention models: shipped files load, faulty files are rejected naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from coord.conventions.models import (
    DEFAULT_DIR,
    SCHEMES,
    ConventionModel,
    ConventionModelError,
    LineIndex,
    load_model,
    load_models,
)
from coord.conventions.roles import ORGANISATION_KINDS, ROLES

SHIPPED = ("protection-mineurs", "clav-partenariat", "exploitation-travail")

VALID = '''\
code = "essai"
name = "Convention d'essai"
purpose = """
Objet de la convention.
"""
scheme = "coordination"
default_duration_months = 24
tacit_renewal = true
renewal_notice_days = 60

[[signatories]]
role = "prefet"
required = true

[[signatories]]
role = "association"
required = true
min_count = 2
note = "Associations spécialisées"

[[signatories]]
role = "barreau"
required = false

[reminders]
signature_reminder_days = [30, 15]
expiry_reminder_days = [30, 90]
'''
# Lines in VALID: [[signatories]] headers 11, 15, 21; their role keys 12, 16, 22.


def write(tmp_path: Path, text: str, name: str = "essai") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rejected(tmp_path: Path, text: str, name: str = "essai") -> ConventionModelError:
    path = write(tmp_path, text, name)
    with pytest.raises(ConventionModelError) as caught:
        load_model(path)
    error = caught.value
    assert str(error).startswith(str(path))
    return error


# --- Roles ---


def test_roles_vocabulary() -> None:
    for code, role in ROLES.items():
        assert role.code == code
        assert role.label
        assert role.kinds
        assert set(role.kinds) <= set(ORGANISATION_KINDS)
    assert ROLES["prefet"].accepts("prefecture")
    assert not ROLES["prefet"].accepts("parquet")
    assert ROLES["president_cd"].label == "Président du conseil départemental (ASE)"
    assert ROLES["employeurs"].kinds == ("autre",)
    assert ROLES["autre"].accepts("association")


# --- Shipped models ---


def test_every_shipped_model_loads() -> None:
    models = load_models()
    assert set(SHIPPED) <= set(models)
    assert len(models) == len(list(DEFAULT_DIR.glob("*.toml")))
    for code, model in models.items():
        assert isinstance(model, ConventionModel)
        assert model.code == code == model.source.stem
        assert model.scheme in SCHEMES
        assert model.required_roles()
        assert all(s.role in ROLES for s in model.signatories)


def test_minors_protection_requires_exactly_the_stakeholders() -> None:
    model = load_models()["protection-mineurs"]
    assert model.scheme == "protection_mineurs"
    assert set(model.required_roles()) == {
        "prefet",
        "procureur",
        "president_cd",
        "dt_pjj",
        "dasen",
        "police",
        "gendarmerie",
        "association",
    }
    assert set(model.optional_roles()) == {"barreau", "hopital", "ars"}
    association = model.requirement("association")
    assert association is not None and association.required and association.min_count == 1
    assert model.requirement("maire") is None


def test_other_shipped_models() -> None:
    models = load_models()
    assert models["clav-partenariat"].scheme == "coordination"
    labour = models["exploitation-travail"]
    assert {"prefet", "ddets", "employeurs", "syndicats", "chambre_consulaire"} <= set(labour.required_roles())


def test_folder_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, VALID)
    monkeypatch.setenv("COORD_CONVENTIONS_DIR", str(tmp_path))
    assert list(load_models()) == ["essai"]


# --- A valid file ---


def test_valid_file_is_read(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, VALID))
    assert model.code == "essai"
    assert model.purpose == "Objet de la convention."
    assert (model.default_duration_months, model.tacit_renewal, model.renewal_notice_days) == (
        24,
        True,
        60,
    )
    assert model.required_roles() == ("prefet", "association")
    assert model.requirement("prefet").min_count == 1  # type: ignore[union-attr]
    assert model.requirement("prefet").note == ""  # type: ignore[union-attr]
    assert model.requirement("association").min_count == 2  # type: ignore[union-attr]
    assert model.signature_reminder_days == (15, 30)
    assert model.expiry_reminder_days == (90, 30)
    assert model.source == tmp_path / "essai.toml"


# --- Faulty files ---


def test_unknown_role(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace('role = "association"', 'role = "maire"'))
    assert error.line == 16
    assert ", ligne 16 : rôle inconnu « maire » (rôles possibles : prefet, procureur," in str(error)


def test_missing_field_in_signatory(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace('role = "barreau"\nrequired = false\n', 'role = "barreau"\n'))
    assert error.line == 21
    assert "champ obligatoire « required » manquant (signataire n° 3)" in str(error)


def test_missing_top_level_field(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace('scheme = "coordination"\n', ""))
    assert error.line is None
    assert "champ obligatoire « scheme » manquant" in str(error)


def test_missing_section(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.split("[reminders]")[0])
    assert error.line is None
    assert str(error).endswith("essai.toml : section [reminders] manquante")


def test_missing_reminder_list(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace("expiry_reminder_days = [30, 90]\n", ""))
    assert error.line == 25  # the [reminders] header
    assert "« expiry_reminder_days » manquant" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "default_duration_months = 24",
            'default_duration_months = "24"',
            7,
            "« default_duration_months » doit être un nombre entier",
        ),
        ("default_duration_months = 24", "default_duration_months = 0", 7, "supérieur à 0"),
        (
            "tacit_renewal = true",
            'tacit_renewal = "oui"',
            8,
            "« tacit_renewal » doit être true ou false",
        ),
        ("renewal_notice_days = 60", "renewal_notice_days = -1", 9, "positif ou nul"),
        (
            "min_count = 2",
            "min_count = 0",
            18,
            "« min_count » (signataire n° 2) doit être un nombre entier",
        ),
        (
            'role = "barreau"\nrequired = false',
            'role = "barreau"\nrequired = 1',
            23,
            "« required » (signataire n° 3) doit être true ou false",
        ),
        (
            "[30, 15]",
            "[30, -15]",
            26,
            "« signature_reminder_days » dans [reminders] doit être une liste",
        ),
        ("[30, 90]", "[30, 30]", 27, "deux fois le même nombre de jours"),
        (
            'scheme = "coordination"',
            'scheme = "prevention"',
            6,
            "dispositif inconnu « prevention »",
        ),
    ],
)
def test_wrong_type_or_value(tmp_path: Path, old: str, new: str, line: int, expected: str) -> None:
    assert old in VALID
    error = rejected(tmp_path, VALID.replace(old, new, 1))
    assert error.line == line
    assert f", ligne {line} : " in str(error)
    assert expected in str(error)


def test_duplicate_role(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace('role = "barreau"', 'role = "prefet"'))
    assert error.line == 22
    assert "rôle « prefet » déjà déclaré (signataire n° 1)" in str(error)


def test_syntax_error(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace("required = false", "required = faux"))
    assert error.line == 23
    assert ", ligne 23 : syntaxe TOML invalide, colonne 12" in str(error)


def test_syntax_error_at_end_of_document(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace("[30, 90]", "[30, 90"))
    assert error.line == 27
    assert "syntaxe TOML invalide en fin de fichier" in str(error)


def test_code_must_equal_file_stem(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID, name="autre-nom")
    assert error.line == 1
    assert "le code « essai » doit être identique au nom du fichier (« autre-nom »)" in str(error)


def test_unknown_keys(tmp_path: Path) -> None:
    error = rejected(tmp_path, VALID.replace("tacit_renewal = true", "tacit_renewal = true\nduree = 3"))
    assert error.line == 9
    assert "clé inconnue « duree »" in str(error)
    error = rejected(tmp_path, VALID.replace("min_count = 2", "min_count = 2\nmax_count = 3"))
    assert error.line == 19
    assert "clé inconnue « max_count » (signataire n° 2)" in str(error)
    error = rejected(tmp_path, VALID.replace("[reminders]", "[reminders]\nrappel = [1]"))
    assert error.line == 26
    assert "clé inconnue « rappel » dans [reminders]" in str(error)


def test_no_required_signatory(tmp_path: Path) -> None:
    text = VALID.replace("required = true", "required = false")
    error = rejected(tmp_path, text)
    assert "au moins un signataire doit être obligatoire" in str(error)
    assert error.line == 11


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "essai.toml"
    path.write_bytes(VALID.replace("Convention d'essai", "Convention é").encode("latin-1"))
    with pytest.raises(ConventionModelError, match=r"ligne 2 : le fichier doit être encodé en UTF-8"):
        load_model(path)


def test_load_models_stops_on_first_invalid_file(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace('"essai"', '"zz"').replace('"prefet"', '"maire"', 1), name="zz")
    with pytest.raises(ConventionModelError, match=r"zz\.toml, ligne 12 : rôle inconnu « maire »"):
        load_models(tmp_path)
    with pytest.raises(ConventionModelError, match="introuvable"):
        load_models(tmp_path / "absent")


def test_shipped_files_are_named_relative_to_the_repository(tmp_path: Path) -> None:
    error = ConventionModelError(DEFAULT_DIR / "x.toml", "rôle inconnu « maire »", 12)
    assert str(error) == "conventions/x.toml, ligne 12 : rôle inconnu « maire »"


# --- Line finder ---


def test_line_index() -> None:
    text = '''\
code = "x"
purpose = """
role = "not a key: inside a multi-line string"
"""
"quoted" = 1
reminders.signature_reminder_days = [1]

[[signatories]]  # first
role = "a"

[[signatories]]
role = "b"
required = true

[other]
role = "c"
'''
    lines = LineIndex(text)
    assert lines.line_of(key="code") == 1
    assert lines.line_of(key="role") is None
    assert lines.line_of(key="quoted") == 5
    assert lines.line_of("signatories", 0, "role") == 9
    assert lines.line_of("signatories", 1, "role") == 12
    assert lines.line_of("signatories", 1, "note") == 11  # falls back to the header
    assert lines.line_of("other", 0, "role") == 16
    assert lines.line_of("reminders", 0, "expiry_reminder_days") == 6  # dotted key at top level
    assert lines.line_of("absent", 0, "x") is None


def test_inline_signatories_fall_back_to_the_key_line(tmp_path: Path) -> None:
    head = VALID.split("[[signatories]]")[0]
    text = head + 'signatories = [{ role = "maire", required = true }]\n\n[reminders]\n'
    text += "signature_reminder_days = []\nexpiry_reminder_days = []\n"
    error = rejected(tmp_path, text)
    assert error.line == 11
    assert "rôle inconnu « maire »" in str(error)
