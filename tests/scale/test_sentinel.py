"""The line on Redis Sentinel: the master dies in the middle of conversations; every webhook still
answers (the safety net at worst), and the conversations finish right on the promoted replica."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ivr.simulator.twilio_sim import TwilioSimulator, messages_of, new_sid, parse_twiml
from tests.conftest import make_settings, serving
from tests.conversations import converse, expected_outcome, plan
from tests.redis_servers import SentinelServers
from tests.support import OUR_NUMBER

CONVERSATIONS = 24


async def _probe(twilio: TwilioSimulator, n: int) -> tuple[int, float, str]:
    """One webhook from someone new (a text, or a call, by turns): its status, time and TwiML."""
    params = {"AccountSid": "AC" + "0" * 32, "From": f"+1666{n:07d}", "To": OUR_NUMBER}
    if n % 2:
        path, extra = "/voice", {"CallSid": new_sid("CA"), "CallStatus": "ringing"}
    else:
        path, extra = "/sms", {"MessageSid": new_sid("SM"), "Body": "hi"}
    began = time.monotonic()
    response = await twilio.post(path, {**params, **extra})
    return response.status_code, time.monotonic() - began, response.text


async def test_a_failover_in_the_middle_of_conversations(tmp_path: Path) -> None:
    servers = SentinelServers(tmp_path).start()
    try:
        async with serving(make_settings(redis_url=servers.url)) as twilio:
            midway, all_midway = asyncio.Event(), asyncio.Event()
            waiting = 0

            async def pause(i: int, step: int) -> None:
                nonlocal waiting
                # Each stops after its first answer (or, when that one is its last, before it).
                if step == (0 if plan(i)[2] == 0 else 1):
                    waiting += 1
                    if waiting == CONVERSATIONS:
                        all_midway.set()
                    await midway.wait()

            conversations = [
                asyncio.create_task(converse(twilio, i, pause, prefix="+1777")) for i in range(CONVERSATIONS)
            ]
            await asyncio.wait_for(all_midway.wait(), timeout=30)
            with servers.master.client() as master:
                master.execute_command("WAIT", 1, 5000)  # the replica has every answer so far
            servers.master.kill()

            probes: list[tuple[int, float, str]] = []
            failover = asyncio.create_task(asyncio.to_thread(servers.wait_for_failover))
            while not failover.done():
                probes.append(await _probe(twilio, len(probes)))
                await asyncio.sleep(0.05)
            await failover
            deadline = time.monotonic() + 15
            while (await twilio.client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "the app did not find the new master"
                await asyncio.sleep(0.1)

            midway.set()
            outcomes = await asyncio.gather(*conversations)
            after = [await _probe(twilio, 10_000 + n) for n in range(4)]
    finally:
        servers.stop()

    assert outcomes == [expected_outcome(i) for i in range(CONVERSATIONS)]
    assert probes, "no webhook was sent while the master was down"
    for status, seconds, body in probes + after:
        assert status == 200
        assert seconds < 2.5
        root = parse_twiml(body)  # valid TwiML, and it tells the caller to call 911
        assert root.tag == "Response"
        assert "911" in body
    safety_nets = sum("try again later" in body for _, _, body in probes)
    assert safety_nets > 0, "the outage never showed: the test did not test a failover"
    assert all("try again later" not in body for _, _, body in after)
    assert all(messages_of(body) or "<Say" in body for _, _, body in after)
    print(
        f"\nfailover: {len(probes)} webhooks during it ({safety_nets} safety nets, slowest "
        f"{max(s for _, s, _ in probes):.2f} s); {CONVERSATIONS} conversations finished right after it"
    )
