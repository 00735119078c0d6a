"""The provider contract, run against every adapter over real HTTP to its fake server.

Each `Rig` knows how to make its fake produce what the contract needs: a history of N, a
build that fails, what a deploy looks like from trigger to live. Provider-specific behaviour
follows the contract, per provider. The sandbox runs in process: it passes the same contract,
except what is about HTTP itself (keys, retries, request counts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar, get_args

import httpx
import pytest
from pydantic import ValidationError

from bot.models import Deployment, Status
from bot.providers import http as provider_http
from bot.providers.base import (
    AuthError,
    NotFound,
    NotOurs,
    Operation,
    Provider,
    ProviderError,
    QuotaExceeded,
    Rejected,
    Unavailable,
    Unsupported,
    publish_outcome,
)
from bot.providers.nometria import Nometria
from bot.providers.owned import Owned
from bot.providers.sandbox import Sandbox
from bot.providers.stormkit import Stormkit
from bot.providers.stormkit_shapes import StormkitDeployment
from tests.fakes.clock import ManualClock
from tests.fakes.nometria import FakeNometria
from tests.fakes.recording import FakeServer, Recorded
from tests.fakes.stormkit import ERROR_STYLES, FakeStormkit

NOMETRIA_KEY = "nm-test-key-5d1e"
STORMKIT_KEY = "sk-env-key-93ab"
PROJECT = "proj_abc123"
ENV_ID = "305"
FAILING_LINE = "Cannot find module './payments'"  # both fakes' failing build says it
OPERATIONS: tuple[Operation, ...] = get_args(Operation)


@dataclass(frozen=True)
class Paging:
    seeded: int
    limit: int
    returned: int
    pages: int


class Rig:
    """One adapter bound to its fake, and what the contract needs to know about them."""

    name: ClassVar[str]
    key: ClassVar[str]
    lifecycle: ClassVar[tuple[Status, ...]]  # seen at the trigger, then a poll a step
    unknown_id: ClassVar[str]
    trigger_path: ClassVar[str]
    paging: ClassVar[Paging]
    over_http: ClassVar[bool] = True

    def __init__(self, clock: ManualClock, fake: Any, url: str, client: httpx.AsyncClient):
        self.clock, self.fake, self.url, self.client = clock, fake, url, client
        self.provider: Provider = self.adapter()

    @classmethod
    async def opened(cls) -> AsyncIterator[Any]:
        clock = ManualClock()
        fake = cls.make_fake(clock)
        async with await fake.serve() as served, provider_http.client(timeout=5) as client:
            yield cls(clock, fake, served.url, client)

    def needs_http(self) -> None:
        if not self.over_http:
            pytest.skip(f"{self.name} has no HTTP")

    @staticmethod
    def make_fake(clock: ManualClock) -> FakeServer:
        raise NotImplementedError

    def adapter(
        self,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        url: str | None = None,
    ) -> Any:
        raise NotImplementedError

    def seed(self, n: int) -> list[str]:
        """`n` finished deployments, the newest live; their ids, newest first."""
        raise NotImplementedError

    def sha_of(self, deployment_id: str) -> str:
        raise NotImplementedError

    def live_sha(self) -> str:
        raise NotImplementedError

    def error_body(self, text: str) -> dict[str, Any]:
        raise NotImplementedError

    def foreign(self) -> str:
        """The live deployment of another project or environment the same key can reach."""
        raise NotImplementedError

    owner: ClassVar[str]  # what this rig's deployments belong to, as the provider says it

    def list_requests(self) -> list[Recorded]:
        return [r for r in self.fake.requests if r.path == "/v1/deployments" and r.method == "GET"]

    async def trigger(self, *, publish: bool = True) -> Deployment:
        return await self.provider.trigger(ref=None, env_vars={}, publish=publish)

    async def follow(self, deployment: Deployment) -> tuple[list[Status], Deployment]:
        """Poll one step apart until it finishes: the statuses seen, and the last answer."""
        seen = [deployment.status]
        for _ in range(10):
            if deployment.status.finished:
                break
            self.clock.advance(1)
            deployment = await self.provider.poll(deployment.id)
            seen.append(deployment.status)
        return seen, deployment

    async def failed(self) -> Deployment:
        self.fake.fail_next()
        _, deployment = await self.follow(await self.trigger())
        assert deployment.status is Status.FAILED
        return deployment


class NometriaRig(Rig):
    name = "nometria"
    key = NOMETRIA_KEY
    lifecycle = (Status.QUEUED, Status.BUILDING, Status.DEPLOYING, Status.LIVE)
    unknown_id = "dep_nothere"
    trigger_path = "/v1/deployments"
    paging = Paging(seeded=150, limit=120, returned=120, pages=2)
    fake: FakeNometria
    provider: Nometria

    @staticmethod
    def make_fake(clock: ManualClock) -> FakeNometria:
        return FakeNometria(api_key=NOMETRIA_KEY, clock=clock)

    def adapter(
        self,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        url: str | None = None,
    ) -> Nometria:
        return Nometria(
            client or self.client,
            base_url=url or self.url,
            api_key=api_key or self.key,
            project_id=PROJECT,
        )

    def seed(self, n: int) -> list[str]:
        return self.fake.seed_history(PROJECT, n)

    def sha_of(self, deployment_id: str) -> str:
        return str(self.fake.deployments[deployment_id]["commit_sha"])

    def live_sha(self) -> str:
        return self.sha_of(self.fake.live_id(PROJECT) or "")

    def error_body(self, text: str) -> dict[str, Any]:
        return {"error": {"code": "invalid_request", "message": text}}

    owner = PROJECT

    def foreign(self) -> str:
        return self.fake.seed_history("proj_other", 2)[0]  # one key sees every project


class StormkitRig(Rig):
    name = "stormkit"
    key = STORMKIT_KEY
    lifecycle: ClassVar[tuple[Status, ...]] = (Status.QUEUED, Status.BUILDING, Status.LIVE)
    unknown_id = "999999"
    trigger_path = "/v1/deploy"
    paging = Paging(seeded=25, limit=30, returned=25, pages=2)
    fake: FakeStormkit
    provider: Stormkit

    @staticmethod
    def make_fake(clock: ManualClock) -> FakeStormkit:
        return FakeStormkit(env_key=STORMKIT_KEY, clock=clock)

    def adapter(
        self,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        url: str | None = None,
        env_id: str | None = None,
    ) -> Stormkit:
        return Stormkit(
            client or self.client,
            base_url=url or self.url,
            api_key=api_key or self.key,
            env_id=env_id,
        )

    def seed(self, n: int) -> list[str]:
        return self.fake.seed_history(n)

    def sha_of(self, deployment_id: str) -> str:
        return str(self.fake.deployments[deployment_id]["sha"])

    def live_sha(self) -> str:
        return self.sha_of(self.fake.published_id() or "")

    def error_body(self, text: str) -> dict[str, Any]:
        return {"error": text}

    owner = ENV_ID

    def foreign(self) -> str:
        self.fake.add_env("306")
        return self.fake.seed_history(2, env="306")[0]


class StormkitServerRig(StormkitRig):
    """Stormkit as its open-source server answers today: boolean `published`, warm-ups."""

    name = "stormkit-server"
    # Built at 2 s; then unpublished a moment before its warm-up, warming up, and live.
    lifecycle = (Status.QUEUED, Status.BUILDING, Status.DEPLOYING, Status.DEPLOYING, Status.LIVE)

    @staticmethod
    def make_fake(clock: ManualClock) -> FakeStormkit:
        return FakeStormkit(env_key=STORMKIT_KEY, clock=clock, flavour="server")


class SandboxRig(Rig):
    """The in-process platform on the test's clock; no fake server, no requests to count."""

    name = "sandbox"
    key = ""
    lifecycle = (Status.QUEUED, Status.BUILDING, Status.DEPLOYING, Status.LIVE)
    unknown_id = "sbx-nothere"
    trigger_path = ""
    paging = Paging(seeded=30, limit=25, returned=25, pages=0)
    over_http = False
    provider: Sandbox

    def __init__(self, clock: ManualClock) -> None:
        self.clock, self.fake = clock, None
        self.provider = self.adapter()

    @classmethod
    async def opened(cls) -> AsyncIterator[Any]:
        yield cls(ManualClock())

    def adapter(
        self,
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        url: str | None = None,
    ) -> Sandbox:
        # One step is one `advance(1)`; no seeded history, so `seed` says what there is.
        return Sandbox("web", clock=self.clock.now, step=1.0, seed_history=0)

    def seed(self, n: int) -> list[str]:
        return self.provider.seed(n)

    def sha_of(self, deployment_id: str) -> str:
        return str(self.provider.view(deployment_id).commit_sha)

    def live_sha(self) -> str:
        return self.sha_of(self.provider.live_id() or "")

    owner = "web"

    def foreign(self) -> str:
        return Sandbox("api", clock=self.clock.now, step=1.0, seed_history=2).seed(1)[0]

    async def failed(self) -> Deployment:
        _, deployment = await self.follow(
            await self.provider.trigger(ref="broken-build", env_vars={}, publish=True)
        )
        assert deployment.status is Status.FAILED
        return deployment


RIGS: dict[str, type[Rig]] = {
    "nometria": NometriaRig,
    "stormkit": StormkitRig,
    "stormkit-server": StormkitServerRig,
    "sandbox": SandboxRig,
}


async def _rig(kind: type[Rig]) -> AsyncIterator[Any]:
    async for made in kind.opened():
        yield made


@pytest.fixture(params=sorted(RIGS))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    async for made in _rig(RIGS[request.param]):
        yield made


@pytest.fixture
async def nm() -> AsyncIterator[NometriaRig]:
    async for made in _rig(NometriaRig):
        yield made


@pytest.fixture(params=["stormkit", "stormkit-server"])
async def sk(request: pytest.FixtureRequest) -> AsyncIterator[StormkitRig]:
    async for made in _rig(RIGS[request.param]):
        yield made


@pytest.fixture
async def sk_seed() -> AsyncIterator[StormkitRig]:
    """Stormkit as the seed doc describes it, for what only that reading does."""
    async for made in _rig(StormkitRig):
        yield made


@pytest.fixture
async def sk_server() -> AsyncIterator[StormkitRig]:
    async for made in _rig(StormkitServerRig):
        yield made


# ---- the contract ------------------------------------------------------------------------


async def test_a_deploy_moves_through_its_statuses_to_live(rig: Rig) -> None:
    """A triggered deploy is queued, then polls see it build and go live with its details."""
    seen, live = await rig.follow(await rig.trigger())
    assert seen == list(rig.lifecycle)
    assert live.url
    assert live.finished_at is not None
    assert live.created_at is not None
    assert live.finished_at > live.created_at
    assert live.build_seconds == 2
    assert live.commit_sha


async def test_a_build_waits_for_publish_where_the_provider_has_one(rig: Rig) -> None:
    """Built without publishing, a deployment is ready; publishing it makes it live."""
    if "publish" not in rig.provider.supports:
        pytest.skip(f"{rig.name} has no separate publish")
    seen, ready = await rig.follow(await rig.trigger(publish=False))
    assert seen[-1] is Status.READY
    await rig.provider.publish(ready.id)
    # Live at once, or (today's Stormkit) once its warm-up has ended.
    _, live = await rig.follow(await rig.provider.poll(ready.id))
    assert live.status is Status.LIVE


async def test_a_failed_deploy_has_the_failing_lines_in_its_logs(rig: Rig) -> None:
    """The logs of a failed build hold its failing lines, marked failed."""
    failed = await rig.failed()
    lines = await rig.provider.logs(failed.id)
    assert any(FAILING_LINE in line.message for line in lines if line.failed)
    assert not any(FAILING_LINE in line.message for line in lines if not line.failed)


async def test_history_follows_pages_newest_first(rig: Rig) -> None:
    """History follows the API's paging, newest first, with one request a page."""
    ids = rig.seed(rig.paging.seeded)
    history = await rig.provider.history(limit=rig.paging.limit)
    assert [d.id for d in history] == ids[: rig.paging.returned]
    if rig.over_http:
        assert len(rig.list_requests()) == rig.paging.pages
    assert history[0].status is Status.LIVE


async def test_history_stops_asking_once_it_has_enough(rig: Rig) -> None:
    """History asks for no further page once it holds `limit` deployments."""
    ids = rig.seed(rig.paging.seeded)
    assert [d.id for d in await rig.provider.history(limit=5)] == ids[:5]
    if rig.over_http:
        assert len(rig.list_requests()) == 1


async def test_rollback_to_the_previous_deployment_goes_live(rig: Rig) -> None:
    """Rolling back to the previous deployment ends with its code live."""
    ids = rig.seed(3)
    followed = await rig.provider.rollback(ids[1])
    _, final = await rig.follow(followed)
    assert final.status is Status.LIVE
    assert rig.live_sha() == rig.sha_of(ids[1])


async def test_rollback_to_a_failed_deployment_is_rejected(rig: Rig) -> None:
    """A failed deployment cannot be rolled back to."""
    failed = await rig.failed()
    with pytest.raises(Rejected) as caught:
        await rig.provider.rollback(failed.id)
    assert failed.id in str(caught.value)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_an_operation_is_supported_or_refused_without_a_request(
    rig: Rig, operation: Operation
) -> None:
    """A supported operation reaches the provider; any other raises Unsupported, sending none."""
    call = getattr(rig.provider, operation)
    if operation in rig.provider.supports:
        with pytest.raises(NotFound):
            await call(rig.unknown_id)
        if rig.over_http:
            assert rig.fake.requests
    else:
        with pytest.raises(Unsupported) as caught:
            await call(rig.unknown_id)
        assert rig.fake.requests == []
        assert str(caught.value).startswith(rig.name.capitalize())


async def test_a_deployment_says_what_project_or_environment_it_belongs_to(rig: Rig) -> None:
    """A read of a deployment, by ID or in the list, names the project or environment."""
    ids = rig.seed(2)
    assert (await rig.provider.get(ids[1])).owner == rig.owner
    assert {d.owner for d in await rig.provider.history()} == {rig.owner}


ID_VERBS = ("get", "logs", *OPERATIONS)


@pytest.mark.parametrize("verb", ID_VERBS)
async def test_another_apps_deployment_is_refused_before_anything_is_sent(
    rig: Rig, verb: str
) -> None:
    """An ID of a deployment the key reaches but the app does not own is refused in words,
    with no request about it but the read that tells whose it is."""
    rig.seed(2)
    foreign = rig.foreign()
    provider = Owned(rig.provider, "web")
    if verb in OPERATIONS and verb not in provider.supports:
        pytest.skip(f"{rig.name} has no {verb}")
    sent = len(rig.fake.requests) if rig.over_http else 0
    with pytest.raises(NotOurs) as caught:
        await getattr(provider, verb)(foreign)
    assert str(caught.value).startswith(f"`{foreign}` is not a deployment of web")
    if rig.over_http:
        asked = [(r.method, r.path) for r in rig.fake.requests[sent:]]
        assert asked == [("GET", f"/v1/deployments/{foreign}")]


@pytest.mark.parametrize("verb", ID_VERBS)
async def test_the_apps_own_deployment_goes_through(rig: Rig, verb: str) -> None:
    """The check lets the app's own deployments through, to the provider's answer."""
    ids = rig.seed(2)
    provider = Owned(rig.provider, "web")
    if verb in OPERATIONS and verb not in provider.supports:
        with pytest.raises(Unsupported):
            await getattr(provider, verb)(ids[1])
        return
    try:
        await getattr(provider, verb)(ids[1])
    except NotOurs:  # pragma: no cover - the failure this test is about
        pytest.fail(f"{verb} of the app's own deployment was refused")
    except Rejected:
        pass  # the provider's own answer (a restart of a build that did not fail)


async def test_a_wrong_key_raises_auth_error(rig: Rig) -> None:
    """A wrong key is an AuthError for reads and writes alike, and its message omits the key."""
    rig.needs_http()
    wrong = rig.adapter(api_key="wrong-key-1234")
    for attempt in (
        wrong.get(rig.unknown_id),
        wrong.history(),
        wrong.trigger(ref=None, env_vars={}, publish=True),
    ):
        with pytest.raises(AuthError) as caught:
            await attempt
        assert "wrong-key-1234" not in str(caught.value)
    assert len(rig.fake.requests) == 3


async def test_an_unknown_id_raises_not_found(rig: Rig) -> None:
    """An unknown deployment id is NotFound, and the message names it."""
    for read in (rig.provider.get, rig.provider.poll, rig.provider.logs):
        with pytest.raises(NotFound) as caught:
            await read(rig.unknown_id)
        assert rig.unknown_id in str(caught.value)


async def test_a_5xx_is_retried_then_succeeds(rig: Rig) -> None:
    """Server errors on a read are retried until it succeeds."""
    rig.needs_http()
    [dep_id] = rig.seed(1)
    rig.fake.inject(503, "upstream down", times=2, path_contains=f"/v1/deployments/{dep_id}")
    assert (await rig.provider.get(dep_id)).status is Status.LIVE
    assert len(rig.fake.requests) == 3


async def test_a_5xx_that_lasts_is_unavailable(rig: Rig) -> None:
    """Server errors that outlast the attempts end as Unavailable."""
    rig.needs_http()
    rig.fake.inject(502, times=5)
    with pytest.raises(Unavailable) as caught:
        await rig.provider.history()
    assert "HTTP 502" in str(caught.value)
    assert len(rig.fake.requests) == 3  # stamina's test mode allows three attempts


async def test_429_with_retry_after_is_retried(rig: Rig) -> None:
    """A 429 with Retry-After is retried and then succeeds."""
    rig.needs_http()
    rig.seed(2)
    rig.fake.inject(429, rig.error_body("slow down"), headers={"Retry-After": "1"})
    assert len(await rig.provider.history()) == 2
    assert len(rig.list_requests()) == 2


async def test_429_asking_for_too_long_a_wait_is_not_waited_for(rig: Rig) -> None:
    """A Retry-After longer than we would wait in all is Unavailable at once."""
    rig.needs_http()
    rig.fake.inject(429, headers={"Retry-After": "3600"}, times=5)
    with pytest.raises(Unavailable, match="rate limiting us and asks us to wait 3600 s"):
        await rig.provider.history()
    assert len(rig.fake.requests) == 1


async def test_malformed_json_is_retried(rig: Rig) -> None:
    """An answer that is not JSON is retried for a read."""
    rig.needs_http()
    [dep_id] = rig.seed(1)
    rig.fake.malformed_next(path_contains=dep_id)
    assert (await rig.provider.get(dep_id)).id == dep_id
    assert len(rig.fake.requests) == 2


async def test_a_read_that_times_out_is_retried(rig: Rig) -> None:
    """A read that gets no answer in time is sent again."""
    rig.needs_http()
    [dep_id] = rig.seed(1)
    rig.fake.inject(200, delay=0.5, path_contains=dep_id)
    async with provider_http.client(timeout=0.2) as impatient:
        assert (await rig.adapter(client=impatient).get(dep_id)).id == dep_id
    assert len(rig.fake.requests) == 2


async def test_a_trigger_answered_500_is_not_sent_again(rig: Rig) -> None:
    """A trigger that got a 500 may have deployed: it is sent once and raises ProviderError."""
    rig.needs_http()
    rig.fake.inject(500, method="POST", times=3)
    with pytest.raises(ProviderError) as caught:
        await rig.trigger()
    assert not isinstance(caught.value, Unavailable)
    assert [r.path for r in rig.fake.requests] == [rig.trigger_path]


async def test_a_trigger_answered_with_malformed_json_is_not_sent_again(rig: Rig) -> None:
    """A trigger whose answer is not JSON is not sent again."""
    rig.needs_http()
    rig.fake.inject(201, b"{not json", {"Content-Type": "application/json"}, method="POST")
    with pytest.raises(ProviderError, match="not JSON"):
        await rig.trigger()
    assert len(rig.fake.requests) == 1


async def test_a_trigger_that_times_out_is_not_sent_again(rig: Rig) -> None:
    """A trigger that gets no answer in time is sent once."""
    rig.needs_http()
    rig.fake.inject(201, delay=0.5, method="POST")
    async with provider_http.client(timeout=0.1) as impatient:
        with pytest.raises(ProviderError, match="gave no answer") as caught:
            await rig.adapter(client=impatient).trigger(ref=None, env_vars={}, publish=True)
    assert not isinstance(caught.value, Unavailable)
    assert len(rig.fake.requests) == 1


async def test_an_unreachable_provider_is_unavailable(rig: Rig) -> None:
    """A refused connection is retried, then Unavailable."""
    rig.needs_http()
    gone = rig.adapter(url="http://127.0.0.1:9")  # the discard port: nothing listens there
    with pytest.raises(Unavailable, match="could not be reached"):
        await gone.trigger(ref=None, env_vars={}, publish=True)


async def test_an_error_never_shows_the_key(rig: Rig) -> None:
    """A provider's error text that quotes the key is masked before it reaches anyone."""
    rig.needs_http()
    rig.fake.inject(400, rig.error_body(f"key {rig.key} is not allowed here"), method="POST")
    with pytest.raises(Rejected) as caught:
        await rig.trigger()
    assert rig.key not in str(caught.value)
    assert "is not allowed here" in str(caught.value)


# ---- Stormkit ----------------------------------------------------------------------------


async def test_stormkit_402_says_build_minutes_are_exhausted(sk: StormkitRig) -> None:
    """A 402 on deploy says the build minutes are exhausted."""
    sk.fake.minutes_exhausted = True
    with pytest.raises(QuotaExceeded, match="build minutes are exhausted") as caught:
        await sk.trigger()
    assert caught.value.status == 402


async def test_stormkit_403_says_the_key_is_wrong_or_lacks_access(sk: StormkitRig) -> None:
    """A 403 with an empty body says the key is wrong or lacks access."""
    with pytest.raises(AuthError) as caught:
        await sk.adapter(api_key="Bearer nope").history()
    assert str(caught.value) == (
        "Stormkit refused the API key: it is wrong, or lacks access to this environment"
    )


@pytest.mark.parametrize(
    ("style", "detail"),
    [
        ("error", " (Only failed deployments can be restarted)"),
        ("errors_map", " (branch: Only failed deployments can be restarted)"),
        ("errors_list", " (Only failed deployments can be restarted)"),
        ("unexpected", ""),
        ("empty", ""),
    ],
)
async def test_stormkit_error_bodies_of_every_style_are_in_the_message(
    sk: StormkitRig, style: str, detail: str
) -> None:
    """Whatever the shape of Stormkit's error body, the message says what it says."""
    assert style in ERROR_STYLES
    sk.fake.error_style = style
    running = await sk.trigger()
    with pytest.raises(Rejected) as caught:
        await sk.provider.restart(running.id)
    sentence = (
        f"deployment {running.id} has not failed: "
        "only a failed or stopped deployment can be restarted"
    )
    assert str(caught.value) == sentence + detail
    with pytest.raises(NotFound) as missing:
        await sk.provider.get("4040")
    assert str(missing.value).startswith("Stormkit has no deployment 4040 in this environment")
    assert "unexpected-error" not in str(missing.value)


async def test_stormkit_publish_of_an_unfinished_build_is_rejected(sk: StormkitRig) -> None:
    """Publishing a build that has not succeeded says so, with Stormkit's reason."""
    running = await sk.trigger(publish=False)
    with pytest.raises(Rejected) as caught:
        await sk.provider.publish(running.id)
    assert str(caught.value) == (
        f"deployment {running.id} has no successful build, so it cannot be published "
        "(Deployment is still running and cannot be published)"
    )


async def test_stormkit_app_key_reaches_no_other_environments_deployment(
    sk: StormkitRig,
) -> None:
    """An app-level key reaches every environment of the app; bound to env 305, the adapter
    refuses a deployment of env 306 before any publish is sent."""
    sk.fake.add_env("306")
    [other] = sk.fake.seed_history(1, env="306")
    app = Owned(sk.adapter(api_key="sk-app-key", env_id=ENV_ID), "docs")
    with pytest.raises(NotOurs, match=f"^`{other}` is not a deployment of docs"):
        await app.publish(other)
    assert [r.method for r in sk.fake.requests] == ["GET"]
    assert sk.fake.published_id("306") == other


async def test_stormkit_a_deployment_of_another_environment_in_an_answer_is_refused() -> None:
    """Were a server to answer with another environment's deployment, the envId it names
    still refuses it: nothing is published."""
    sent: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path))
        return httpx.Response(200, json={"deployment": {"id": "77", "envId": 306}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        adapter = Stormkit(client, base_url="https://sk.test", api_key="k", env_id=ENV_ID)
        with pytest.raises(NotOurs, match="another Stormkit environment"):
            await Owned(adapter, "docs").publish("77")
    assert sent == [("GET", "/v1/deployments/77")]


async def test_stormkit_app_level_key_names_the_environment(sk: StormkitRig) -> None:
    """An app-level key sends envId: in the body of a deploy, in the query of everything else."""
    app = sk.adapter(api_key="sk-app-key", env_id=ENV_ID)
    created = await app.trigger(ref="main", env_vars={}, publish=False)
    sk.clock.advance(2)
    assert (await app.poll(created.id)).status is Status.READY
    await app.publish(created.id)
    sk.clock.advance(1)  # today's server warms it up first
    assert (await app.get(created.id)).status is Status.LIVE
    assert [d.id for d in await app.history()] == [created.id]
    assert await app.logs(created.id)
    await app.stop(created.id)
    await app.delete(created.id)
    deploy, *others = sk.fake.requests
    assert deploy.json == {"publish": False, "branch": "main", "envId": ENV_ID}
    assert all(r.query.get("envId") == ENV_ID for r in others)
    assert len(others) == 8


async def test_stormkit_app_level_key_without_environment_is_not_found(sk: StormkitRig) -> None:
    """An app-level key without envId finds no environment to deploy."""
    with pytest.raises(NotFound, match="no such environment"):
        await sk.adapter(api_key="sk-app-key").trigger(ref=None, env_vars={}, publish=True)


async def test_stormkit_stopped_manually_is_stopped(sk: StormkitRig) -> None:
    """A build stopped by hand (failed, stoppedManually) is STOPPED, not FAILED."""
    running = await sk.trigger()
    await sk.provider.stop(running.id)
    assert (await sk.provider.poll(running.id)).status is Status.STOPPED
    await sk.provider.stop(running.id)  # stopping a finished one does nothing
    assert len(sk.fake.requests_to("POST", f"/v1/deployments/{running.id}/stop")) == 2


@pytest.mark.parametrize(
    ("reported", "status"),
    [("stopped", Status.STOPPED), ("running", Status.BUILDING), ("failed", Status.FAILED)],
)
async def test_stormkit_statuses_of_the_docs_are_understood(
    sk: StormkitRig, reported: str, status: Status
) -> None:
    """Every status Stormkit's docs list has a meaning, and numeric ids are read as text."""
    body = {"deployment": {"id": 8241, "envId": 305, "status": reported, "commit": None}}
    sk.fake.inject(200, body)
    deployment = await sk.provider.get("8241")
    assert (deployment.id, deployment.status) == ("8241", status)


async def test_stormkit_an_unknown_status_is_unavailable(sk: StormkitRig) -> None:
    """A status Stormkit never documented is Unavailable, not a guess."""
    sk.fake.inject(200, {"deployment": {"id": "8241", "status": "exploded"}})
    with pytest.raises(Unavailable, match="unknown status 'exploded'"):
        await sk.provider.get("8241")


async def test_stormkit_a_success_not_published_is_ready(sk: StormkitRig) -> None:
    """A successful build that is not published is READY, not auto-published."""
    sk.seed(1)
    _, ready = await sk.follow(await sk.trigger(publish=False))
    assert (ready.status, ready.auto_published) == (Status.READY, False)
    assert [d.status for d in await sk.provider.history()] == [Status.READY, Status.LIVE]


async def test_stormkit_auto_publish_is_live_and_says_so(sk_seed: StormkitRig) -> None:
    """The seed: the environment's autoPublish publishes a build asked not to publish."""
    sk_seed.fake.set_auto_publish(True)
    _, live = await sk_seed.follow(await sk_seed.trigger(publish=False))
    assert (live.status, live.auto_published) == (Status.LIVE, True)
    assert sk_seed.fake.requests_to("POST", "/v1/deploy")[0].json == {"publish": False}


async def test_stormkit_server_publishes_an_api_deploy_only_when_asked(
    sk_server: StormkitRig,
) -> None:
    """Today's server sets ShouldPublish from the request: autoPublish does not apply."""
    sk_server.fake.set_auto_publish(True)
    seen, _ = await sk_server.follow(await sk_server.trigger(publish=False))
    assert seen == [Status.QUEUED, Status.BUILDING, Status.READY]
    assert sk_server.fake.published_id() is None


async def test_stormkit_an_explicit_publish_is_not_auto_published(sk_seed: StormkitRig) -> None:
    """A deploy asked to publish is live without being marked auto-published (the seed's
    isAutoPublish; today's server reports the deployment's own publish flag under it)."""
    _, live = await sk_seed.follow(await sk_seed.trigger(publish=True))
    assert (live.status, live.auto_published) == (Status.LIVE, False)


async def test_stormkit_restart_runs_a_failed_build_again(sk: StormkitRig) -> None:
    """Restarting a failed deployment builds it again."""
    failed = await sk.failed()
    await sk.provider.restart(failed.id)
    _, again = await sk.follow(await sk.provider.poll(failed.id))
    assert again.status is Status.LIVE


async def test_stormkit_delete_removes_the_deployment(sk: StormkitRig) -> None:
    """A deleted deployment is gone from reads and from history."""
    ids = sk.seed(2)
    await sk.provider.delete(ids[1])
    with pytest.raises(NotFound):
        await sk.provider.get(ids[1])
    assert [d.id for d in await sk.provider.history()] == ids[:1]


async def test_stormkit_delete_is_sent_once(sk: StormkitRig) -> None:
    """A delete that got a 5xx is not sent again (a repeat would say 404)."""
    [dep_id] = sk.seed(1)
    sk.fake.inject(503, times=3)
    with pytest.raises(ProviderError):
        await sk.provider.delete(dep_id)
    assert len(sk.fake.requests) == 1


async def test_stormkit_history_filters_by_branch_on_the_server(sk: StormkitRig) -> None:
    """History by ref asks Stormkit for that branch."""
    dev = sk.fake.seed_history(n=2, branch="dev")
    sk.seed(3)
    found = await sk.provider.history(ref="dev")
    assert [d.id for d in found] == dev
    assert {d.ref for d in found} == {"dev"}
    assert sk.list_requests()[0].query == {"branch": "dev"}


async def test_stormkit_history_pages_by_offset(sk: StormkitRig) -> None:
    """History pages with `from`, 20 at a time."""
    sk.seed(45)
    assert len(await sk.provider.history(limit=100)) == 45
    assert [r.query.get("from") for r in sk.list_requests()] == [None, "20", "40"]


async def test_stormkit_env_vars_are_refused_without_a_request(sk: StormkitRig) -> None:
    """Stormkit takes no variable overrides: saying so sends nothing."""
    with pytest.raises(Rejected, match="environment variable"):
        await sk.provider.trigger(ref=None, env_vars={"A": "1"}, publish=True)
    assert sk.fake.requests == []


# ---- Nometria ----------------------------------------------------------------------------


async def test_nometria_trigger_sends_commit_sha_and_env_vars(nm: NometriaRig) -> None:
    """A deploy sends the project, the commit and the variable overrides in its body."""
    created = await nm.provider.trigger(ref="abc1234", env_vars={"FLAG": "on"}, publish=True)
    assert created.status is Status.QUEUED
    [sent] = nm.fake.requests
    assert sent.json == {"project_id": PROJECT, "commit_sha": "abc1234", "env_vars": {"FLAG": "on"}}
    assert sent.headers["Authorization"] == f"Bearer {NOMETRIA_KEY}"
    assert nm.fake.deployments[created.id]["commit_sha"] == "abc1234"


async def test_nometria_trigger_without_ref_sends_only_the_project(nm: NometriaRig) -> None:
    """A plain deploy sends the project alone; Nometria picks the head of the branch."""
    await nm.trigger()
    assert nm.fake.requests[0].json == {"project_id": PROJECT}


async def test_nometria_history_filters_by_status_on_the_server(nm: NometriaRig) -> None:
    """History by status asks Nometria for it."""
    ids = nm.seed(3)
    nm.fake.seed_history("other_project", 2)
    found = await nm.provider.history(status=Status.ROLLED_BACK)
    assert [d.id for d in found] == ids[1:]
    assert nm.list_requests()[0].query == {
        "project_id": PROJECT,
        "limit": "20",
        "status": "rolled_back",
    }


@pytest.mark.parametrize("status", [Status.READY, Status.STOPPED])
async def test_nometria_history_of_a_status_it_never_has_is_empty(
    nm: NometriaRig, status: Status
) -> None:
    """Nometria never reports ready or stopped: asking for them finds nothing, sending nothing."""
    nm.seed(2)
    assert await nm.provider.history(status=status) == []
    assert nm.fake.requests == []


async def test_nometria_history_filters_by_ref_here(nm: NometriaRig) -> None:
    """History by ref keeps the deployments of that branch or commit, across pages."""
    ids = nm.seed(120)
    wanted = ids[110]
    found = await nm.provider.history(ref=nm.sha_of(wanted)[:6])
    assert [d.id for d in found] == [wanted]
    assert len(nm.list_requests()) == 6  # 20 a page, and the match is on the sixth
    assert len(await nm.provider.history(ref="main", limit=30)) == 30


async def test_nometria_history_maps_live_at_to_finished_at(nm: NometriaRig) -> None:
    """A deployment in history finished when it went live."""
    ids = nm.seed(2)
    history = await nm.provider.history()
    assert [d.status for d in history] == [Status.LIVE, Status.ROLLED_BACK]
    assert history[0].finished_at is not None
    assert history[0].finished_at.isoformat() == "2025-03-18T11:20:03+00:00"
    assert history[0].ref == nm.sha_of(ids[0])


async def test_nometria_history_asks_at_most_100_a_page(nm: NometriaRig) -> None:
    """A large limit is sent as Nometria's maximum page, 100."""
    nm.seed(3)
    await nm.provider.history(limit=500)
    assert nm.list_requests()[0].query["limit"] == "100"


async def test_nometria_rollback_returns_the_new_deployment_queued(nm: NometriaRig) -> None:
    """Rollback redeploys the target as a new deployment, which starts queued."""
    ids = nm.seed(2)
    followed = await nm.provider.rollback(ids[1])
    assert followed.id not in ids
    assert followed.status is Status.QUEUED
    assert len(nm.fake.requests_to("POST", f"/v1/deployments/{ids[1]}/rollback")) == 1


async def test_nometria_rollback_to_an_unfinished_deployment_is_rejected(nm: NometriaRig) -> None:
    """A deployment that is neither live nor rolled back cannot be rolled back to."""
    queued = await nm.trigger()
    with pytest.raises(Rejected) as caught:
        await nm.provider.rollback(queued.id)
    assert str(caught.value).startswith(
        f"deployment {queued.id} is neither live nor rolled back, "
        "so production cannot go back to it"
    )
    assert caught.value.status == 409


async def test_nometria_rollback_answered_500_is_not_sent_again(nm: NometriaRig) -> None:
    """A rollback that got a 500 may have started a deployment: it is sent once."""
    ids = nm.seed(2)
    nm.fake.inject(500, method="POST", times=3)
    with pytest.raises(ProviderError):
        await nm.provider.rollback(ids[1])
    assert len(nm.fake.requests) == 1


async def test_nometria_unsupported_operations_say_what_to_do(nm: NometriaRig) -> None:
    """Nometria's missing operations are explained in a plain sentence."""
    with pytest.raises(Unsupported) as caught:
        await nm.provider.publish("dep_x")
    assert str(caught.value) == (
        "Nometria has no separate publish: a deploy goes live by itself; "
        "use rollback to return to an earlier deployment"
    )
    with pytest.raises(Unsupported, match="Nometria has no stop: a deployment cannot be stopped"):
        await nm.provider.stop("dep_x")
    assert nm.provider.supports == {"rollback", "env", "commit_refs", "rollback_redeploys"}


async def test_nometria_a_wrong_key_is_said_plainly(nm: NometriaRig) -> None:
    """A 401 says the key is wrong, revoked or lacks access, with Nometria's words."""
    with pytest.raises(AuthError) as caught:
        await nm.adapter(api_key="nm-wrong").get("dep_x")
    assert str(caught.value) == (
        "Nometria refused the API key: it is wrong, revoked, or lacks access to this project "
        "(Invalid API key)"
    )


async def test_nometria_an_unknown_project_is_not_found(nm: NometriaRig) -> None:
    """Deploying a project Nometria does not know is NotFound, naming the project."""
    nm.fake.known_projects = {"proj_other"}
    with pytest.raises(NotFound, match=f"Nometria has no project {PROJECT}"):
        await nm.trigger()


# ---- Stormkit as its server answers today ---------------------------------------------------


def _success(**fields: Any) -> dict[str, Any]:
    """A finished deployment 8241 of environment 305, stopped at the fake's clock."""
    return {"deployment": {"id": "8241", "envId": "305", "status": "success"} | fields}


@pytest.mark.parametrize(
    ("published", "warming", "status"),
    [
        (True, False, Status.LIVE),
        (True, True, Status.DEPLOYING),
        (False, True, Status.DEPLOYING),
        (False, False, Status.READY),
        ([{"envId": "305", "percentage": 100}], False, Status.LIVE),
        ([{"envId": "306", "percentage": 100}], False, Status.READY),
        ([], True, Status.DEPLOYING),
    ],
)
async def test_stormkit_published_is_read_in_both_shapes(
    sk: StormkitRig, published: Any, warming: bool, status: Status
) -> None:
    """A boolean or the seed's list; live only when published here and no longer warming up."""
    sk.fake.inject(200, _success(published=published, isWarmingUp=warming))
    assert (await sk.provider.get("8241")).status is status


async def test_stormkit_a_build_about_to_publish_itself_is_still_deploying(
    sk: StormkitRig,
) -> None:
    """success + will publish + not yet published: deploying, for the moment before its publish
    starts; long after, an unpublished build is only built."""
    stopped = str(int(sk.clock.now()))
    sk.fake.inject(200, _success(published=False, isAutoPublish=True, stoppedAt=stopped))
    assert (await sk.provider.get("8241")).status is Status.DEPLOYING
    sk.clock.advance(120)
    sk.fake.inject(200, _success(published=False, isAutoPublish=True, stoppedAt=stopped))
    assert (await sk.provider.get("8241")).status is Status.READY


@pytest.mark.parametrize("moment", [1742300400, "1742300400", 1742300400.0])
async def test_stormkit_created_at_is_a_number_or_a_string(sk: StormkitRig, moment: Any) -> None:
    sk.fake.inject(200, _success(createdAt=moment, stoppedAt=None, published=True))
    deployment = await sk.provider.get("8241")
    assert deployment.created_at is not None
    assert deployment.created_at.timestamp() == 1742300400
    assert deployment.finished_at is None


async def test_stormkit_publish_answer_with_a_status_is_accepted(sk: StormkitRig) -> None:
    """Today's server answers a publish {"ok": true, "status": "publishing"}."""
    [built, *_] = sk.seed(2)
    sk.fake.inject(200, {"ok": True, "status": "publishing"}, method="POST")
    await sk.provider.publish(built)


async def test_stormkit_a_404_with_env_id_points_at_env_id_and_key_scope(sk: StormkitRig) -> None:
    """With an env_id set, 404 most likely means a wrong env_id or a key of another scope."""
    scoped = sk.adapter(api_key="sk-app-key", env_id="999")
    with pytest.raises(NotFound) as listing:
        await scoped.history(limit=1)
    assert "most likely env_id 999 is wrong, or the key belongs to another app" in str(
        listing.value
    )
    with pytest.raises(NotFound) as one:
        await scoped.get("8241")
    assert str(one.value).startswith("Stormkit has no deployment 8241 in this environment")
    assert "if the id is right, most likely env_id 999 is wrong" in str(one.value)
    unscoped = sk.adapter()
    with pytest.raises(NotFound) as plain:
        await unscoped.get("4040")
    assert "env_id" not in str(plain.value)


async def test_stormkit_a_failed_status_check_is_the_reason_and_its_lines_are_quoted(
    sk: StormkitRig,
) -> None:
    sk.fake.fail_status_checks_next()
    seen, failed = await sk.follow(await sk.trigger())
    assert seen[-2:] == [Status.BUILDING, Status.FAILED]
    assert failed.error == "a status check failed, so Stormkit did not publish it"
    lines = await sk.provider.logs(failed.id)
    [check] = [line for line in lines if line.failed]
    assert check.title == "status check: curl -fsS https://my-app.stormkit.dev/health"
    assert "returned error: 503" in check.message


async def test_stormkit_an_empty_403_says_the_key_is_refused(sk: StormkitRig) -> None:
    bad = sk.adapter(api_key="SK_wrong")
    with pytest.raises(AuthError, match="Stormkit refused the API key"):
        await bad.history(limit=1)
    assert sk.fake.requests[-1].headers["Authorization"] == "SK_wrong"


def test_a_publish_just_accepted_is_on_its_way_not_ready() -> None:
    ready = Deployment(id="8241", status=Status.READY)
    assert ready.publishing().status is Status.DEPLOYING
    live = Deployment(id="8241", status=Status.LIVE)
    assert live.publishing() is live


@pytest.mark.parametrize(
    ("provider", "before", "now", "after"),
    [
        ("stormkit", Status.DEPLOYING, Status.READY, Status.FAILED),  # the warm-up failed
        ("stormkit", Status.DEPLOYING, Status.LIVE, Status.LIVE),
        ("stormkit", Status.BUILDING, Status.READY, Status.READY),  # built, never asked
        ("sandbox", Status.DEPLOYING, Status.READY, Status.READY),  # no warm-up to fail
        ("nometria", Status.DEPLOYING, Status.READY, Status.READY),
    ],
)
def test_falling_back_from_a_publish_that_warms_up_is_a_failure(
    provider: str, before: Status, now: Status, after: Status
) -> None:
    supports = {
        "stormkit": Stormkit.supports,
        "sandbox": Sandbox.supports,
        "nometria": Nometria.supports,
    }[provider]
    outcome = publish_outcome(supports, provider, before, Deployment(id="8241", status=now))
    assert outcome.status is after
    assert (outcome.error is not None) == (after is Status.FAILED)


async def test_stormkit_server_with_the_list_shape_goes_live_after_its_warm_up(
    sk_server: StormkitRig,
) -> None:
    """Today's server sending `published` as the seed's list: the same lifecycle."""
    sk_server.fake.published_as_list = True
    seen, live = await sk_server.follow(await sk_server.trigger())
    assert seen == list(StormkitServerRig.lifecycle)
    assert live.status is Status.LIVE
    [view] = (
        await sk_server.client.get(
            f"{sk_server.url}/v1/deployments", headers={"Authorization": STORMKIT_KEY}
        )
    ).json()["deployments"]
    assert view["published"] == [{"envId": ENV_ID, "percentage": 100}]
    assert view["isWarmingUp"] is False


def test_stormkit_times_are_unix_seconds_in_ascii_digits() -> None:
    """A string of other digits is not read as seconds ("\u0661\u0667" would be 17 to int())."""
    read = StormkitDeployment.model_validate({"id": "1", "createdAt": "1700000000"})
    assert read.createdAt is not None
    assert read.createdAt.timestamp() == 1700000000
    for odd in ("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "²"):
        with pytest.raises(ValidationError):
            StormkitDeployment.model_validate({"id": "1", "createdAt": odd})
