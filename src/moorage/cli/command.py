"""What every server command shares: connection and output options, running the command with
one client, printing its result, and turning failures into one `ERROR:` line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from moorage.cli.client import Client, CliError, data_dir_of, is_loopback, resolve_endpoint
from moorage.cli.output import FORMATS, TableTransformer, apply_query, compile_query, render

GREEDY_OPTIONS = ("--tags", "--scopes")
"""Options that take several space-separated values, as the cloud CLI's do."""


def spread_greedy(args: Iterable[str], names: Iterable[str] = GREEDY_OPTIONS) -> list[str]:
    """`--tags a=1 b=2` -> `--tags a=1 --tags b=2`, so click sees one value per option."""
    greedy = set(names)
    out: list[str] = []
    current: str | None = None
    needs_value = False
    rest = iter(args)
    for arg in rest:
        if needs_value:
            out.append(arg)
            needs_value = False
        elif arg == "--":
            out.append(arg)
            out.extend(rest)
        elif arg.startswith("-") and len(arg) > 1:
            name, has_value, _ = arg.partition("=")
            current = name if name in greedy else None
            needs_value = current is not None and not has_value
            out.append(arg)
        elif current is not None:
            out.extend([current, arg])
        else:
            out.append(arg)
    return out


class AzCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_greedy(args))


class AzGroup(click.Group):
    command_class = AzCommand
    group_class = type  # subgroups are AzGroups too


@dataclass
class Report:
    """A result with a human rendering, printed unless an output format is asked for, and
    the exit status the command ends with."""

    data: Any
    text: str
    exit_code: int = 0


def fail(error: CliError) -> NoReturn:
    click.echo(f"ERROR: {' '.join(error.message.split())}", err=True)  # one line, always
    sys.exit(error.exit_code)


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "--endpoint",
                default=None,
                metavar="URL",
                help="The moorage server [env MOORAGE_ENDPOINT; default: the one `moorage "
                "login` chose, else http://127.0.0.1:5000].",
            ),
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="The server's data dir, for its owner credential and CA "
                "[env MOORAGE_DATA_DIR].",
            ),
            click.option(
                "--ca-bundle",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                envvar="MOORAGE_CA_BUNDLE",
                help="CA certificates to trust for an https endpoint [env MOORAGE_CA_BUNDLE].",
            ),
            click.option(
                "--subscription", default=None, help="Subscription id (default: the credential's)."
            ),
        ]
    ):
        func = option(func)
    return func


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--query", default=None, metavar="JMESPATH", help="JMESPath query applied to the result."
    )(func)
    return click.option(
        "--output",
        "-o",
        type=click.Choice(FORMATS, case_sensitive=False),
        default=None,
        help="Output format (default json).",
    )(func)


def open_client(
    endpoint: str | None,
    data_dir: Path | None,
    ca_bundle: Path | None,
    subscription: str | None,
) -> Client:
    url = resolve_endpoint(endpoint)
    if url.startswith("http://") and not is_loopback(url):
        click.echo(
            f"WARNING: {url} is plain HTTP: credentials and tokens cross the network unencrypted; "
            "serve with --tls and use https://",
            err=True,
        )
    return Client(
        url, data_dir=data_dir_of(data_dir), ca_bundle=ca_bundle, subscription=subscription
    )


def emit(result: Any, output: str | None, query: str | None, table: TableTransformer | None) -> int:
    if isinstance(result, Report):
        if output is None and not query:
            if result.text:
                click.echo(result.text)
            return result.exit_code
        exit_code, result = result.exit_code, result.data
    else:
        exit_code = 0
    queried = apply_query(result, query)
    text = render(
        queried,
        (output or "json").lower(),
        query_active=bool(query),
        table=table,
        color=sys.stdout.isatty(),
    )
    if text:
        click.echo(text, nl=False)
    return exit_code


def server_command(
    table: TableTransformer | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the connection and output options; it receives a Client first and
    returns what to print (None prints nothing, a Report prints its text by default)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(
            endpoint: str | None,
            data_dir: Path | None,
            ca_bundle: Path | None,
            subscription: str | None,
            output: str | None,
            query: str | None,
            **kwargs: Any,
        ) -> None:
            try:
                if query:
                    compile_query(query)  # a bad query fails before any request
                client = open_client(endpoint, data_dir, ca_bundle, subscription)
                try:
                    result = func(client, **kwargs)
                finally:
                    client.close()
                code = emit(result, output, query, table)
            except CliError as e:
                fail(e)
            if code:
                sys.exit(code)

        return connection_options(output_options(run))

    return decorate


def confirm(question: str, yes: bool) -> bool:
    """The cloud CLI's y/n prompt; without a terminal, --yes is required."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise CliError("Unable to prompt for confirmation as no tty available. Use --yes.")
    while True:
        click.echo(f"{question} (y/n): ", nl=False, err=True)
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no", ""):
            return False


def bool_option(name: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--flag true|false`, or `--flag` alone for true (the cloud CLI's three-state flag)."""
    return click.option(
        name,
        type=click.Choice(["true", "false"], case_sensitive=False),
        is_flag=False,
        flag_value="true",
        default=None,
        help=help,
    )


def as_bool(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"
