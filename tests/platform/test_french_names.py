"""Département and organisation names read right in generated French text."""

import pytest

from coord.core.french import department_article, department_de, organisation_de
from coord.territory.reference import load_departements_csv


@pytest.mark.parametrize(
    ("name", "tncc", "of", "article"),
    [
        ("Paris", 0, "de Paris", "Paris"),
        ("Eure-et-Loir", 1, "d'Eure-et-Loir", "Eure-et-Loir"),
        ("Calvados", 2, "du Calvados", "le Calvados"),
        ("Manche", 3, "de la Manche", "la Manche"),
        ("Landes", 4, "des Landes", "les Landes"),
        ("Hérault", 5, "de l'Hérault", "l'Hérault"),
    ],
)
def test_department_names_follow_insee_type_of_name(name, tncc, of, article):
    assert department_de(name, tncc) == of
    assert department_article(name, tncc) == article


def test_shipped_reference_carries_the_type_of_name():
    by_code = {d.code: d for d in load_departements_csv()}
    assert department_de(by_code["34"].name, by_code["34"].tncc) == "de l'Hérault"
    assert department_de(by_code["14"].name, by_code["14"].tncc) == "du Calvados"
    assert department_de(by_code["28"].name, by_code["28"].tncc) == "d'Eure-et-Loir"
    assert department_de(by_code["13"].name, by_code["13"].tncc) == "des Bouches-du-Rhône"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Association Accueil Femmes", "de l'association Accueil Femmes"),
        ("Conseil départemental", "du conseil départemental"),
        ("Préfecture du Calvados", "de la préfecture du Calvados"),
        ("Amicale du Nid", "d'Amicale du Nid"),
        ("France Victimes 34", "de France Victimes 34"),
    ],
)
def test_organisation_names_are_elided_and_lower_cased(name, expected):
    assert organisation_de(name) == expected


@pytest.mark.parametrize(("code", "expected"), [("34", "heure de l&#39;Hérault"), ("14", "heure du Calvados")])
def test_the_meeting_form_names_the_departements_time_as_french_does(web, make_user, code, expected):
    web.login(make_user("prefecture", code).email)
    page = web.get(f"/d/{code}/reunions/nouvelle")
    assert page.status_code == 200
    assert expected in page.text
