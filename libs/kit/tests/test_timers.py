"""Durable timers on a toy fleet, for real: moto server over HTTP, the
service's own queue, the fleet clock moved by the test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi import APIRouter, FastAPI

from mindlinks_dev.bootstrap import bootstrap
from mindlinks_dev.harness import Running, run_services
from mindlinks_dev.pytest_plugin import FleetClock
from mindlinks_kit import clock
from mindlinks_kit.app import Transaction, create_app
from mindlinks_kit.declaration import Fleet, Key, Service, Table, Timer
from mindlinks_kit.dynamo import UnitOfWork
from mindlinks_kit.errors import InvalidInput
from mindlinks_kit.runtime import Runtime
from mindlinks_kit.schemas import ApiModel
from mindlinks_kit.settings import ServiceSettings
from mindlinks_kit.timer_schedules import SCHEDULE_GROUP, TimerSchedules, schedule_name
from mindlinks_kit.timers import Fired, Firing, Timers, item_id


class Lap(ApiModel):
    note: str
    again: int = 0
    """Times the handler sets its own timer again (a repeating reminder)."""


CLOCKED = Fleet(
    name="clocked",
    services=(
        Service("auth", port=4101, area="auth"),
        Service(
            "gamma",
            port=4102,
            area="gammas",
            tables=(Table("effects", pk=Key("id")),),
            timers=(Timer("lap.due", payload=Lap), Timer("bare")),
        ),
    ),
    events=(),
)


class SetLap(ApiModel):
    seconds: float
    note: str
    again: int = 0
    refuse: bool = False


def gamma_app(settings: ServiceSettings) -> FastAPI:
    router = APIRouter()
    fired: list[tuple[str, str, str]] = []

    def timers_of(app: FastAPI) -> Timers:
        runtime: Runtime = app.state.runtime
        assert runtime.timers is not None
        return runtime.timers

    @router.put("/v1/gammas/laps/{key}")
    async def set_lap(key: str, body: SetLap, uow: Transaction) -> dict[str, str]:
        due = clock.now() + timedelta(seconds=body.seconds)
        lap = Lap(note=body.note, again=body.again)
        token = timers_of(app).set(uow, "lap.due", key, due, lap)
        uow.put(app.state.runtime.table("effects"), {"id": f"set#{key}#{token}"})
        if body.refuse:
            raise InvalidInput("refused after the timer was staged")
        return {"token": token}

    @router.delete("/v1/gammas/laps/{key}", status_code=204)
    async def cancel_lap(key: str, uow: Transaction) -> None:
        timers_of(app).cancel(uow, "lap.due", key)

    async def setup(runtime: Runtime) -> Runtime:
        return runtime

    def handlers(runtime: Runtime) -> dict[str, Any]:
        async def on_lap(lap: Fired[Lap], uow: UnitOfWork) -> None:
            fired.append((lap.key, lap.token, lap.payload.note))
            uow.put(runtime.table("effects"), {"id": f"fired#{lap.key}#{lap.token}"})
            if lap.payload.note == "cancel itself":
                assert runtime.timers is not None  # as a handler that ends a series would
                runtime.timers.cancel(uow, "lap.due", lap.key)
            if lap.payload.again:
                again = Lap(note=lap.payload.note, again=lap.payload.again - 1)
                assert runtime.timers is not None
                runtime.timers.set(uow, "lap.due", lap.key, lap.due + timedelta(days=2), again)

        async def on_bare(bare: Fired[Any], uow: UnitOfWork) -> None:
            fired.append((bare.key, bare.token, "bare"))

        return {"lap.due": on_lap, "bare": on_bare}

    app = create_app(
        fleet=CLOCKED,
        service="gamma",
        settings=settings,
        routers=[router],
        setup=setup,
        timers=handlers,
    )
    app.state.fired = fired
    return app


@pytest.fixture(scope="module")
def clocked_settings(fleet_resources: Any, aws_endpoint: str) -> ServiceSettings:
    prefix = f"clk{uuid.uuid4().hex[:6]}-"
    bootstrap(CLOCKED, endpoint_url=aws_endpoint, prefix=prefix)
    return ServiceSettings(resource_prefix=prefix)


@pytest.fixture(scope="module")
async def clocked(clocked_settings: ServiceSettings) -> AsyncIterator[Running]:
    async with run_services({"gamma": lambda: gamma_app(clocked_settings)}) as running:
        yield running


def timers(fleet: Running) -> Timers:
    found = fleet.runtime("gamma").timers
    assert found is not None
    return found


def fired(fleet: Running, key: str) -> list[tuple[str, str, str]]:
    return [f for f in fleet.apps["gamma"].state.fired if f[0] == key]


async def set_lap(fleet: Running, key: str, seconds: float, note: str = "n", **more: Any) -> str:
    body = {"seconds": seconds, "note": note, **more}
    response = await fleet.client("gamma").put(f"/v1/gammas/laps/{key}", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def fire_due(fleet: Running) -> int:
    """Sweep, then handle what the queue holds (``deliver`` sweeps too);
    returns the timers handed over."""
    handed = await timers(fleet).sweep()
    await fleet.deliver()
    return handed


async def test_a_timer_fires_once_when_the_fleet_clock_reaches_it(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    token = await set_lap(clocked, key, 14 * 86400, note="two weeks")
    stored = await timers(clocked).pending("lap.due", key)
    assert stored is not None
    assert stored["token"] == token
    assert await clocked.runtime("gamma").table("effects").get({"id": f"set#{key}#{token}"})

    assert await fire_due(clocked) == 0
    fleet_clock.advance("13d")
    assert await fire_due(clocked) == 0
    assert fired(clocked, key) == []

    fleet_clock.advance("1d")
    fleet_clock.advance(5)
    assert await fire_due(clocked) == 1
    assert fired(clocked, key) == [(key, token, "two weeks")]
    effects = clocked.runtime("gamma").table("effects")
    assert await effects.get({"id": f"fired#{key}#{token}"})
    assert await timers(clocked).pending("lap.due", key) is None
    assert await fire_due(clocked) == 0
    assert fired(clocked, key) == [(key, token, "two weeks")]


async def test_locally_an_idle_loop_queries_nothing_until_a_timer_can_be_due(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    """Without a scheduler the loop looks every tick but queries only when the
    clock reaches a due time it knows (swept, or set here), or once in
    ``idle_sweep_seconds``: an idle service costs no AWS call a tick, and a
    set none."""
    found = timers(clocked)
    await fire_due(clocked)  # nothing left over from other tests
    swept: list[int] = []
    sweep = found.sweep

    async def counted() -> int:
        handed = await sweep()
        swept.append(handed)
        return handed

    found.sweep = counted  # type: ignore[method-assign]
    found.tick_seconds = 0.05
    loop = asyncio.create_task(found.run())
    try:
        await asyncio.sleep(0.3)
        assert len(swept) == 1, swept  # the start's, then nothing while idle
        key = uuid.uuid4().hex
        await set_lap(clocked, key, 3600)
        await asyncio.sleep(0.3)
        assert swept == [0]  # the commit told it the due time: no query
        assert found.set_due is not None
        fleet_clock.advance(3601)
        for _ in range(40):
            if sum(swept) == 1:
                break
            await asyncio.sleep(0.05)
        assert sum(swept) == 1, swept
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        found.tick_seconds = 5.0
        del found.sweep
    await clocked.deliver()
    assert len(fired(clocked, key)) == 1


async def test_the_clock_offset_moves_now_in_local_mode_only(
    fleet_clock: FleetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet_clock.advance("2h")
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(hours=2) - timedelta(seconds=5) < ahead <= timedelta(hours=2, seconds=5)
    assert clock.now_iso() > clock.iso(datetime.now(UTC) + timedelta(minutes=119))
    monkeypatch.setenv("MINDLINKS_ENVIRONMENT", "prod")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_durations_parse_and_refuse_nonsense() -> None:
    assert clock.parse_duration("14d") == 14 * 86400
    assert clock.parse_duration("90") == 90
    assert clock.parse_duration("1.5h") == 5400
    with pytest.raises(ValueError, match="not a duration"):
        clock.parse_duration("two weeks")


async def test_a_duplicate_firing_has_no_second_effect(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    token = await set_lap(clocked, key, 60)
    fleet_clock.advance(61)
    firing = Firing("lap.due", key, token, "ignored")
    # Two deliveries at once (the scheduler and the sweep, or a redelivery):
    # both read the item, both run the handler, one commit wins.
    found = timers(clocked)
    original = found.handlers["lap.due"]
    arrived: list[str] = []
    both = asyncio.Event()

    async def together(lap: Fired[Any], uow: UnitOfWork) -> None:
        arrived.append(lap.token)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=10)
        await original(lap, uow)

    found.handlers["lap.due"] = together
    try:
        outcomes = await asyncio.gather(found.fire(firing), found.fire(firing))
    finally:
        found.handlers["lap.due"] = original
    assert sorted(outcomes) == [False, True]
    assert len(fired(clocked, key)) == 2  # the handler ran twice…
    # …and a late third delivery, through the queue, finds it fired.
    consumer = clocked.runtime("gamma").consumer
    assert consumer is not None
    await consumer.sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=firing.body())
    assert await consumer.drain() == 1
    assert len(fired(clocked, key)) == 2
    effects, _ = await clocked.runtime("gamma").table("effects").scan(limit=1000)
    assert [e for e in effects if e["id"] == f"fired#{key}#{token}"] != []


async def test_a_cancelled_timer_does_not_fire_even_when_its_firing_is_on_the_way(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    early, late = uuid.uuid4().hex, uuid.uuid4().hex
    await set_lap(clocked, early, 60)
    await set_lap(clocked, late, 60)
    response = await clocked.client("gamma").delete(f"/v1/gammas/laps/{early}")
    assert response.status_code == 204
    fleet_clock.advance(61)
    assert await timers(clocked).sweep() == 1  # only the one still set
    # The late one's firing is queued, then it is cancelled: the firing is a no-op.
    response = await clocked.client("gamma").delete(f"/v1/gammas/laps/{late}")
    assert response.status_code == 204
    await clocked.deliver()
    assert fired(clocked, early) == []
    assert fired(clocked, late) == []
    # Cancelling what is not set is no error.
    response = await clocked.client("gamma").delete(f"/v1/gammas/laps/{late}")
    assert response.status_code == 204


async def test_setting_again_replaces_the_due_time_and_the_first_firing_is_stale(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    first = await set_lap(clocked, key, 60, note="first")
    second = await set_lap(clocked, key, 3600, note="second")
    assert first != second
    fleet_clock.advance(120)
    assert await fire_due(clocked) == 0
    assert not await timers(clocked).fire(Firing("lap.due", key, first, "stale"))
    fleet_clock.advance(3600)
    assert await fire_due(clocked) == 1
    assert fired(clocked, key) == [(key, second, "second")]


async def test_a_rolled_back_transaction_sets_no_timer(clocked: Running) -> None:
    key = uuid.uuid4().hex
    response = await clocked.client("gamma").put(
        f"/v1/gammas/laps/{key}", json={"seconds": 0, "note": "n", "refuse": True}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await timers(clocked).pending("lap.due", key) is None
    assert await fire_due(clocked) == 0


async def test_a_handler_that_sets_its_own_timer_again_fires_each_one_once(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    first = await set_lap(clocked, key, 60, note="reminder", again=1)
    fleet_clock.advance(61)
    assert await fire_due(clocked) == 1
    again = await timers(clocked).pending("lap.due", key)
    assert again is not None
    assert again["token"] != first  # set again in the firing's own transaction
    # The first firing delivered again changes nothing: the claim moved on.
    assert not await timers(clocked).fire(Firing("lap.due", key, first, "again"))
    fleet_clock.advance("2d")
    assert await fire_due(clocked) == 1
    assert [f[1] for f in fired(clocked, key)] == [first, again["token"]]
    assert await timers(clocked).pending("lap.due", key) is None


async def test_a_handler_that_cancels_its_own_timer_fires_once(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    token = await set_lap(clocked, key, 60, note="cancel itself")
    fleet_clock.advance(61)
    assert await fire_due(clocked) == 1
    assert not await timers(clocked).fire(Firing("lap.due", key, token, "again"))
    assert fired(clocked, key) == [(key, token, "cancel itself")]
    assert await timers(clocked).pending("lap.due", key) is None


async def test_a_firing_of_an_undeclared_timer_is_dead_lettered(clocked: Running) -> None:
    consumer = clocked.runtime("gamma").consumer
    assert consumer is not None
    body = Firing("nobody.knows", "k", "t", "2026-01-01T00:00:00Z").body()
    await consumer.sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=body)
    assert await consumer.drain() == 1
    dead = await consumer.sqs.receive_message(
        QueueUrl=consumer.dead_letter_url, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    letters = [m for m in dead["Messages"] if m["Body"] == body]
    assert letters[0]["MessageAttributes"]["error"]["StringValue"].startswith("poison")
    for letter in dead["Messages"]:
        await consumer.sqs.delete_message(
            QueueUrl=consumer.dead_letter_url, ReceiptHandle=letter["ReceiptHandle"]
        )


def test_setting_an_undeclared_timer_or_a_wrong_payload_is_refused(clocked: Running) -> None:
    uow = clocked.runtime("gamma").uow()
    due = clock.now() + timedelta(hours=1)
    with pytest.raises(KeyError, match="no timer"):
        timers(clocked).set(uow, "lap.gone", "k", due, Lap(note="n"))
    with pytest.raises(TypeError, match="takes Lap"):
        timers(clocked).set(uow, "lap.due", "k", due)
    with pytest.raises(ValueError, match="timezone-aware"):
        timers(clocked).set(uow, "lap.due", "k", due.replace(tzinfo=None), Lap(note="n"))
    assert uow.writes == []


def test_the_fleet_refuses_duplicate_timer_names() -> None:
    with pytest.raises(ValueError, match="timer names"):
        Fleet(
            name="bad",
            services=(Service("x", port=1, area="x", timers=(Timer("a"), Timer("a"))),),
            events=(),
        )


# The AWS path: EventBridge Scheduler (moto's), the way a deployed task uses it.


@pytest.fixture
async def scheduled(
    clocked: Running, clocked_settings: ServiceSettings
) -> AsyncIterator[TimerSchedules]:
    runtime = clocked.runtime("gamma")
    found = timers(clocked)
    consumer = runtime.consumer
    assert consumer is not None
    attributes = await consumer.sqs.get_queue_attributes(
        QueueUrl=consumer.queue_url, AttributeNames=["QueueArn"]
    )
    schedules = TimerSchedules(
        runtime.aws.scheduler,
        found.table,
        service="gamma",
        group=clocked_settings.physical(SCHEDULE_GROUP),
        role_arn="arn:aws:iam::123456789012:role/clocked-timers",
        queue_arn=attributes["Attributes"]["QueueArn"],
        metrics=runtime.metrics,
    )
    found.schedules = schedules
    yield schedules
    found.schedules = None


async def schedule_of(schedules: TimerSchedules, key: str) -> dict[str, Any]:
    found: dict[str, Any] = await schedules.scheduler.get_schedule(
        Name=schedule_name("gamma", item_id("lap.due", key)), GroupName=schedules.group
    )
    return found


async def schedules_in_group(schedules: TimerSchedules) -> list[str]:
    listed = await schedules.scheduler.list_schedules(GroupName=schedules.group)
    return [s["Name"] for s in listed["Schedules"]]


async def test_a_committed_timer_gets_one_schedule_that_sends_its_firing_to_the_queue(
    clocked: Running, scheduled: TimerSchedules
) -> None:
    key = uuid.uuid4().hex
    token = await set_lap(clocked, key, 3600, note="aws")
    assert await scheduled.publish_handed() == 1
    stored = await timers(clocked).pending("lap.due", key)
    assert stored is not None
    assert "scheduleShard" not in stored  # off the unscheduled index
    found = await schedule_of(scheduled, key)
    due = datetime.fromisoformat(stored["dueAt"].replace("Z", "+00:00"))
    at = due.replace(microsecond=0) + timedelta(seconds=1 if due.microsecond else 0)
    assert found["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"  # never early
    assert found["Target"]["Arn"] == scheduled.queue_arn
    assert found["Target"]["RoleArn"] == scheduled.role_arn
    firing = Firing.of(json.loads(found["Target"]["Input"]))
    assert (firing.name, firing.key, firing.token) == ("lap.due", key, token)
    name = schedule_name("gamma", item_id("lap.due", key))
    assert (await schedules_in_group(scheduled)).count(name) == 1

    # Set again: still one schedule, now for the new due time and token.
    second = await set_lap(clocked, key, 7200, note="aws")
    assert await scheduled.publish_handed() == 1
    assert (await schedules_in_group(scheduled)).count(name) == 1
    again = Firing.of(json.loads((await schedule_of(scheduled, key))["Target"]["Input"]))
    assert again.token == second

    # The firing the scheduler sends, handled by the consumer, fires it once.
    consumer = clocked.runtime("gamma").consumer
    assert consumer is not None
    await consumer.sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=again.body())
    assert await consumer.drain() == 1
    assert fired(clocked, key) == [(key, second, "aws")]


async def test_a_cancelled_timer_loses_its_schedule(
    clocked: Running, scheduled: TimerSchedules
) -> None:
    key = uuid.uuid4().hex
    await set_lap(clocked, key, 3600)
    await scheduled.publish_handed()
    assert await schedule_of(scheduled, key)
    response = await clocked.client("gamma").delete(f"/v1/gammas/laps/{key}")
    assert response.status_code == 204
    assert await scheduled.publish_handed() == 1
    with pytest.raises(ClientError) as refused:
        await schedule_of(scheduled, key)
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


async def test_the_sweep_creates_the_schedules_a_crashed_task_never_made(
    clocked: Running, scheduled: TimerSchedules
) -> None:
    key = uuid.uuid4().hex
    await set_lap(clocked, key, 3600)
    scheduled._handed.clear()  # the task died after commit, before scheduling
    with pytest.raises(ClientError):
        await schedule_of(scheduled, key)
    assert await scheduled.flush() >= 1
    assert await schedule_of(scheduled, key)
    stored = await timers(clocked).pending("lap.due", key)
    assert stored is not None
    assert "scheduleShard" not in stored


async def test_in_aws_the_sweep_fires_only_what_a_lost_schedule_left_overdue(
    clocked: Running, fleet_clock: FleetClock
) -> None:
    key = uuid.uuid4().hex
    await set_lap(clocked, key, 60)
    found = timers(clocked)
    found.grace = timedelta(minutes=15)
    try:
        fleet_clock.advance(120)
        assert await fire_due(clocked) == 0  # the scheduler's to deliver
        fleet_clock.advance("20m")
        assert await fire_due(clocked) == 1
    finally:
        found.grace = timedelta(0)
    assert len(fired(clocked, key)) == 1


async def test_the_background_loop_sweeps_and_schedules_on_its_own(
    clocked: Running, scheduled: TimerSchedules
) -> None:
    found = timers(clocked)
    found.tick_seconds = 0.05
    swept, scheduled_key = uuid.uuid4().hex, uuid.uuid4().hex
    loop = asyncio.create_task(found.run())
    try:
        await set_lap(clocked, scheduled_key, 3600)  # the commit wakes it: scheduled
        await set_lap(clocked, swept, 0)  # due at once: swept onto the queue
        for _ in range(100):
            stored = await found.pending("lap.due", swept)
            if stored is None or "sentAt" in stored:
                break
            await asyncio.sleep(0.05)
        assert await schedule_of(scheduled, scheduled_key)
    finally:
        loop.cancel()
        found.tick_seconds = 5.0
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    await clocked.deliver()
    assert len(fired(clocked, swept)) == 1
    response = await clocked.client("gamma").delete(f"/v1/gammas/laps/{scheduled_key}")
    assert response.status_code == 204
    await scheduled.publish_handed()


async def test_an_app_must_handle_exactly_the_timers_it_declares(
    clocked_settings: ServiceSettings,
) -> None:
    app = create_app(
        fleet=CLOCKED,
        service="gamma",
        settings=clocked_settings,
        routers=[],
        timers=lambda deps: {"lap.due": lambda fired, uow: asyncio.sleep(0)},
    )
    with pytest.raises(RuntimeError, match=r"handles timers \['lap.due'\] but declares"):
        async with run_services({"gamma": lambda: app}):
            pass
