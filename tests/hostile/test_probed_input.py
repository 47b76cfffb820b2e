"""What probing finds must get a clear refusal in French, never a 500: JSON nested a thousand levels
deep, ids beyond 32 and 64 bits in paths, bodies and query strings, line breaks and control characters
in one-line fields. The routes are enumerated from the application, so a new one is probed the day it
is added.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from tests.conftest import run
from tests.isolation.test_department_isolation import _routes, _seed_herault
from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee

# Just beyond PostgreSQL's int4 (asyncpg refuses it), beyond 64 bits (SQLite's OverflowError), far beyond.
BEYOND = (2**31, 2**64, 10**22)
DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _path(template: str, ids: dict[str, Any], **override: Any) -> str:
    values = {**ids, **override}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), template)


def _int_path_params(template: str) -> list[str]:
    return [name for name, kind in re.findall(r"\{(\w+):(\w+)\}", template) if kind == "int"]


def _json_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every route whose handler reads a JSON body (`data`)."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            for method in sorted(set(handler.http_methods) - {"GET", "HEAD", "OPTIONS", "DELETE"}):
                found.append((method, route.path))
    return found


def _call(api: Any, method: str, path: str, **kwargs: Any) -> Any:
    return api.client.request(method, path, headers={**api.headers, **kwargs.pop("headers", {})}, **kwargs)


def _french_404(response: Any) -> bool:
    if response.headers.get("content-type", "").startswith("application/json"):
        return "introuvable" in response.json()["detail"].lower()
    return "introuvable" in response.text.lower()


# -- JSON nested too deep ---------------------------------------------------------------------------


def test_deeply_nested_json_is_refused(app, api_as):
    api = api_as("prefecture", "34")
    ids = _seed_herault(api)
    routes = _json_routes(app)
    assert len(routes) > 20
    for method, template in routes:
        path = _path(template, ids)
        for body in (DEEP_ARRAY, DEEP_OBJECT):
            headers = {"Content-Type": "application/json"}
            response = _call(api, method, path, content=body, params={"department": "34"}, headers=headers)
            assert response.status_code == 400, f"{method} {path}: {response.status_code} {response.text[:200]}"
            assert "imbriqué trop profondément" in response.json()["detail"], f"{method} {path}"


def test_deeply_nested_json_is_refused_whatever_its_content_type_says(api_as):
    # Litestar reads the body of a JSON route as JSON even when it is labelled text/plain, or not at all.
    api = api_as("prefecture", "34")
    for content_type in ("text/plain", "application/vnd.api+json", ""):
        response = api.post("/api/organisations", content=DEEP_OBJECT, headers={"Content-Type": content_type})
        assert response.status_code == 400, content_type
        assert "imbriqué trop profondément" in response.json()["detail"]
    assert api.get("/api/organisations").json()["total"] == 0


def test_brackets_inside_strings_are_text_not_nesting(api_as):
    api = api_as("prefecture", "34")
    name = "[" * 60 + '{ "\\" ' + "}" * 60
    response = api.post("/api/organisations", json={"name": name, "kind": "autre", "notes": "[{" * 500})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    response = api.post("/api/organisations", json={"name": "Parquet", "kind": "parquet", "notes": "{" * 40})
    assert response.status_code == 201, response.text


def test_the_depth_is_counted_across_received_chunks():
    from coord.web.hygiene import JsonDepthScanner

    def too_deep(text: bytes, size: int, limit: int = 3) -> bool:
        scanner = JsonDepthScanner(limit)
        return any(scanner.feed(text[i : i + size]) for i in range(0, len(text), size))

    for size in (1, 2, 3, 1000):
        assert not too_deep(b'{"a": [1, {"b": "[[[[\\"[[[["}]}', size)
        assert not too_deep(b'["\\\\", "[[[[[["]', size)  # an escaped backslash ends before the quote
        assert too_deep(b'{"a": [[{"b": 1}]]}', size)
        assert too_deep(b'["\\"", [[[1]]]]', size)
        assert too_deep(b"[[[[", size)  # unclosed: the parser would recurse just the same


def test_malformed_json_is_explained_in_french(api_as):
    api = api_as("prefecture", "34")
    response = api.post("/api/organisations", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Le corps de la requête n'est pas un document JSON valide (il est incomplet)."
    contact = {"first_name": "Anne", "last_name": "Martin", "email": "a.martin@justice.fr"}
    response = api.post("/api/contacts", json={**contact, "organisation": "un"})
    assert response.status_code == 400
    assert response.json()["errors"]["organisation"] == "Type attendu : nombre entier (reçu : texte)."
    response = api.post("/api/contacts", json={"first_name": "Anne", "organisation": 1})
    assert response.json()["errors"] == {"last_name": "Ce champ est obligatoire."}
    response = api.post("/api/contacts", json={**contact, "organisation": 1, "surnom": "A"})
    assert response.json()["errors"]["surnom"].startswith("Champ inconnu")


# -- ids beyond the database's integers -----------------------------------------------------------


def test_ids_beyond_64_bits_are_not_found_on_every_route(app, client, web, make_user, api_as):
    api = api_as("prefecture", "34")
    ids = _seed_herault(api)
    web.login(make_user("prefecture", "34").email)
    probed = 0
    for method, template in _routes(app):
        for name in _int_path_params(template):
            for number in BEYOND:
                path = _path(template, ids, **{name: number})
                if path.startswith("/api/"):
                    body = {"title": "x", "version": 1} if method in ("POST", "PUT", "PATCH") else None
                    response = _call(api, method, path, json=body)
                elif method == "GET":
                    response = web.get(path)
                else:
                    response = web.post(path, {"title": "x", "version": "1"})
                assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text[:200]}"
                assert _french_404(response), f"{method} {path}: {response.text[:200]}"
                probed += 1
    assert probed > 150
    # Nothing changed: the Hérault's records are all still there.
    assert api.get(f"/api/meetings/{ids['meeting_id']}").status_code == 200
    assert api.get(f"/api/organisations/{ids['organisation_id']}").status_code == 200


def test_a_path_number_of_thousands_of_digits_is_not_found(api_as, web, make_user):
    api = api_as("prefecture", "34")
    assert api.get("/api/organisations/" + "9" * 5000).status_code in (400, 404)
    web.login(make_user("prefecture", "34").email)
    assert web.get("/d/34/partenaires/" + "9" * 5000).status_code in (400, 404)


def _unbounded_integers(info: Any, where: str, seen: set[int]) -> list[str]:
    """Integers of a msgspec type that may go beyond the database's range."""
    import msgspec.inspect as mi

    from coord.core.validation import DB_INT_MAX, DB_INT_MIN

    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else None)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else None)
        return [] if low is not None and high is not None and low >= DB_INT_MIN and high <= DB_INT_MAX else [where]
    if isinstance(info, mi.Metadata):
        return _unbounded_integers(info.type, where, seen)
    if isinstance(info, mi.UnionType):
        return [w for t in info.types for w in _unbounded_integers(t, where, seen)]
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return _unbounded_integers(info.item_type, f"{where}[]", seen)
    if isinstance(info, mi.TupleType):
        return [w for t in info.item_types for w in _unbounded_integers(t, f"{where}[]", seen)]
    if isinstance(info, mi.DictType):
        return _unbounded_integers(info.value_type, f"{where}{{}}", seen)
    if isinstance(info, (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)):
        if id(info.cls) in seen:
            return []
        seen.add(id(info.cls))
        return [w for f in info.fields for w in _unbounded_integers(f.type, f"{where}.{f.name}", seen)]
    return []


def test_every_integer_a_request_can_carry_is_bounded_to_the_database_range(app):
    """Bodies and query strings: the handlers' signatures bound every integer (msgspec refuses the rest
    with a 400 naming the field); path integers are bounded for all routes by coord.web.hygiene."""
    import msgspec.inspect as mi

    unbounded: list[str] = []
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            model = handler.signature_model
            if model is None:
                continue
            path_names = set(re.findall(r"\{(\w+)", route.path))
            for field in mi.type_info(model).fields:
                if field.name in path_names:
                    continue
                checked += 1
                unbounded += _unbounded_integers(field.type, f"{route.path} {field.name}", set())
    assert checked > 100
    assert not unbounded, "integers without a bound (use coord.core.validation.Id/DbInt or coord.web.params):\n" + (
        "\n".join(unbounded)
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return {**_resolve(options[0], components), **{k: v for k, v in schema.items() if k != key}}
    return schema


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    schema = _resolve(schema, components)
    kind = schema.get("type")
    if kind == "object":
        return {name: _example(sub, components) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}), components)]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date-time":
            return dt.datetime(2027, 1, 5, 10, tzinfo=dt.UTC).isoformat()
        if schema.get("format") == "date":
            return "2027-01-05"
        return schema.get("enum", ["x"])[0]
    return None


def _integer_fields(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    properties = _resolve(schema, components).get("properties", {})
    return [name for name, sub in properties.items() if "integer" in json.dumps(_resolve(sub, components))]


def _error(response: Any, field: str) -> str:
    """The message about `field` (or one of its items: « decisions[0] »)."""
    errors = response.json().get("errors", {})
    return next((v for k, v in errors.items() if k == field or k.startswith(f"{field}[")), "")


def test_ids_beyond_64_bits_in_bodies_and_query_strings_are_refused(app, api_as):
    api = api_as("prefecture", "34")
    ids = _seed_herault(api)
    spec = app.openapi_schema.to_schema()
    components = spec["components"]["schemas"]
    probed = 0
    for template, operations in spec["paths"].items():
        if not template.startswith("/api/"):
            continue
        path = _path(template, ids)
        for method, operation in operations.items():
            body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body = _example(body_schema, components) if body_schema else None
            for field in _integer_fields(body_schema, components) if body_schema else []:
                for number in BEYOND[:2]:
                    value = [number] if isinstance(body[field], list) else number
                    response = _call(api, method, path, params={"department": "34"}, json={**body, field: value})
                    what = f"{method.upper()} {path} {field}={number}"
                    assert response.status_code == 400, f"{what}: {response.status_code} {response.text[:200]}"
                    assert "hors limites" in _error(response, field), what
                    probed += 1
            queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            for name in queries:
                if "integer" not in json.dumps(next(p for p in operation["parameters"] if p["name"] == name)):
                    continue
                for number in BEYOND[:2]:
                    params = {"department": "34", name: str(number)}
                    response = _call(api, method, path, params=params, json=body)
                    what = f"{method.upper()} {path}?{name}={number}"
                    assert response.status_code == 400, f"{what}: {response.status_code} {response.text[:200]}"
                    message = _error(response, name)
                    assert "hors limites" in message or message.startswith("La valeur doit être au plus"), what
                    probed += 1
    assert probed > 60
    # The filters the action items lists read themselves, and a list of ids.
    for name in ("committee", "owner_organisation", "measure"):
        response = api.get("/api/actions", params={name: str(2**64)})
        assert response.status_code == 422 and response.json()["errors"][name] == "Identifiant invalide.", name
    response = api.post(f"/api/actions/from-decisions/{ids['meeting_id']}", json={"decisions": [2**31]})
    assert response.status_code == 400 and "hors limites" in _error(response, "decisions")


def test_ids_beyond_64_bits_in_forms_and_page_filters_are_refused(web, make_user, api_as):
    api = api_as("prefecture", "34")
    ids = _seed_herault(api)
    web.login(make_user("prefecture", "34").email)
    meeting = ids["meeting_id"]
    for number in BEYOND:
        response = web.post(f"/d/34/reunions/{meeting}/actions", {"decisions": str(number)})
        assert response.status_code == 422 and "Décision inconnue." in response.text
        response = web.post("/d/34/actions/nouvelle", {"title": "Action", "owner_contact": str(number)})
        assert response.status_code == 422, response.text[:300]
        response = web.post("/d/34/reunions/nouvelle", {"committee": str(number), "title": "Réunion"})
        assert response.status_code == 422
        response = web.post(f"/d/34/instances/{ids['committee_id']}/membres", {"contact": str(number)})
        assert response.status_code == 422
        # The actions page shows every item on a forged filter (coord.actions.pages), the API refuses it.
        assert web.get("/d/34/actions", params={"committee": str(number)}).status_code == 200
        for page_path in ("/d/34/reunions", "/d/34/partenaires", "/d/34/reunions/nouvelle", "/journal"):
            for name in ("committee", "instance", "organisation", "entity_id", "page", "page_number"):
                response = web.get(page_path, params={name: str(number)})
                assert response.status_code in (200, 400, 404, 422), f"{page_path}?{name}: {response.status_code}"


def test_a_number_the_database_cannot_take_is_a_400_even_past_the_boundary():
    """The last resort: an integer that reached the database anyway is the client's fault, not a 500."""
    import asyncpg

    from coord.web.errors import NUMBER_OUT_OF_RANGE, _client_fault

    assert _client_fault(OverflowError("Python int too large to convert to SQLite INTEGER")) == NUMBER_OUT_OF_RANGE
    try:
        try:
            raise OverflowError("value out of int32 range")
        except OverflowError as cause:
            raise asyncpg.exceptions.DataError("invalid input for query argument $1") from cause
    except asyncpg.exceptions.DataError as exc:
        assert _client_fault(exc) == NUMBER_OUT_OF_RANGE
    assert "imbriqué" in (_client_fault(RecursionError("maximum recursion depth exceeded while deserializing")) or "")
    assert _client_fault(RecursionError("maximum recursion depth exceeded")) is None
    assert _client_fault(ValueError("x")) is None


# -- line breaks and control characters in one-line fields ------------------------------------------


def test_a_title_with_a_carriage_return_is_refused_in_french(api_as, web, make_user):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    response = new_meeting(api, seed["committee"]["id"], local_in(20), title="Réunion\rBcc: x@evil.fr")
    assert response.status_code == 422
    message = response.json()["errors"]["title"]
    assert "caractères non autorisés" in message and "retour chariot (CR)" in message
    assert "une seule ligne" in message
    web.login(make_user("prefecture", "34").email)
    form = {
        "committee": str(seed["committee"]["id"]),
        "title": "Réunion\rannuelle",
        "kind": "annuelle_teh",
        "date": local_in(30).date().isoformat(),
        "start_time": "09:30",
        "end_time": "12:00",
        "place": "Salle",
    }
    page = web.post("/d/34/reunions/nouvelle", form)
    assert page.status_code == 422
    assert "retour chariot (CR)" in page.text
    assert api.get("/api/meetings").json()["total"] == 0


ONE_LINE_FIELDS = [
    ("/api/organisations", {"kind": "autre", "name": "Gendarmerie"}, ["name", "acronym", "email", "phone"]),
    (
        "/api/contacts",
        {"first_name": "Anne", "last_name": "Martin", "email": "a.martin@justice.fr"},
        ["first_name", "last_name", "function", "email", "phone"],
    ),
    ("/api/committees", {"name": "CDPD", "kind": "cdpd_pleniere"}, ["name"]),
    ("/api/actions", {"title": "Former les agents"}, ["title", "tags"]),
    ("/api/conventions", {"model": "protection-mineurs", "title": "Convention"}, ["title"]),
    ("/api/departments/34/cycle/unavailable-dates", {"date": "2027-10-19", "reason": "Férié"}, ["reason"]),
]
BAD_CHARACTERS = ["\r", "\n", "\r\n", "\t", "\x0b", "\x1b", "\x85", "\u2028"]


def test_every_one_line_field_refuses_line_breaks_and_control_characters(api_as):
    api = api_as("prefecture", "34")
    organisation = api.post("/api/organisations", json={"name": "Parquet", "kind": "parquet"}).json()
    for path, valid, fields in ONE_LINE_FIELDS:
        valid = {**valid, "organisation": organisation["id"]} if path == "/api/contacts" else valid
        for field in fields:
            for bad in BAD_CHARACTERS:
                value = {"email": f"abc{bad}def@exemple.fr", "phone": f"04 67{bad}61 61 61"}.get(field, f"A{bad}B")
                body = {**valid, field: [value] if field == "tags" else value}
                response = api.post(path, json=body)
                assert response.status_code == 422, f"{path} {field} {bad!r}: {response.status_code} {response.text}"
                assert "caractères non autorisés" in response.json()["errors"][field], f"{path} {field} {bad!r}"
    meeting_seed = seed_committee(api, members=1)
    meeting = new_meeting(api, meeting_seed["committee"]["id"], local_in(20)).json()
    for field in ("title", "video_url"):
        response = api.patch(f"/api/meetings/{meeting['id']}", json={"version": meeting["version"], field: "A\rB"})
        assert response.status_code == 422 and "retour chariot" in response.json()["errors"][field], field
    for field in ("title", "presenter"):
        response = api.post(f"/api/meetings/{meeting['id']}/agenda", json={"title": "Point", field: "A\rB"})
        assert response.status_code == 422 and "retour chariot" in response.json()["errors"][field], field
    # The one-line rule also holds for the CSV import.
    report = api.post(
        "/api/organisations/import",
        params={"department": "34"},
        content=b'organisation;type\n"Parquet\rde Montpellier";parquet\n',
        headers={"Content-Type": "text/csv"},
    ).json()
    assert report["organisations_created"] == 0 and "caractères non autorisés" in report["rejected"][0]["reason"]
    for content in ("organisation;type\nParquet\rX;parquet\n", "organisation;type\r\nParquet;parquet\rX\r\n"):
        response = api.post(
            "/api/organisations/import",
            params={"department": "34"},
            content=content.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert response.status_code < 500, response.text


def test_multi_line_fields_keep_their_lines_with_lone_carriage_returns_made_line_feeds(api_as):
    api = api_as("prefecture", "34")
    organisation = api.post(
        "/api/organisations",
        json={"name": "Parquet", "kind": "parquet", "notes": "Ligne 1\rLigne 2\r\nLigne 3\nLigne 4\u2028Ligne 5"},
    )
    assert organisation.status_code == 201, organisation.text
    assert organisation.json()["notes"] == "Ligne 1\nLigne 2\nLigne 3\nLigne 4\nLigne 5"
    seed = seed_committee(api, members=1)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20), place="Préfecture\rSalle 2").json()
    assert meeting["place"] == "Préfecture\nSalle 2"
    refused = api.post("/api/organisations", json={"name": "Autre", "kind": "autre", "notes": "a\x07b"})
    assert refused.status_code == 422 and "U+0007" in refused.json()["errors"]["notes"]


def test_a_meeting_whose_title_holds_a_carriage_return_still_gets_its_convocation(api_as, smtp_sink, settings):
    """Data stored before the rule (or changed by hand) must not make every convocation mail fail."""
    from icalendar import Calendar

    from coord.core.settings import use_settings
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from coord.meetings.tables import AgendaItem, Meeting
    from coord.partners.tables import Contact
    from tests.support.ics_validators import assert_valid_ics

    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    run(Meeting.update({Meeting.title: "Réunion\rannuelle\r\nBcc: intrus@evil.fr"}).where(Meeting.id == meeting["id"]))
    run(AgendaItem.update({AgendaItem.title: "Point\rdivers"}).where(AgendaItem.meeting == meeting["id"]))
    contact = seed["contacts"][1]
    run(Contact.update({Contact.last_name: "Nom\rBcc: intrus@evil.fr"}).where(Contact.id == contact["id"]))
    response = api.post(f"/api/meetings/{meeting['id']}/convene", json={"version": meeting["version"]})
    assert response.status_code in (200, 201), response.text
    use_settings(settings)
    report = run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=smtp_sink.port)))
    assert report.sent == 2 and report.failed == 0 and report.retried == 0
    recipients = sorted(rcpt for envelope in smtp_sink.envelopes for rcpt in envelope.rcpt_tos)
    assert recipients == sorted(c["email"] for c in seed["contacts"])  # no recipient added by the CR
    for message in smtp_sink.messages:
        subject = str(message["Subject"])
        assert "\r" not in subject and "\n" not in subject
        assert subject.startswith("Convocation : Réunion annuelle Bcc: intrus@evil.fr – ")
        assert message["Bcc"] is None
        assert "\r" not in str(message["To"])
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                data = part.get_payload(decode=True)
                assert_valid_ics(data)
                event = Calendar.from_ical(data).walk("VEVENT")[0]
                assert str(event["SUMMARY"]) == "Réunion annuelle Bcc: intrus@evil.fr"
