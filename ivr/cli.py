"""The `ivr` command: serve the webhooks, try the line in a terminal, and work with flows."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx
import uvicorn

from ivr import graph
from ivr.bench import overload as bench_overload
from ivr.bench import profile as bench_profile
from ivr.bench import run as bench
from ivr.channels import sms as sms_channel
from ivr.channels import voice as voice_channel
from ivr.channels.voice import VoiceStyle
from ivr.checker import check_paths
from ivr.config import PACKAGED_FLOWS, ConfigError, Settings, load_settings
from ivr.core.flow import Flow
from ivr.flowfile import FlowError, load_flows
from ivr.ops.logs import logging_config
from ivr.ops.report import as_csv, as_html, as_table, summarize
from ivr.store.audit import DAY_MS, AuditLog, AuditRecord
from ivr.store.connect import connect
from ivr.twilio_sim import TwilioSimulator
from ivr.web import create_app

EXIT_CONFIG = 2
LATEST = Path("bench/results/latest.json")
TWIML_BINS = Path(__file__).resolve().parent.parent / "deploy" / "twiml-bins"
PLAY_BASE_URL = "https://ivr.local"
PLAY_OUR_NUMBER = "+15550100000"
PLAY_THEIR_NUMBER = "+15550100001"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.run(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except FlowError as exc:
        print(f"flow problems in {exc.source}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Muscle weakness triage line.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the webhook server")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server in a container listens on all interfaces
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    report = commands.add_parser("report", help="counts of what the line advised, from the audit stream")
    report.add_argument("--since", help="first day, YYYY-MM-DD (UTC)")
    report.add_argument("--until", help="last day, YYYY-MM-DD (UTC), included")
    report.add_argument("--format", choices=["table", "csv", "html"], default="table")
    report.add_argument("--out", type=Path, help="write to this file instead of printing")
    report.set_defaults(run=_report)

    bench = commands.add_parser("bench", help="measure the line against a bare endpoint, on a private Redis")
    bench.add_argument("--duration", type=float, default=10.0, help="seconds of load per measurement")
    bench.add_argument("--connections", type=int, default=64)
    bench.add_argument("--smoke", action="store_true", help="a few seconds: check the figures are produced")
    bench.add_argument("--out", type=Path, default=LATEST)
    bench.add_argument(
        "--profile", action="store_true", help="instead: where one worker's time goes (pyinstrument)"
    )
    bench.add_argument(
        "--overload",
        action="store_true",
        help="instead: one worker given --factor times the conversations it can serve (writes overload.json)",
    )
    bench.add_argument("--factor", type=float, default=2.0, help="with --overload: arrivals over capacity")
    bench.add_argument("--seconds", type=float, default=6.0, help="with --overload: seconds of arrivals")
    bench.set_defaults(run=_bench)

    chat = commands.add_parser("chat", help="text the line from this terminal")
    chat.set_defaults(run=lambda args: _play(_chat))

    call = commands.add_parser("call", help="call the line from this terminal, typing keys")
    call.set_defaults(run=lambda args: _play(_call))

    flows = commands.add_parser("flows", help="list and validate flows").add_subparsers(
        required=True, metavar="ACTION"
    )
    listing = flows.add_parser("list", help="the flows in a directory, with versions and digests")
    listing.add_argument("directory", nargs="?", type=Path, default=PACKAGED_FLOWS)
    listing.set_defaults(run=_flows_list)

    check = flows.add_parser("check", help="prove flows safe to serve; lists every problem, exits 1 if any")
    check.add_argument("paths", nargs="*", type=Path, default=[PACKAGED_FLOWS], metavar="PATH")
    check.set_defaults(run=_flows_check)

    graph = flows.add_parser("graph", help="draw a flow (Mermaid, DOT, or SVG through Graphviz)")
    graph.add_argument("flow", help="flow id, e.g. muscle-weakness")
    graph.add_argument("--format", choices=["mermaid", "dot", "svg"], default="mermaid")
    graph.add_argument("--dir", type=Path, default=PACKAGED_FLOWS, help="directory of flow files")
    graph.add_argument("--readme", type=Path, help="rewrite this file's diagram block instead of printing")
    graph.set_defaults(run=_flows_graph)

    bins = flows.add_parser("twiml-bins", help="write the static safety-net TwiML for Twilio TwiML Bins")
    bins.add_argument("--dir", type=Path, default=PACKAGED_FLOWS, help="directory of flow files")
    bins.add_argument("--flow", default="muscle-weakness")
    bins.add_argument("--out", type=Path, default=TWIML_BINS, help="where to write sms.xml and voice.xml")
    bins.add_argument("--emergency-number", default="911")
    bins.set_defaults(run=_flows_twiml_bins)
    return parser


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail here, with a readable message, not inside a worker
    if args.workers > 1 and not settings.redis_url:
        raise ConfigError(
            "several workers need a shared Redis: set REDIS_URL (the in-process store is per process)"
        )
    _, problems = check_paths([settings.flows_dir])
    if problems:  # a flow that is not proven safe is never served
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    config = logging_config(settings.log_level, settings.log_format)
    logging.config.dictConfig(config)
    uvicorn.run(
        "ivr.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        access_log=False,  # access lines add nothing the app's own logs and metrics do not have
        log_config=config,
        timeout_graceful_shutdown=10,
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.profile:
        return bench_profile.main(duration=min(args.duration, 10.0), connections=min(args.connections, 8))
    if args.overload:
        out = args.out if args.out != LATEST else args.out.with_name("overload.json")
        return bench_overload.main(bench_overload.OverloadPlan(factor=args.factor, seconds=args.seconds), out)
    plan = bench.SMOKE if args.smoke else bench.Plan(duration=args.duration, connections=args.connections)
    return bench.main(plan, args.out)


def _report(args: argparse.Namespace) -> int:
    settings = load_settings(ivr_insecure_dev=True)  # reading counts needs Redis, not the secrets
    if not settings.redis_url:
        print("ivr report reads the audit stream in Redis: set REDIS_URL", file=sys.stderr)
        return EXIT_CONFIG
    since_ms = _day_ms(args.since) if args.since else 0
    until_ms = _day_ms(args.until) + DAY_MS - 1 if args.until else None

    async def read() -> list[AuditRecord]:
        client = connect(settings.redis_url or "", timeout=5, max_connections=4, pool_wait=5)
        try:
            return await AuditLog(client, settings.audit_retention_days).read(since_ms, until_ms)
        finally:
            await client.aclose()

    summary = summarize(asyncio.run(read()), since=args.since or "", until=args.until or "")
    text = {"table": as_table, "csv": as_csv, "html": as_html}[args.format](summary)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _day_ms(day: str) -> int:
    try:
        return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise ConfigError(f"not a day in YYYY-MM-DD form: {day!r}") from None


def _flows_list(args: argparse.Namespace) -> int:
    for flow in load_flows(args.directory).values():
        print(
            f"{flow.id}  version {flow.version}  digest {flow.digest}  languages {','.join(flow.languages)}"
        )
    return 0


def _flows_check(args: argparse.Namespace) -> int:
    flows, problems = check_paths(args.paths)
    for problem in problems:
        print(problem)
    for flow in flows:
        print(
            f"checked {flow.id} {flow.version} (digest {flow.digest}, languages {','.join(flow.languages)})"
        )
    if problems:
        print(f"{len(problems)} problem(s): not safe to serve", file=sys.stderr)
        return 1
    print("all flows pass")
    return 0


def _flows_graph(args: argparse.Namespace) -> int:
    flows = load_flows(args.dir)
    if args.flow not in flows:
        print(f"no flow {args.flow!r} in {args.dir}; there are: {', '.join(sorted(flows))}", file=sys.stderr)
        return EXIT_CONFIG
    flow = flows[args.flow]
    if args.readme is not None:
        text = args.readme.read_text(encoding="utf-8")
        updated = graph.update_readme(text, flow)
        if graph.readme_drawing(text, flow.id) is None:
            print(f"{args.readme} has no <!-- flow-graph:{flow.id} --> block", file=sys.stderr)
            return EXIT_CONFIG
        args.readme.write_text(updated, encoding="utf-8")
        return 0
    drawings = {"mermaid": graph.mermaid, "dot": graph.dot, "svg": graph.svg}
    try:
        sys.stdout.write(drawings[args.format](flow))
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _flows_twiml_bins(args: argparse.Namespace) -> int:
    flow = load_flows(args.dir)[args.flow].bind(emergency_number=args.emergency_number, booking_url=None)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, xml in static_safety_nets(flow).items():
        (args.out / name).write_text(xml + "\n", encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def static_safety_nets(flow: Flow) -> dict[str, str]:
    """The safety net as TwiML files that work with the app down: paste them into TwiML Bins."""
    return {
        "sms.xml": sms_channel.safety_net(flow),
        "voice.xml": voice_channel.safety_net(flow, style=VoiceStyle()),
    }


# ---- trying the line in a terminal ------------------------------------------------------------


def _play(conversation: Callable[[TwilioSimulator, TextIO, TextIO], Awaitable[None]]) -> int:
    """Run a conversation against the real app in this process, with properly signed requests."""
    base = load_settings(ivr_insecure_dev=True)
    token = secrets.token_hex(16)  # signs and checks inside this process only
    settings = Settings(
        **{
            **base.model_dump(),
            "twilio_auth_token": token,
            "ivr_hash_key": base.ivr_hash_key or secrets.token_hex(32),
            "public_base_url": PLAY_BASE_URL,
            "ivr_insecure_dev": False,
        }
    )
    logging.getLogger("ivr").setLevel(logging.ERROR)
    app = create_app(settings)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://app") as client,
        ):
            await conversation(TwilioSimulator(client, token, PLAY_BASE_URL), sys.stdin, sys.stdout)

    asyncio.run(run())
    return 0


def _read(stream: TextIO, prompt: str, out: TextIO) -> str | None:
    out.write(prompt)
    out.flush()
    line = stream.readline()
    return None if line == "" else line.rstrip("\n")


async def _chat(twilio: TwilioSimulator, stdin: TextIO, out: TextIO) -> None:
    out.write("Texting the triage line. Type a message and press Enter; Ctrl-D to quit.\n")
    while (body := _read(stdin, "you> ", out)) is not None:
        messages = await twilio.text(body, sender=PLAY_THEIR_NUMBER, to=PLAY_OUR_NUMBER)
        for message in messages or ["(no reply)"]:
            out.write("line> " + message.replace("\n", "\n      ") + "\n")


async def _call(twilio: TwilioSimulator, stdin: TextIO, out: TextIO) -> None:
    out.write("Calling the triage line. Type a key and Enter; Enter alone is silence; Ctrl-D hangs up.\n")
    call = twilio.call(caller=PLAY_THEIR_NUMBER, to=PLAY_OUR_NUMBER)
    spoken = await call.start()
    while True:
        for say in spoken.says:
            out.write("line says> " + say + "\n")
        if spoken.hangup or spoken.gather_action is None:
            out.write("(the line hung up)\n")
            break
        keys = _read(stdin, "keys> ", out)
        if keys is None:
            break
        spoken = await (call.press(keys[:1]) if keys else call.silence())
    await call.hang_up()


if __name__ == "__main__":
    raise SystemExit(main())
