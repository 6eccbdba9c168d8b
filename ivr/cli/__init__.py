"""The `ivr` command: serve the webhooks, try the line in a terminal, and work with flows."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import logging.config
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ivr.authoring import graph
from ivr.authoring.checker import check_paths
from ivr.cli.arguments import Commands, Parser, port_number, positive
from ivr.cli.arguments import command as _command
from ivr.config import PACKAGED_FLOWS, ConfigError, listen_host, load_settings, load_tool_settings
from ivr.flows.flowfile import FlowError, load_flows
from ivr.ops import failures
from ivr.ops.failures import EXIT_INTERRUPTED, Stopped, stopping_cleanly

# The commands' own modules (the web app, the benchmark, the operator tools) are imported by the
# command that needs them, so that `ivr --help` or a mistyped option answers at once.
# ruff: noqa: PLC0415

EXIT_CONFIG = 2
SHIPPED_FLOW = PACKAGED_FLOWS / "muscle-weakness.toml"
ANSWER_DATA = PACKAGED_FLOWS / "answers" / "train"
CASES = PACKAGED_FLOWS / "cases"
RUNS = Path("bench/runs")  # where `ivr bench` writes, ignored by git (ivr.bench.run.RUNS)
TWIML_BINS = Path(__file__).resolve().parents[2] / "deploy" / "twiml-bins"


def main(argv: Sequence[str] | None = None) -> int:
    """Run an `ivr` command; its exit status. Whatever goes wrong is told in one sentence that says
    what to do, on stderr, with a non-zero status: never a traceback (IVR_DEBUG=1 shows one)."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = args.command_name
    try:
        result: int = args.run(args)
    except FlowError as exc:
        if len(exc.problems) == 1:
            print(f"{command}: a problem in {exc.source}: {exc.problems[0]}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"{command}: {len(exc.problems)} problems in {exc.source}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except Stopped as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"{command}: stopped (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("IVR_DEBUG") and not isinstance(exc, ConfigError):
            raise
        print(f"{command}: {failures.explain(exc)}", file=sys.stderr)
        return EXIT_CONFIG if isinstance(exc, ConfigError) else 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ivr",
        description="The muscle weakness triage line: serve it, try it, check and measure it.",
        epilog="`ivr COMMAND --help` says more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.set_defaults(command_name="ivr")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "run the webhook server",
        "Serve the line's webhooks with uvicorn. With neither TWILIO_AUTH_TOKEN nor IVR_HASH_KEY set it"
        " runs in local mode: on 127.0.0.1 only, with the phone simulator page at its address.",
    )
    serve.add_argument(
        "--host",
        help="the address to listen on (default: 0.0.0.0 with real secrets; 127.0.0.1, and only"
        " loopback, in local mode)",
    )
    serve.add_argument("--port", type=port_number, default=8000, help="the TCP port to listen on")
    serve.add_argument(
        "--workers", type=positive, default=1, help="worker processes (more than 1 needs REDIS_URL)"
    )
    serve.set_defaults(run=_serve)

    report = _command(
        commands,
        "report",
        "counts of what the line advised, from the audit stream",
        "Outcomes by day, channel and language, replies per question and the time to an outcome, read"
        " from the audit stream in the Redis of REDIS_URL. Nothing in it identifies a person.",
    )
    report.add_argument("--since", metavar="YYYY-MM-DD", help="first day, UTC (default: the oldest record)")
    report.add_argument(
        "--until", metavar="YYYY-MM-DD", help="last day, UTC, included (default: the newest record)"
    )
    report.add_argument("--format", choices=["table", "csv", "html"], default="table", help="what to write")
    report.add_argument("--out", type=Path, metavar="FILE", help="write to this file instead of printing")
    report.set_defaults(run=_report)

    bench = _command(
        commands,
        "bench",
        "measure the line against a bare endpoint, on a private Redis",
        "Start a private redis-server, serve the line and a bare FastAPI endpoint with uvicorn, replay"
        " real conversations at them and check every reply. Writes the figures as JSON under"
        f" {RUNS}/ (ignored by git); bench/results/ holds the figures the docs quote, written only"
        " when asked with --out.",
    )
    bench.add_argument("--duration", type=float, default=10.0, help="seconds of load per measurement")
    bench.add_argument("--connections", type=positive, default=64, help="keep-alive connections of the load")
    bench.add_argument("--smoke", action="store_true", help="a few seconds: check the figures are produced")
    bench.add_argument(
        "--free-text",
        action="store_true",
        help="texters answer no in their own words, which the answer model reads (default: the word no)",
    )
    bench.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=f"where to write the results (default: {RUNS}/latest.json, {RUNS}/smoke.json with --smoke,"
        f" {RUNS}/overload.json with --overload)",
    )
    bench.add_argument(
        "--profile",
        action="store_true",
        help=f"instead: where one worker's time goes (pyinstrument), with a flame graph in {RUNS}/",
    )
    bench.add_argument(
        "--overload",
        action="store_true",
        help="instead: one worker given --factor times the conversations it can serve",
    )
    bench.add_argument("--factor", type=float, default=2.0, help="with --overload: arrivals over capacity")
    bench.add_argument("--seconds", type=float, default=6.0, help="with --overload: seconds of arrivals")
    bench.set_defaults(run=_bench)

    _operator_commands(commands)

    chat = _command(
        commands,
        "chat",
        "text the line from this terminal",
        "Text the line in local mode, in this process: each line you type is a text, each reply is"
        " printed. Ctrl-D ends.",
    )
    chat.set_defaults(run=_chat)

    call = _command(
        commands,
        "call",
        "call the line from this terminal, by key or in words",
        "Call the line in local mode, in this process: type a key (1 yes, 2 no, 9 Spanish...) or what"
        " you would say (yes, no, not sure), then Enter; Enter alone is silence. Ctrl-D hangs up.",
    )
    call.set_defaults(run=_call)

    flows = _command(
        commands, "flows", "list, check and draw flows", "Work with the flow files (flows/*.toml)."
    ).add_subparsers(required=True, metavar="ACTION")
    listing = _command(
        flows, "list", "the flows in a directory, with versions and digests", "List the flows in a directory."
    )
    listing.add_argument(
        "directory", nargs="?", type=Path, default=PACKAGED_FLOWS, help="directory of flow files"
    )
    listing.set_defaults(run=_flows_list)

    check = _command(
        flows,
        "check",
        "prove flows safe to serve; lists every problem, exits 1 if any",
        "Check flows against the safety rules (docs/flows.md); every problem is listed, and the exit"
        " status is 1 if there is any.",
    )
    check.add_argument(
        "paths", nargs="*", type=Path, default=[PACKAGED_FLOWS], metavar="PATH", help="flow files or folders"
    )
    check.set_defaults(run=_flows_check)

    graph = _command(
        flows,
        "graph",
        "draw a flow (Mermaid, DOT, or SVG through Graphviz)",
        "Draw a flow's questions and outcomes.",
    )
    graph.add_argument("flow", help="flow id, e.g. muscle-weakness")
    graph.add_argument(
        "--format", choices=["mermaid", "dot", "svg"], default="mermaid", help="how to draw it"
    )
    graph.add_argument("--dir", type=Path, default=PACKAGED_FLOWS, help="directory of flow files")
    graph.add_argument(
        "--readme", type=Path, metavar="FILE", help="rewrite this file's diagram block instead of printing"
    )
    graph.set_defaults(run=_flows_graph)

    _case_commands(flows)
    _answer_commands(commands)
    return parser


def _case_commands(flows: Commands) -> None:
    """`ivr flows twiml-bins` and `ivr flows validate`: a flow's safety net for Twilio to serve, and
    a flow against its case bank."""
    bins = _command(
        flows,
        "twiml-bins",
        "write the static safety-net TwiML for Twilio TwiML Bins",
        "Write sms.xml and voice.xml: the safety net Twilio can serve itself when the app is down.",
    )
    bins.add_argument("--dir", type=Path, default=PACKAGED_FLOWS, help="directory of flow files")
    bins.add_argument("--flow", default="muscle-weakness", help="flow id")
    bins.add_argument("--out", type=Path, default=TWIML_BINS, help="where to write sms.xml and voice.xml")
    bins.add_argument("--emergency-number", default="911", help="the number people are told to call")
    bins.set_defaults(run=_flows_twiml_bins)

    validate = _command(
        flows,
        "validate",
        "run a flow against a case bank: advice given vs advice expected",
        "Walk every patient case (flows/cases/*.toml: what they would say yes to, the advice a"
        " clinician expects) through the flow by text and by keypad; print the confusion matrix and"
        " each miss. Exits 1 if any case gets less urgent advice than expected.",
    )
    validate.add_argument(
        "cases", nargs="*", type=Path, default=[CASES], metavar="CASES", help="case files or folders"
    )
    validate.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow file")
    validate.set_defaults(run=_flows_validate)


def _answer_commands(commands: Commands) -> None:
    """`ivr answers train` and `ivr answers eval`: the answer model."""
    answers = _command(
        commands,
        "answers",
        "retrain and measure the answer model",
        "The answer model reads the replies no exact rule takes (flows/answers: its training data and"
        " weights).",
    ).add_subparsers(required=True, metavar="ACTION")
    train = _command(
        answers,
        "train",
        "retrain the answer model from labelled replies",
        "Fit the answer model on every labelled reply under the data folders, write the weights where"
        " the flow names them, and print how the line handles the held-out part of the data.",
    )
    train.add_argument(
        "data", nargs="*", type=Path, default=[ANSWER_DATA], metavar="TSV_OR_DIR", help="labelled replies"
    )
    train.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow whose questions they answer")
    train.add_argument("--out", type=Path, help="where to write the weights (default: where the flow names)")
    train.set_defaults(run=_answers_train)
    check = _command(
        answers,
        "eval",
        "how the line handles labelled replies, as a nurse would",
        "Send each labelled reply to a conversation at its question and judge what the line does, as a"
        " triage nurse would; print the figures and every miss.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="TSV", help="labelled replies")
    check.add_argument("--flow", type=Path, default=SHIPPED_FLOW, help="the flow file")
    check.set_defaults(run=_answers_eval)


def _answers_train(args: argparse.Namespace) -> int:
    from ivr.training import commands

    return commands.train(args.flow, args.data, args.out)


def _answers_eval(args: argparse.Namespace) -> int:
    from ivr.training import commands

    return commands.evaluate_files(args.flow, args.files)


def _flows_validate(args: argparse.Namespace) -> int:
    from ivr.authoring.cases import run_cases

    return run_cases(args.flow, args.cases)


def _operator_commands(commands: Commands) -> None:
    """`ivr twilio setup` and `ivr doctor`: wiring a number and checking a deployment."""
    twilio = _command(
        commands, "twilio", "configure Twilio for this deployment", "Configure Twilio for this deployment."
    ).add_subparsers(required=True, metavar="ACTION")
    setup = _command(
        twilio,
        "setup",
        "point a number's webhooks at PUBLIC_BASE_URL (REST API)",
        "Point a number's webhooks (and its Messaging Service's) at PUBLIC_BASE_URL through Twilio's"
        " REST API; prints the diff and changes only what differs.",
    )
    setup.add_argument("--number", required=True, help="the line's number, E.164, e.g. +15551234567")
    setup.add_argument(
        "--messaging-service", metavar="MG...", help="its Messaging Service (default: found by itself)"
    )
    setup.add_argument("--sms-fallback-url", help="a TwiML Bin's URL (default: this app's /sms/fallback)")
    setup.add_argument("--voice-fallback-url", help="a TwiML Bin's URL (default: this app's /voice/fallback)")
    setup.add_argument("--dry-run", action="store_true", help="print the diff of settings, change nothing")
    setup.set_defaults(run=_twilio_setup)

    doctor = _command(
        commands,
        "doctor",
        "check this deployment: pass / warn / fail, with what to do",
        "Check a deployment end to end (secrets, public URL, signatures, Redis, the number's webhooks,"
        " flows); exits 1 on any fail, so it can gate a deploy.",
    )
    doctor.add_argument("--number", help="the line's number, to check its webhooks through the REST API")
    doctor.add_argument(
        "--messaging-service", metavar="MG...", help="its Messaging Service (default: found by itself)"
    )
    doctor.set_defaults(run=_doctor)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ivr.ops.logs import logging_config
    from ivr.ops.workers import shared_metrics
    from ivr.web.app import require_public_url
    from ivr.web.local_mode import banner

    settings = load_settings()  # fail here, with a readable message, not inside a worker
    if settings.mode == "production":
        require_public_url(settings)
    host = listen_host(settings, args.host)
    if args.workers > 1 and settings.mode == "local":
        raise ConfigError(
            "local mode runs one process: leave out --workers (or set the secrets, see docs/local-mode.md)"
        )
    if args.workers > 1 and not settings.redis_url:
        raise ConfigError(
            "several workers need a shared Redis: set REDIS_URL (the in-process store is per process)"
        )
    _check_port(host, args.port)
    _, problems = check_paths([settings.flows_dir])
    if problems:  # a flow that is not proven safe is never served
        for problem in problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    config = logging_config(settings.log_level, settings.log_style)
    logging.config.dictConfig(config)
    if settings.mode == "local":
        # Said to the person at the terminal, as text, whatever LOG_FORMAT asks of the logs.
        address = f"[{host}]" if ":" in host else host
        print(banner(f"http://{address}:{args.port}/", settings), file=sys.stderr, flush=True)
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


def _check_port(host: str, port: int) -> None:
    """Refuse, in words, a port that is taken or an address that is not this computer's, before
    uvicorn would fail on it with an errno."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is in use (another `ivr serve`?): stop that, or pick a free"
                    " port with --port 8123 (with make: make serve PORT=8123)"
                ) from None
            if exc.errno == errno.EACCES:
                raise ConfigError(
                    f"port {port} needs root to listen on: pick 1024 or above, e.g. --port 8000"
                ) from None
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}): check --host and --port"
            ) from None


def _version() -> str:
    try:
        return metadata.version("ivr-muscle-weakness")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _twilio_setup(args: argparse.Namespace) -> int:
    from ivr.ops import twilio_setup

    return twilio_setup.run(
        load_tool_settings(),  # needs the account's credentials, not the hash key
        number=args.number,
        service_sid=args.messaging_service,
        sms_fallback_url=args.sms_fallback_url,
        voice_fallback_url=args.voice_fallback_url,
        dry_run=args.dry_run,
    )


def _doctor(args: argparse.Namespace) -> int:
    from ivr.ops import doctor

    try:
        settings = doctor.load()
    except ConfigError as exc:
        sys.stdout.write(doctor.table([doctor.failed("configuration", str(exc), "fix the settings named")]))
        return 1
    checks, status = asyncio.run(doctor.run(settings, number=args.number, service_sid=args.messaging_service))
    sys.stdout.write(doctor.table(checks))
    return status


def _bench(args: argparse.Namespace) -> int:
    from ivr.bench import overload as bench_overload
    from ivr.bench import profile as bench_profile
    from ivr.bench import run as bench

    with stopping_cleanly("everything it started has been stopped, and nothing was written"):
        if args.profile:
            return bench_profile.main(
                duration=min(args.duration, 10.0), connections=min(args.connections, 8), folder=RUNS
            )
        if args.overload:
            out = args.out or RUNS / "overload.json"
            _check_folder(out)
            pressure = bench_overload.OverloadPlan(factor=args.factor, seconds=args.seconds)
            return bench_overload.main(pressure, out)
        out = args.out or RUNS / ("smoke.json" if args.smoke else "latest.json")
        _check_folder(out)
        plan = bench.SMOKE if args.smoke else bench.Plan(duration=args.duration, connections=args.connections)
        plan = replace(plan, free_text=args.free_text)
        return bench.main(plan, out)


def _check_folder(out: Path) -> None:
    """Refuse an --out whose folder is missing, before the work rather than after it. The default
    folder (RUNS) is made as needed."""
    folder = out.parent
    if folder != RUNS and not folder.is_dir():
        raise ConfigError(
            f"cannot write {out}: there is no folder {folder}; create it or choose another --out"
        )


def _report(args: argparse.Namespace) -> int:
    from ivr.ops.report import summarize
    from ivr.ops.report_formats import as_csv, as_html, as_table
    from ivr.store.audit import DAY_MS, AuditLog, AuditRecord
    from ivr.store.connect import connect

    settings = load_settings(twilio_auth_token=None, ivr_hash_key=None)  # counts need Redis, not secrets
    if not settings.redis_url:
        raise ConfigError("ivr report reads the audit stream in Redis: set REDIS_URL to the line's Redis")
    since_ms = _day_ms(args.since) if args.since else 0
    until_ms = _day_ms(args.until) + DAY_MS - 1 if args.until else None
    if args.since and args.until and since_ms > (until_ms or 0):
        raise ConfigError(f"--since {args.since} is after --until {args.until}: swap them")
    if args.out:
        _check_folder(args.out)
    redis_url = settings.redis_url

    async def read() -> list[AuditRecord]:
        client = connect(redis_url, timeout=5, max_connections=4, pool_wait=5)
        try:
            return await AuditLog(client, settings.audit_retention_days).read(since_ms, until_ms)
        finally:
            await client.aclose()

    try:
        records = asyncio.run(read())
    except Exception as exc:
        raise failures.Failed(failures.explain(exc, redis_url=redis_url)) from exc
    summary = summarize(records, since=args.since or "", until=args.until or "")
    text = {"table": as_table, "csv": as_csv, "html": as_html}[args.format](summary)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from ivr.cli.terminal import text_in_terminal

    return text_in_terminal()


def _call(args: argparse.Namespace) -> int:
    from ivr.cli.terminal import call_in_terminal

    return call_in_terminal()


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
        raise ConfigError(f"no flow {args.flow!r} in {args.dir}: pick one of {', '.join(sorted(flows))}")
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
    from ivr.channels.bins import static_safety_nets

    flows = load_flows(args.dir)
    if args.flow not in flows:
        raise ConfigError(f"no flow {args.flow!r} in {args.dir}: pick one of {', '.join(sorted(flows))}")
    flow = flows[args.flow].bind(emergency_number=args.emergency_number, booking_url=None)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, xml in static_safety_nets(flow).items():
        (args.out / name).write_text(xml + "\n", encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0
