"""Tests of the provider fakes over real HTTP; also how to use them.

clock = ManualClock()
fake = FakeNometria(clock=clock)            # or FakeStormkit(clock=clock)
async with await fake.serve() as served:    # served.url = "http://127.0.0.1:<port>"
    ... point the code under test at served.url, clock.advance(1) to move builds on ...
    fake.requests_to("POST", "/v1/deployments")   # what it was sent
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from tests.fakes.clock import ManualClock, RealClock
from tests.fakes.nometria import FakeNometria
from tests.fakes.server import serving
from tests.fakes.stormkit import FakeStormkit

NM = tuple[FakeNometria, httpx.AsyncClient]
SK = tuple[FakeStormkit, httpx.AsyncClient]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def nm(clock: ManualClock) -> AsyncIterator[NM]:
    fake = FakeNometria(clock=clock)
    auth = {"Authorization": "Bearer nm-test-key"}
    async with (
        await fake.serve() as served,
        httpx.AsyncClient(base_url=served.url, headers=auth) as client,
    ):
        yield fake, client


@pytest.fixture
async def sk(clock: ManualClock) -> AsyncIterator[SK]:
    fake = FakeStormkit(clock=clock)
    async with (
        await fake.serve() as served,
        httpx.AsyncClient(base_url=served.url, headers={"Authorization": "sk-env-key"}) as client,
    ):
        yield fake, client


def test_clocks() -> None:
    clock = ManualClock()
    assert clock.now() == 1_742_300_400.0
    clock.advance(2.5)
    assert clock.now() == 1_742_300_402.5
    assert abs(RealClock().now() - time.time()) < 1


async def test_serving_a_plain_app() -> None:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hello)
    async with serving(app) as served, httpx.AsyncClient() as client:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", served.url)
        assert (await client.get(served.url + "/")).text == "hi"


# ---- Nometria ----------------------------------------------------------------------------


async def test_nometria_trigger_and_lifecycle(nm: NM, clock: ManualClock) -> None:
    fake, client = nm
    r = await client.post(
        "/v1/deployments", json={"project_id": "proj_abc123", "env_vars": {"FLAG": "on"}}
    )
    assert r.status_code == 201
    data = r.json()["data"]
    assert set(data) == {"id", "project_id", "status", "created_at"}
    assert re.fullmatch(r"dep_[0-9a-f]{8}", data["id"])
    assert (data["status"], data["created_at"]) == ("queued", "2025-03-18T12:20:00Z")
    assert fake.deployments[data["id"]]["env_vars"] == {"FLAG": "on"}
    assert fake.requests_to("POST", "/v1/deployments")[0].json["env_vars"] == {"FLAG": "on"}

    seen = []
    for _ in range(4):
        detail = (await client.get(f"/v1/deployments/{data['id']}")).json()["data"]
        seen.append((detail["status"], detail["build_duration_seconds"], detail["live_at"]))
        clock.advance(1)
    assert seen == [
        ("queued", None, None),
        ("building", None, None),
        ("deploying", None, None),
        ("live", 2, "2025-03-18T12:20:03Z"),
    ]
    assert detail["commit_sha"] == "a1b2c3d"
    assert detail["branch"] == "main"
    assert detail["url"] == "https://proj_abc123.nometria.app"
    assert detail["preview_url"] is None
    assert detail["region"]
    assert detail["instance_type"]
    assert (
        detail["logs_url"]
        == f"{client.base_url}".rstrip("/") + f"/v1/deployments/{data['id']}/logs"
    )
    logs = (await client.get(f"/v1/deployments/{data['id']}/logs")).json()["data"]["logs"]
    assert logs[-1]["level"] == "success"
    assert "live at" in logs[-1]["message"]
    assert all(ISO.match(line["timestamp"]) for line in logs)


async def test_nometria_failure_logs_grow(nm: NM, clock: ManualClock) -> None:
    fake, client = nm
    fake.fail_next()
    flaky = (await client.post("/v1/deployments", json={"project_id": "p"})).json()["data"]
    bad = {"project_id": "p", "commit_sha": "bad1234"}
    by_sha = (await client.post("/v1/deployments", json=bad)).json()["data"]
    clock.advance(1)
    building = (await client.get(f"/v1/deployments/{flaky['id']}/logs")).json()["data"]["logs"]
    assert {line["level"] for line in building} == {"info"}
    clock.advance(1)
    for dep in (flaky, by_sha):
        assert fake.status(dep["id"]) == "failed"
        logs = (await client.get(f"/v1/deployments/{dep['id']}/logs")).json()["data"]["logs"]
        assert len(logs) > len(building)
        text = "\n".join(line["message"] for line in logs)
        assert "npm ERR! code ELIFECYCLE" in text
        assert "STRIPE_SECRET_KEY=sk_live_abc123" in text
        assert any(line["level"] == "error" for line in logs)
    clock.advance(10)
    assert fake.status(flaky["id"]) == "failed"


async def test_nometria_newer_live_rolls_back_the_previous(nm: NM, clock: ManualClock) -> None:
    fake, client = nm
    ids = fake.seed_history("p", n=3)
    listed = (await client.get("/v1/deployments", params={"project_id": "p"})).json()["data"]
    assert [d["id"] for d in listed] == ids
    assert [d["status"] for d in listed] == ["live", "rolled_back", "rolled_back"]
    new = (await client.post("/v1/deployments", json={"project_id": "p"})).json()["data"]
    clock.advance(2)
    assert (fake.status(new["id"]), fake.live_id("p")) == ("deploying", ids[0])
    clock.advance(1)
    assert (fake.status(ids[0]), fake.live_id("p")) == ("rolled_back", new["id"])


async def test_nometria_rollback(nm: NM, clock: ManualClock) -> None:
    fake, client = nm
    ids = fake.seed_history("p", n=3)
    r = await client.post(f"/v1/deployments/{ids[1]}/rollback")
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["rolled_back_from"] == ids[0]
    assert data["rolled_back_to"] == ids[1]
    assert data["status"] == "queued"
    assert data["id"] not in ids
    assert fake.deployments[data["id"]]["commit_sha"] == fake.deployments[ids[1]]["commit_sha"]
    queued = await client.post(f"/v1/deployments/{data['id']}/rollback")
    assert queued.status_code == 409
    assert queued.json()["error"]["code"] == "invalid_status"
    clock.advance(3)
    assert fake.status(data["id"]) == "live"
    assert fake.status(ids[0]) == "rolled_back"


async def test_nometria_list_paging_and_filters(nm: NM, clock: ManualClock) -> None:
    fake, client = nm
    ids = fake.seed_history("p", n=5)
    fake.seed_history("other", n=2)
    seen, cursor = [], None
    while True:
        params = {"project_id": "p", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/deployments", params=params)).json()
        seen += [d["id"] for d in body["data"]]
        cursor = body["pagination"]["next_cursor"]
        assert body["pagination"]["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == ids
    assert len((await client.get("/v1/deployments")).json()["data"]) == 7
    live = await client.get("/v1/deployments", params={"status": "live"})
    assert {d["project_id"] for d in live.json()["data"]} == {"p", "other"}
    clamped = await client.get("/v1/deployments", params={"limit": "500"})
    assert clamped.status_code == 200
    for bad in ({"cursor": "nope"}, {"status": "done"}, {"limit": "0"}, {"limit": "x"}):
        r = await client.get("/v1/deployments", params=bad)
        assert r.status_code == 400
        assert r.json()["error"]["message"]


async def test_nometria_auth_and_errors(nm: NM) -> None:
    fake, client = nm
    unauthorized = {"error": {"code": "unauthorized", "message": "Invalid API key"}}
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
        r = await client.get("/v1/deployments", headers=headers)
        assert (r.status_code, r.json()) == (401, unauthorized)
    not_found = {"error": {"code": "not_found", "message": "Deployment not found"}}
    for path in ("/v1/deployments/dep_nothere", "/v1/deployments/dep_nothere/logs"):
        r = await client.get(path)
        assert (r.status_code, r.json()) == (404, not_found)
    r = await client.post("/v1/deployments/dep_nothere/rollback")
    assert r.status_code == 404
    for body in ({}, {"project_id": 3}, {"project_id": "p", "env_vars": ["A=1"]}):
        r = await client.post("/v1/deployments", json=body)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_request"
    r = await client.post("/v1/deployments", content=b"{oops")
    assert r.status_code == 400
    fake.known_projects = {"p"}
    r = await client.post("/v1/deployments", json={"project_id": "q"})
    assert r.status_code == 404
    assert not fake.deployments
    assert len(fake.requests) == 10


# ---- Stormkit ----------------------------------------------------------------------------


async def test_stormkit_deploy_and_lifecycle(sk: SK, clock: ManualClock) -> None:
    _fake, client = sk
    r = await client.post("/v1/deploy")
    assert r.status_code == 201
    created = r.json()
    assert created == {
        "id": "8241",
        "appId": "1510",
        "envId": "305",
        "branch": "main",
        "checkoutRepo": "github/acme/my-app",
        "shouldPublish": False,
        "isAutoDeploy": False,
        "pullRequestNumber": None,
        "isFork": False,
        "commit": {"author": None, "message": None, "sha": None},
        "createdAt": "1742300400",
        "stoppedAt": None,
    }
    path = "/v1/deployments/8241"
    dep = (await client.get(path)).json()["deployment"]
    assert (dep["status"], dep["duration"], dep["stoppedAt"]) == ("running", 0, None)
    assert dep["logs"] is None
    assert dep["statusChecks"] is None
    assert dep["uploadResult"] is None
    clock.advance(1)
    dep = (await client.get(path)).json()["deployment"]
    assert dep["status"] == "running"
    assert len(dep["commit"]["sha"]) == 40
    assert (await client.get(path + "/poll")).json() == {"status": "running"}
    clock.advance(1)
    dep = (await client.get(path)).json()["deployment"]
    assert (dep["status"], dep["duration"], dep["stoppedAt"]) == ("success", 2, "1742300402")
    assert dep["error"] == ""
    assert dep["published"] == []
    assert not dep["isAutoPublish"]
    assert (await client.get(path + "/poll")).json() == {"status": "success"}
    logs = (await client.get(path, params={"logs": "true"})).json()["deployment"]
    assert all(step["status"] for step in logs["logs"])
    assert logs["statusChecks"] == []


async def test_stormkit_publishing(sk: SK, clock: ManualClock) -> None:
    fake, client = sk
    old = fake.seed_history(n=2)
    assert fake.published_id() == old[0]
    explicit = (await client.post("/v1/deploy", json={"publish": True})).json()["id"]
    fake.set_auto_publish(True)
    auto = (await client.post("/v1/deploy", json={"publish": False})).json()["id"]
    fake.set_auto_publish(False)
    gated = (await client.post("/v1/deploy", json={"branch": "feat"})).json()["id"]
    r = await client.post(f"/v1/deployments/{gated}/publish")
    assert r.status_code == 400
    assert "running" in r.json()["error"]
    clock.advance(2)
    assert fake.published_id() == auto  # both published on finishing; the later one wins
    dep = (await client.get(f"/v1/deployments/{auto}")).json()["deployment"]
    assert dep["isAutoPublish"]
    assert dep["published"] == [{"envId": "305", "percentage": 100}]
    for dep_id in (explicit, old[0]):
        assert (await client.get(f"/v1/deployments/{dep_id}")).json()["deployment"][
            "published"
        ] == []
    assert (await client.post(f"/v1/deployments/{gated}/publish")).json() == {"ok": True}
    assert fake.published_id() == gated
    assert (await client.post(f"/v1/deployments/{old[1]}/publish")).status_code == 200
    assert fake.published_id() == old[1]  # a rollback is a publish of an older deployment


async def test_stormkit_failure_logs_stop_restart(sk: SK, clock: ManualClock) -> None:
    fake, client = sk
    broken = (await client.post("/v1/deploy", json={"branch": "broken-build"})).json()["id"]
    fake.fail_next()
    flaky = (await client.post("/v1/deploy")).json()["id"]
    stopped = (await client.post("/v1/deploy")).json()["id"]
    assert (await client.post(f"/v1/deployments/{stopped}/stop")).json() == {"ok": True}
    clock.advance(2)
    dep = (await client.get(f"/v1/deployments/{broken}?logs=true")).json()["deployment"]
    assert dep["status"] == "failed"
    assert "exit code 1" in dep["error"]
    assert dep["logs"][0]["title"] == "checkout broken-build"
    failing = [step for step in dep["logs"] if not step["status"]]
    assert failing[0]["title"] == "npm run build"
    assert "AWS_SECRET_ACCESS_KEY=abcd1234secret" in failing[0]["message"]
    dep = (await client.get(f"/v1/deployments/{stopped}")).json()["deployment"]
    assert (dep["status"], dep["stoppedManually"], dep["stoppedAt"]) == (
        "failed",
        True,
        "1742300400",
    )
    assert (await client.post(f"/v1/deployments/{flaky}/stop")).status_code == 200  # no-op
    assert fake.status(flaky) == "failed"
    assert (await client.post(f"/v1/deployments/{flaky}/restart")).json() == {"ok": True}
    assert fake.status(flaky) == "running"
    r = await client.post(f"/v1/deployments/{flaky}/restart")
    assert r.status_code == 400
    assert r.json() == {"error": "Only failed deployments can be restarted"}
    clock.advance(2)
    assert fake.status(flaky) == "success"
    assert (await client.post(f"/v1/deployments/{broken}/publish")).status_code == 400


async def test_stormkit_list_paging_and_delete(sk: SK) -> None:
    fake, client = sk
    ids = fake.seed_history(n=22) + fake.seed_history(n=3, branch="dev")
    body = (await client.get("/v1/deployments")).json()
    assert body["hasNextPage"] is True
    assert len(body["deployments"]) == 20
    assert "logs" not in body["deployments"][0]
    assert [d["id"] for d in body["deployments"][:3]] == ids[-3:] == ["8265", "8264", "8263"]
    body = (await client.get("/v1/deployments", params={"from": 20})).json()
    assert (body["hasNextPage"], len(body["deployments"])) == (False, 5)
    dev = (await client.get("/v1/deployments", params={"branch": "dev"})).json()["deployments"]
    assert [d["branch"] for d in dev] == ["dev"] * 3
    assert (await client.delete(f"/v1/deployments/{ids[0]}")).json() == {"ok": True}
    assert (await client.get(f"/v1/deployments/{ids[0]}")).status_code == 404
    assert (await client.get(f"/v1/deployments/{ids[0]}/poll")).status_code == 404
    listed = (await client.get("/v1/deployments", params={"from": 20})).json()["deployments"]
    assert len(listed) == 4
    assert (await client.get("/v1/deployments", params={"from": "x"})).status_code == 400


async def test_stormkit_auth(sk: SK) -> None:
    fake, client = sk
    for key in ("", "nope", "Bearer nope"):
        r = await client.get("/v1/deployments", headers={"Authorization": key})
        assert (r.status_code, r.content) == (403, b"")
    assert (
        await client.get("/v1/deployments", headers={"Authorization": "Bearer sk-env-key"})
    ).is_success
    app = {"Authorization": "Bearer sk-app-key"}
    assert (await client.get("/v1/deployments", headers=app)).status_code == 404
    r = await client.get("/v1/deployments", headers=app, params={"envId": "999"})
    assert r.status_code == 404
    assert (await client.get("/v1/deployments", headers=app, params={"envId": "305"})).is_success
    r = await client.post("/v1/deploy", headers=app, params={"envId": "305"})
    assert r.status_code == 404  # POST /v1/deploy takes envId from the body only
    r = await client.post("/v1/deploy", headers=app, json={"envId": "305"})
    assert r.status_code == 201
    dep_id = r.json()["id"]
    r = await client.post(f"/v1/deployments/{dep_id}/stop", headers=app, params={"envId": "305"})
    assert r.status_code == 200
    r = await client.post("/v1/deploy", json={"envId": "999"})  # env key: envId ignored
    assert r.status_code == 201
    assert len(fake.requests) == 11


@pytest.mark.parametrize(
    ("style", "body"),
    [
        ("error", {"error": "Deployment not found"}),
        ("errors_map", {"errors": {"id": "Deployment not found"}}),
        ("errors_list", {"errors": ["Deployment not found"]}),
        ("unexpected", {"ok": False, "error": "unexpected-error"}),
        ("empty", None),
    ],
)
async def test_stormkit_error_styles(sk: SK, style: str, body: object) -> None:
    fake, client = sk
    fake.error_style = style
    r = await client.get("/v1/deployments/1")
    assert r.status_code == 404
    assert (r.json() if r.content else None) == body


async def test_stormkit_bad_requests_and_402(sk: SK) -> None:
    fake, client = sk
    fake.error_style = "errors_map"
    r = await client.post("/v1/deploy", json={"branch": 7})
    assert (r.status_code, r.json()) == (400, {"errors": {"branch": "branch must be a string"}})
    assert (await client.post("/v1/deploy", json={"publish": "yes"})).status_code == 400
    assert (await client.post("/v1/deploy", content=b"{oops")).status_code == 400
    fake.minutes_exhausted = True
    assert (await client.post("/v1/deploy")).status_code == 402
    assert not fake.deployments


async def test_real_clock_moves_builds_on_by_itself() -> None:
    fake = FakeStormkit(step=0.02)  # default clock: RealClock
    async with (
        await fake.serve() as served,
        httpx.AsyncClient(base_url=served.url, headers={"Authorization": "sk-env-key"}) as client,
    ):
        dep_id = (await client.post("/v1/deploy", json={"publish": True})).json()["id"]
        for _ in range(100):
            if (await client.get(f"/v1/deployments/{dep_id}/poll")).json()["status"] != "running":
                break
            await asyncio.sleep(0.01)
        assert fake.status(dep_id) == "success"
        assert fake.published_id() == dep_id


# ---- recording and faults ----------------------------------------------------------------


async def test_faults_are_served_and_recorded(sk: SK) -> None:
    fake, client = sk
    fake.inject(503, "upstream down", times=2, path_contains="/poll")
    fake.inject(429, {"error": "slow down"}, headers={"Retry-After": "1"}, method="POST")
    (await client.post("/v1/deploy", json={"branch": "main"})).raise_for_status  # noqa: B018
    assert len(fake.deployments) == 0  # the 429 answered it
    ok = await client.post("/v1/deploy")
    assert ok.status_code == 201
    poll = f"/v1/deployments/{ok.json()['id']}/poll"
    assert [(await client.get(poll)).status_code for _ in range(3)] == [503, 503, 200]
    first = fake.requests[0]
    assert (first.method, first.path, first.json) == ("POST", "/v1/deploy", {"branch": "main"})
    assert first.headers["authorization"] == first.headers["Authorization"] == "sk-env-key"
    assert len(fake.requests_to("GET", "/v1/deployments/")) == 3
    assert len(fake.requests_to("post")) == 2


async def test_retry_after_and_malformed_bodies(nm: NM) -> None:
    fake, client = nm
    fake.inject(429, {"error": {"code": "rate_limited"}}, headers={"Retry-After": "2"})
    r = await client.get("/v1/deployments")
    assert (r.status_code, r.headers["Retry-After"]) == (429, "2")
    assert r.json() == {"error": {"code": "rate_limited"}}
    fake.malformed_next()
    r = await client.get("/v1/deployments", params={"limit": "5"})
    assert (r.status_code, r.content) == (200, b"{not json")
    assert fake.requests[-1].query == {"limit": "5"}
    assert (await client.get("/v1/deployments")).json()["data"] == []


async def test_delay_and_latency(nm: NM) -> None:
    fake, client = nm
    fake.inject(500, delay=0.3)
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/deployments", timeout=0.05)
    fake.latency = 0.05
    started = time.perf_counter()
    assert (await client.get("/v1/deployments")).status_code == 200
    assert time.perf_counter() - started >= 0.05
    assert len(fake.requests) == 2


async def test_nometria_one_key_reads_every_project(nm: NM) -> None:
    """The key covers the account: a deployment of any project is read by its ID."""
    fake, client = nm
    [other] = fake.seed_history("proj_other", 1)
    got = (await client.get(f"/v1/deployments/{other}")).json()["data"]
    assert got["project_id"] == "proj_other"


async def test_stormkit_finds_a_deployment_only_in_the_environment_asked(sk: SK) -> None:
    """As public/v1 does: an env key reaches its own environment, the app key the envId it
    names; another environment's deployment is a 404."""
    fake, client = sk
    fake.add_env("306")
    [other] = fake.seed_history(1, env="306")
    assert (await client.get(f"/v1/deployments/{other}")).status_code == 404
    assert (await client.post(f"/v1/deployments/{other}/publish")).status_code == 404
    app_key = {"Authorization": "sk-app-key"}
    got = await client.get(f"/v1/deployments/{other}", params={"envId": "306"}, headers=app_key)
    assert got.json()["deployment"]["envId"] == "306"
    listed = (await client.get("/v1/deployments")).json()["deployments"]
    assert other not in [d["id"] for d in listed]
    assert fake.published_id("306") == other
    assert fake.published_id() is None


async def test_stormkit_push_deploys_by_itself_with_its_commit(sk: SK, clock: ManualClock) -> None:
    """A push (the inbound webhook): isAutoDeploy, its SHA from the start, message and author
    once the build checked out; published by autoPublish on the environment's default branch."""
    fake, client = sk
    fake.set_auto_publish(True)
    pushed = fake.push()
    other = fake.push("feature/x")
    [listed, *_] = (await client.get("/v1/deployments")).json()["deployments"]
    assert listed["id"] == other
    dep = (await client.get(f"/v1/deployments/{pushed}")).json()["deployment"]
    assert dep["isAutoDeploy"] is True
    assert dep["commit"] == {
        "author": None,
        "message": None,
        "sha": fake.deployments[pushed]["sha"],
    }
    clock.advance(1)
    dep = (await client.get(f"/v1/deployments/{pushed}")).json()["deployment"]
    assert dep["commit"]["author"] == "Jane Doe"
    assert dep["commit"]["message"] == "deploy main"
    clock.advance(2)
    assert fake.published_id() == pushed  # not the feature branch's build


async def test_nometria_deployments_carry_their_commit(nm: NM, clock: ManualClock) -> None:
    """Triggered by any client (a CI job): the list says its commit SHA and message."""
    fake, client = nm
    created = (await client.post("/v1/deployments", json={"project_id": "p"})).json()["data"]
    [listed] = (await client.get("/v1/deployments", params={"project_id": "p"})).json()["data"]
    assert listed["id"] == created["id"]
    assert (listed["commit_sha"], listed["commit_message"]) == (
        fake.head_sha,
        "feat: add payment flow",
    )
