"""The `ivr` command: serve the webhooks, try the line in a terminal, and work with flows."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from ivr import graph
from ivr.bench import overload as bench_overload
from ivr.bench import profile as bench_profile
from ivr.bench import run as bench
from ivr.channels.bins import static_safety_nets
from ivr.checker import check_paths
from ivr.config import PACKAGED_FLOWS, ConfigError, listen_host, load_settings, load_tool_settings
from ivr.flowfile import FlowError, load_flows
from ivr.ops import doctor, twilio_setup
from ivr.ops.logs import logging_config
from ivr.ops.report import summarize
from ivr.ops.report_formats import as_csv, as_html, as_table
from ivr.ops.workers import shared_metrics
from ivr.store.audit import DAY_MS, AuditLog, AuditRecord
from ivr.store.connect import connect
from ivr.terminal import call_in_terminal, text_in_terminal
from ivr.training import commands as answer_commands
from ivr.web.app import require_public_url
from ivr.web.local_mode import banner

EXIT_CONFIG = 2
SHIPPED_FLOW = PACKAGED_FLOWS / "muscle-weakness.toml"
ANSWER_DATA = PACKAGED_FLOWS / "answers" / "train"
CASES = PACKAGED_FLOWS / "cases"
LATEST = Path("bench/results/latest.json")
TWIML_BINS = Path(__file__).resolve().parent.parent / "deploy" / "twiml-bins"


def main(argv: Sequence[str] | None = None) -> int:
    """Run an `ivr` command; its exit status."""
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
    serve.add_argument(
        "--host", help="default: 0.0.0.0 with real secrets; 127.0.0.1 (and only loopback) in local mode"
    )
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

    _operator_commands(commands)

    chat = commands.add_parser("chat", help="text the line from this terminal")
    chat.set_defaults(run=lambda args: text_in_terminal())

    call = commands.add_parser("call", help="call the line from this terminal, typing keys")
    call.set_defaults(run=lambda args: call_in_terminal())

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

    validate = flows.add_parser(
        "validate", help="run a flow against a case bank: advice given vs advice expected, and each miss"
    )
    validate.add_argument("cases", nargs="*", type=Path, default=[CASES], metavar="CASES")
    validate.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow file")
    validate.set_defaults(run=_flows_validate)

    _answer_commands(commands)
    return parser


def _answer_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`ivr answers train` and `ivr answers eval`: the answer model."""
    answers = commands.add_parser("answers", help="train and measure the answer model").add_subparsers(
        required=True, metavar="ACTION"
    )
    train = answers.add_parser("train", help="retrain the answer model from labelled replies (flows/answers)")
    train.add_argument("data", nargs="*", type=Path, default=[ANSWER_DATA], metavar="TSV_OR_DIR")
    train.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow whose questions they answer")
    train.add_argument("--out", type=Path, help="where to write the weights (default: where the flow names)")
    train.set_defaults(run=lambda a: answer_commands.train(a.flow, a.data, a.out))
    check = answers.add_parser("eval", help="how the line handles labelled replies, as a nurse would")
    check.add_argument("files", nargs="+", type=Path, metavar="TSV")
    check.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow file")
    check.set_defaults(run=lambda a: answer_commands.evaluate_files(a.flow, a.files))


def _operator_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`ivr twilio setup` and `ivr doctor`: wiring a number and checking a deployment."""
    twilio = commands.add_parser("twilio", help="configure Twilio for this deployment").add_subparsers(
        required=True, metavar="ACTION"
    )
    setup = twilio.add_parser("setup", help="point a number's webhooks at PUBLIC_BASE_URL (REST API)")
    setup.add_argument("--number", required=True, help="the line's number, E.164, e.g. +15551234567")
    setup.add_argument(
        "--messaging-service", metavar="MG...", help="its Messaging Service (found by itself if omitted)"
    )
    setup.add_argument("--sms-fallback-url", help="a TwiML Bin's URL (default: this app's /sms/fallback)")
    setup.add_argument("--voice-fallback-url", help="a TwiML Bin's URL (default: this app's /voice/fallback)")
    setup.add_argument("--dry-run", action="store_true", help="print the diff of settings, change nothing")
    setup.set_defaults(run=_twilio_setup)

    doctor = commands.add_parser("doctor", help="check this deployment: pass / warn / fail, with what to do")
    doctor.add_argument("--number", help="the line's number, to check its webhooks through the REST API")
    doctor.add_argument("--messaging-service", metavar="MG...", help="its Messaging Service, if not found")
    doctor.set_defaults(run=_doctor)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail here, with a readable message, not inside a worker
    if settings.mode == "production":
        require_public_url(settings)
    host = listen_host(settings, args.host)
    if args.workers > 1 and settings.mode == "local":
        raise ConfigError("local mode runs one process: leave out --workers (or set the secrets, see README)")
    if args.workers > 1 and not settings.redis_url:
        raise ConfigError(
            "several workers need a shared Redis: set REDIS_URL (the in-process store is per process)"
        )
    _, problems = check_paths([settings.flows_dir])
    if problems:  # a flow that is not proven safe is never served
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    config = logging_config(settings.log_level, settings.log_style)
    logging.config.dictConfig(config)
    if settings.mode == "local":
        address = f"[{host}]" if ":" in host else host
        logging.getLogger("ivr").warning(banner(f"http://{address}:{args.port}/", settings))
    with shared_metrics(args.workers):
        uvicorn.run(
            "ivr.web.app:create_app",
            factory=True,
            host=host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            access_log=False,  # access lines add nothing the app's own logs and metrics do not have
            log_config=config,
            timeout_graceful_shutdown=10,
        )
    return 0


def _twilio_setup(args: argparse.Namespace) -> int:
    return twilio_setup.run(
        load_tool_settings(),  # needs the account's credentials, not the hash key
        number=args.number,
        service_sid=args.messaging_service,
        sms_fallback_url=args.sms_fallback_url,
        voice_fallback_url=args.voice_fallback_url,
        dry_run=args.dry_run,
    )


def _doctor(args: argparse.Namespace) -> int:
    try:
        settings = doctor.load()
    except ConfigError as exc:
        sys.stdout.write(doctor.table([doctor.failed("configuration", str(exc), "fix the settings named")]))
        return 1
    checks, status = asyncio.run(doctor.run(settings, number=args.number, service_sid=args.messaging_service))
    sys.stdout.write(doctor.table(checks))
    return status


def _bench(args: argparse.Namespace) -> int:
    if args.profile:
        return bench_profile.main(duration=min(args.duration, 10.0), connections=min(args.connections, 8))
    if args.overload:
        out = args.out if args.out != LATEST else args.out.with_name("overload.json")
        return bench_overload.main(bench_overload.OverloadPlan(factor=args.factor, seconds=args.seconds), out)
    plan = bench.SMOKE if args.smoke else bench.Plan(duration=args.duration, connections=args.connections)
    return bench.main(plan, args.out)


def _report(args: argparse.Namespace) -> int:
    settings = load_settings(twilio_auth_token=None, ivr_hash_key=None)  # counts need Redis, not secrets
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


def _flows_validate(args: argparse.Namespace) -> int:
    from ivr.cases import run_cases  # noqa: PLC0415

    return run_cases(args.flow, args.cases)


def _flows_twiml_bins(args: argparse.Namespace) -> int:
    flow = load_flows(args.dir)[args.flow].bind(emergency_number=args.emergency_number, booking_url=None)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, xml in static_safety_nets(flow).items():
        (args.out / name).write_text(xml + "\n", encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
