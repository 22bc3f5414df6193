"""``ecg``: log in, upload ECG files, read insights, from a shell.

Exit codes: 0 ok, 1 usage or an unreadable file, 2 the server refused (its problem's title
and detail are printed), 3 the server is unreachable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from ecg_contracts.rest import InsightsOut
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from ecg_client.calls import ApiError, Unreachable
from ecg_client.client import EcgClient

DEFAULT_URL = "http://localhost:8000"
app = typer.Typer(no_args_is_help=True, help="The ECG service from a shell.")
console = Console()
errors = Console(stderr=True, soft_wrap=True)
Url = Annotated[str, typer.Option("--url", envvar="ECG_URL", help="The gateway's base URL.")]


class Refused(Exception):
    exit_code = 1


def token_file() -> Path:
    return Path(typer.get_app_dir("ecg")) / "token.json"


def save_token(url: str, token: str) -> None:
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        json.dump({"url": url, "token": token}, stream)
    path.chmod(0o600)


def client(url: str) -> EcgClient:
    path = token_file()
    token = None
    if path.exists():
        stored = json.loads(path.read_text())
        token = stored["token"] if stored.get("url") == url else None
    return EcgClient(url, token=token)


@app.command()
def login(
    url: Url = DEFAULT_URL,
    username: Annotated[str, typer.Option(prompt=True)] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
) -> None:
    """Log in and keep the token (in the user's config dir, mode 0600)."""
    with EcgClient(url) as api:
        save_token(url, api.login(username, password))
    console.print(f"logged in to {url} as {username}")


def file_bytes(path: Path) -> int:
    """What reading the file costs: for a WFDB record, its header and signal files."""
    if path.suffix.lower() in (".hea", ".dat", ""):
        return sum(
            part.stat().st_size for part in path.parent.glob(f"{path.stem}.*") if part.is_file()
        )
    return path.stat().st_size if path.is_file() else 0


@app.command()
def upload(
    files: Annotated[
        list[Path],
        typer.Argument(help="WFDB .hea (or record name), .edf, .bdf, .dcm or .csv files."),
    ],
    url: Url = DEFAULT_URL,
    wait: Annotated[bool, typer.Option(help="Wait for the insights.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print insights as JSON.")] = False,
    ecg_id: Annotated[str | None, typer.Option("--id", help="The ECG's id (one file).")] = None,
    label: Annotated[
        list[str] | None, typer.Option(help="EDF/BDF channels to send (default: the ECG ones).")
    ] = None,
) -> None:
    """Upload ECG files, with a progress bar over files and bytes on a terminal. Each ECG
    carries an id (``--id`` or a new one), so a dropped connection is retried without
    creating a second ECG; an id taken by the same content is that retry's answer."""
    from ecg_client.readers import UnreadableFile, read_file

    if ecg_id is not None and len(files) > 1:
        raise click.UsageError("--id names one ECG: give one file")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=errors,
        disable=not errors.is_terminal,
        transient=True,
    )
    sizes = [file_bytes(path) for path in files]
    with client(url) as api, progress:
        task = progress.add_task("uploading", total=sum(sizes) or None)
        for number, (path, size) in enumerate(zip(files, sizes, strict=True), start=1):
            progress.update(task, description=f"file {number}/{len(files)} {path.name}")
            try:
                body = read_file(path, ecg_id, labels=label or None)
            except UnreadableFile as error:
                raise Refused(str(error)) from None
            accepted = api.upload(body)
            progress.advance(task, size)
            if not wait:
                console.print(f"{path}: {accepted.id} {accepted.status}")
                continue
            show_insights(api.insights(accepted.id, wait_s=300), as_json)


@app.command()
def insights(
    ecg_id: str,
    url: Url = DEFAULT_URL,
    wait: Annotated[bool, typer.Option(help="Wait for the result.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """An ECG's status and insights."""
    with client(url) as api:
        show_insights(api.insights(ecg_id, wait_s=300 if wait else None), as_json)


@app.command("list")
def list_ecgs(url: Url = DEFAULT_URL) -> None:
    """Your ECGs, newest first."""
    table = Table("id", "status", "date", "leads")
    with client(url) as api:
        for ecg in api.ecgs():
            table.add_row(ecg.id, ecg.status, ecg.date.isoformat(), ", ".join(ecg.lead_names))
    console.print(table)


@app.command()
def get(
    ecg_id: str,
    url: Url = DEFAULT_URL,
    output: Annotated[Path | None, typer.Option("-o", help="Write the JSON here.")] = None,
) -> None:
    """One ECG with its signals, as JSON."""
    with client(url) as api:
        text = api.get(ecg_id).model_dump_json(indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n")


@app.command()
def delete(ecg_id: str, url: Url = DEFAULT_URL) -> None:
    """Delete an ECG with its signals and insights."""
    with client(url) as api:
        api.delete(ecg_id)
    console.print(f"deleted {ecg_id}")


@app.command()
def watch(url: Url = DEFAULT_URL) -> None:
    """Your ECGs' status changes, live, one line each, until Ctrl-C."""
    with client(url) as api:
        try:
            for event in api.events():
                if event.notice is None:
                    errors.print("ecg: the stream was interrupted: some changes may be missed")
                    continue
                console.print(f"{event.notice.id} {event.notice.status}", highlight=False)
        except KeyboardInterrupt:
            return


users = typer.Typer(no_args_is_help=True, help="Users (admin only).")
app.add_typer(users, name="users")


@users.command("add")
def add_user(
    username: str,
    url: Url = DEFAULT_URL,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
    admin: Annotated[bool, typer.Option(help="An admin, not a user.")] = False,
) -> None:
    """Register a user."""
    with client(url) as api:
        user = api.create_user(username, password, "admin" if admin else "user")
    console.print(f"{user.username} {user.role} {user.id}")


@users.command("list")
def list_users(url: Url = DEFAULT_URL) -> None:
    """Every user, by username."""
    table = Table("username", "role", "disabled", "id")
    with client(url) as api:
        for user in api.users():
            table.add_row(user.username, user.role, str(user.disabled), user.id)
    console.print(table)


@users.command("disable")
def disable_user(
    user_id: str,
    url: Url = DEFAULT_URL,
    enable: Annotated[bool, typer.Option(help="Enable instead.")] = False,
) -> None:
    """Disable a user (its tokens stop working at once), or enable it again."""
    with client(url) as api:
        user = api.set_user_disabled(user_id, not enable)
    console.print(f"{user.username} disabled={user.disabled}")


def show_insights(result: InsightsOut, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    table = Table("ECG", "status", "heart rate", "rhythm", "flags")
    found: Any = result.insights
    if found is None:
        table.add_row(result.ecg_id, result.status, "-", "-", result.error or "")
    else:
        rate = "-" if found.heart_rate_bpm is None else f"{found.heart_rate_bpm:.1f} bpm"
        rhythm = {True: "regular", False: "irregular", None: "-"}[found.rhythm_regular]
        flags = [flag for flag in ("bradycardia", "tachycardia") if getattr(found, flag)]
        table.add_row(result.ecg_id, result.status, rate, rhythm, ", ".join(flags) or "none")
    console.print(table)
    if found is not None:
        console.print(leads_table(found))


def amplitude(value: float | None, in_mv: float | None) -> str:
    if in_mv is not None:
        return f"{in_mv:.2f} mV"
    return "-" if value is None else f"{value:.0f} ADC"


def leads_table(found: Any) -> Table:
    """Per lead: R amplitude, range (in mV when the gain is known) and quality flags, with
    its time without QRS where the other leads' beats went on."""
    table = Table("lead", "R amplitude", "min", "max", "zero crossings", "quality")
    for lead in found.leads:
        flags = [f for f in ("flat_line", "clipping", "excessive_noise") if getattr(lead, f)]
        lost = sum(s.end_s - s.start_s for s in lead.unreadable or [])
        if lost:
            flags.append(f"no QRS for {lost:.1f} s")
        table.add_row(
            lead.name,
            amplitude(lead.r_amplitude, lead.r_amplitude_mv),
            amplitude(lead.min, lead.min_mv),
            amplitude(lead.max, lead.max_mv),
            str(lead.zero_crossings),
            ", ".join(flag.replace("_", " ") for flag in flags) or "ok",
        )
    return table


def main() -> None:
    """Run ``ecg`` with the documented exit codes."""
    try:
        app(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(1)
    except Refused as error:
        errors.print(f"ecg: {error}")
        sys.exit(1)
    except ApiError as error:
        errors.print(f"ecg: the server refused: {error.title}: {error.detail or ''}")
        sys.exit(2)
    except Unreachable as error:
        errors.print(f"ecg: the server is unreachable: {error}")
        sys.exit(3)
