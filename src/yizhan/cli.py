"""`yizhan serve` (argument parsing, logging set-up, running the server until a signal),
`yizhan definitions export|import` (AMQP definitions in RabbitMQ's definitions.json format) and
`yizhan ctl` (rabbitmqctl's commands for a running server: ctl.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

from yizhan import ctl
from yizhan.config import Config, ConfigFileError, load_file, redis_value


# Redis's TLS parameters, also accepted on the command line as redis-server accepts them
TLS_OPTIONS = {
    "tls-port": "Redis TLS port (default 0: off; with it, --port 0 means no plain Redis port)",
    "tls-cert-file": "the Redis TLS port's certificate (PEM)",
    "tls-key-file": "its private key (PEM)",
    "tls-ca-cert-file": "CA certificates that client certificates are checked against",
    "tls-auth-clients": "yes (default: a client certificate is required), optional or no",
    "tls-protocols": 'e.g. "TLSv1.2 TLSv1.3" (the default)',
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yizhan", description="Redis and AMQP 0-9-1 in one pure-Python server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--bind", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="Redis port (default 6379; 0 picks a free one)")
    serve.add_argument("--amqp-port", type=int, help="AMQP port (default 5672)")
    serve.add_argument("--http-port", type=int, help="management HTTP API port (default 15672)")
    serve.add_argument("--metrics-port", type=int,
                       help="Prometheus /metrics port (default 15692; a free one when --http-port is 0)")
    serve.add_argument("--amqps-port", type=int,
                       help="AMQPS port (default 5671 when amqp-ssl-certfile is set in the config file, else off)")
    serve.add_argument("--management-ssl-port", type=int,
                       help="management API HTTPS port (default 15671 when management-ssl-certfile is set, else off)")
    for name, text in TLS_OPTIONS.items():
        serve.add_argument(f"--{name}", metavar="VALUE", help=text)
    serve.add_argument("--replicaof", nargs=2, metavar=("HOST", "PORT"),
                       help="start as a replica of this Redis master (as redis.conf's replicaof)")
    serve.add_argument("--data-dir", help="where data files live (default ./yizhan-data)")
    serve.add_argument("--config", metavar="FILE", help="config file (redis.conf style: name value)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    serve.add_argument("--amqp-recover-damaged", action="store_true", default=None,
                       help="load damaged AMQP data files without their damaged records (each file is "
                            "copied aside first and the loss logged) instead of refusing to start")
    serve.add_argument("--test-control", action="store_true", default=None,
                       help="let test suites steer the server: a clock they can move, and POST "
                            "/yizhan/control/<operation> on the HTTP port (administrators only); "
                            "never on a server others use")
    defs = sub.add_parser("definitions", help="AMQP definitions in RabbitMQ's definitions.json format")
    defs.add_argument("action", choices=["export", "import"])
    defs.add_argument("file", help="the JSON file to write (export; - for stdout) or read (import)")
    defs.add_argument("--data-dir", default="./yizhan-data", help="the (stopped, for import) server's data dir")
    defs.add_argument("--config", metavar="FILE", help="export: also the users and vhosts of this config file")
    ctl.add_parser(sub)
    return parser


def definitions(args: argparse.Namespace) -> int:
    import json

    from yizhan.amqp.store import StoreError
    from yizhan.amqp.store.definitions_json import export_definitions, import_definitions

    try:
        if args.action == "export":
            config = load_file(args.config) if args.config else None
            text = json.dumps(export_definitions(args.data_dir, config), indent=2, sort_keys=True)
            if args.file == "-":
                print(text)
            else:
                with open(args.file, "w") as f:
                    f.write(text + "\n")
            return 0
        with open(args.file) as f:
            count = import_definitions(args.data_dir, json.load(f))
        print(f"imported {count} definitions into {args.data_dir}")
        return 0
    except KeyError as exc:
        print(f"yizhan: definitions {args.action}: an entry lacks the field {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError, StoreError, ConfigFileError) as exc:
        print(f"yizhan: definitions {args.action}: {exc}", file=sys.stderr)
        return 1


def config_from_args(args: argparse.Namespace) -> Config:
    config = load_file(args.config) if args.config else Config()
    tls = {name: getattr(args, name.replace("-", "_")) for name in TLS_OPTIONS}
    params = dict(config.redis_params, **{name: redis_value(name, value, f"--{name}")
                                          for name, value in tls.items() if value is not None})
    if args.replicaof is not None:
        params["replicaof"] = " ".join(args.replicaof)
    return config.with_overrides(bind=args.bind, port=args.port, amqp_port=args.amqp_port,
                                 amqps_port=args.amqps_port, management_ssl_port=args.management_ssl_port,
                                 redis_params=params,
                                 http_port=args.http_port, metrics_port=args.metrics_port, data_dir=args.data_dir,
                                 log_level=args.log_level,
                                 amqp_recover_damaged=args.amqp_recover_damaged,
                                 test_control=args.test_control)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "definitions":
        return definitions(args)
    if args.command == "ctl":
        return ctl.main(args)
    try:
        config = config_from_args(args)
    except ConfigFileError as exc:
        print(f"yizhan: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(config)


def tune_gc() -> None:
    """After start-up: everything loaded so far (modules, the command table, recovered data)
    leaves the collector's view, and the youngest generation is collected every 50,000 net
    allocations instead of 700. Messages and queue entries of a backlog survive into older
    generations, and full collections walking them cost about 15 % of the AMQP broker's CPU
    per message (bench/README.md); frozen objects also stay shared with a BGSAVE child."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def serve(config: Config) -> int:
    from yizhan.net.loop import new_event_loop
    from yizhan.amqp.store import StoreError
    from yizhan.server import PortInUse, ServerRuntime, StartError  # first: it imports the command table
    from yizhan.redis.persistence.snapshot import RDBLoadError

    from yizhan.redis.acl.registry import AclFileError

    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        runtime = ServerRuntime(config)
    except AclFileError as exc:  # `user` lines or the aclfile: Redis exits as well
        print(f"yizhan: Aborting Redis startup because of ACL errors: {exc}", file=sys.stderr)
        loop.close()
        return 1
    try:
        loop.run_until_complete(runtime.start())
    except (PortInUse, StartError, RDBLoadError, StoreError) as exc:
        print(f"yizhan: {exc}", file=sys.stderr)
        loop.close()
        return 1
    stop = asyncio.Event()
    runtime.on_shutdown = stop.set  # SHUTDOWN from a client
    for signum, name in ((signal.SIGINT, "sigint"), (signal.SIGTERM, "sigterm")):
        try:
            loop.add_signal_handler(signum, runtime.on_signal, name, stop.set)
        except (NotImplementedError, AttributeError):  # Windows: Ctrl+C raises KeyboardInterrupt
            pass
    tune_gc()
    logging.getLogger("yizhan").info("ready")
    try:
        loop.run_until_complete(stop.wait())
    except KeyboardInterrupt:
        pass
    logging.getLogger("yizhan").info("shutting down")
    loop.run_until_complete(runtime.stop())
    loop.close()
    return 0
