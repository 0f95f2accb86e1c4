"""The knowledge base through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

ENTRY = {
    "question": "住房公积金提取需要哪些材料？",
    "answer": "携带身份证、银行卡及购房合同到公积金中心任一网点办理，也可在小程序线上办理。",
    "keywords": ["公积金", "提取"],
    "department_code": "gjj",
}
CSV = (
    "question,answer,keywords,department,valid_from,valid_to\n"
    "居住证怎么办理？,持身份证和居住登记凭证到居住地派出所申领。,居住证、办理,gaj,,\n"
    "医保异地就医如何备案？,通过国家医保服务平台App线上备案。,医保、异地、备案,ybj,2024-01-01,\n"
)


def test_editor_adds_entries_and_agents_find_them(api: TestClient, login) -> None:
    supervisor, agent = login("supervisor"), login("agent")
    created = api.post("/api/v1/knowledge", json=ENTRY, headers=supervisor)
    assert created.status_code == 201, created.text
    imported = api.post(
        "/api/v1/knowledge/import",
        params={"format": "csv"},
        content=CSV.encode(),
        headers={**supervisor, "Content-Type": "text/plain"},
    )
    assert imported.status_code == 201 and imported.json() == {"imported": 2}

    hits = api.get("/api/v1/knowledge/search", params={"q": "公积金 提取"}, headers=agent).json()
    assert hits[0]["entry"]["question"] == ENTRY["question"]
    assert "公积金" in hits[0]["matched"]
    hits = api.get("/api/v1/knowledge/search", params={"q": "医保 备案"}, headers=agent).json()
    assert hits[0]["entry"]["department_code"] == "ybj"


def test_retired_entries_are_no_longer_found(api: TestClient, login) -> None:
    supervisor, agent = login("supervisor"), login("agent")
    entry_id = api.post("/api/v1/knowledge", json=ENTRY, headers=supervisor).json()["id"]
    assert api.get("/api/v1/knowledge/search", params={"q": "公积金"}, headers=agent).json()
    retired = api.post(f"/api/v1/knowledge/{entry_id}/retire", headers=supervisor)
    assert retired.status_code == 200 and retired.json()["retired"] is True
    assert api.get("/api/v1/knowledge/search", params={"q": "公积金"}, headers=agent).json() == []
    assert api.get(f"/api/v1/knowledge/{entry_id}", headers=agent).json()["retired"] is True


def test_edit_changes_what_is_found(api: TestClient, login) -> None:
    supervisor, agent = login("supervisor"), login("agent")
    entry_id = api.post("/api/v1/knowledge", json=ENTRY, headers=supervisor).json()["id"]
    edited = {**ENTRY, "question": "新生儿落户需要什么材料？", "keywords": ["落户", "新生儿"]}
    assert api.put(f"/api/v1/knowledge/{entry_id}", json=edited, headers=supervisor).status_code == 200
    assert api.get("/api/v1/knowledge/search", params={"q": "落户"}, headers=agent).json()[0]["entry"]["id"] == entry_id


def test_bad_input_is_a_clear_4xx(api: TestClient, login) -> None:
    supervisor, agent = login("supervisor"), login("agent")
    assert api.post("/api/v1/knowledge", json=ENTRY, headers=agent).status_code == 403
    empty = api.post("/api/v1/knowledge", json={**ENTRY, "answer": ""}, headers=supervisor)
    assert empty.status_code == 422 and "answer" in empty.json()["detail"]
    bad_csv = "question,answer,keywords,department,valid_from,valid_to\n问,答,,x,2025/01/01,\n"
    reply = api.post(
        "/api/v1/knowledge/import",
        params={"format": "csv"},
        content=bad_csv.encode(),
        headers={**supervisor, "Content-Type": "text/plain"},
    )
    assert reply.status_code == 422 and any("row 2" in e and "valid_from" in e for e in reply.json()["errors"])
    assert api.get("/api/v1/knowledge/999999", headers=agent).status_code == 404
    assert api.post("/api/v1/knowledge/999999/retire", headers=supervisor).status_code == 404
