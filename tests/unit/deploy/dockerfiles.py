"""Just enough Dockerfile and .dockerignore parsing for the deploy checks (no Docker needed)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILES = {"gateway": DEPLOY / "gateway.Dockerfile", "analyzer": DEPLOY / "analyzer.Dockerfile"}
MODULES = {"gateway": "ecg_gateway", "analyzer": "ecg_analyzer"}


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, RUN, ...
    args: str  # continuation lines joined, comment lines inside them dropped
    line: int

    def words(self) -> list[str]:
        """The arguments as a list: the JSON (exec) form or shell-like words."""
        text = self.args.strip()
        if text.startswith("["):
            words = json.loads(text)
            assert isinstance(words, list), self
            return [str(word) for word in words]
        return shlex.split(text)

    def flags_and_operands(self) -> tuple[dict[str, str], list[str]]:
        """``--name=value`` flags (before the operands) and the rest, for COPY, ADD, RUN."""
        flags: dict[str, str] = {}
        rest = self.args.strip()
        while (match := re.match(r"--([a-z-]+)(?:=(\S+))?\s+", rest)) is not None:
            flags[match[1]] = match[2] or ""
            rest = rest[match.end() :]
        operands = Instruction(self.keyword, rest, self.line).words()
        return flags, operands


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    path: Path
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)


def instructions(text: str) -> list[Instruction]:
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment line inside a continuation is dropped
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        joined = " ".join(part for part in pending if part)
        keyword, _, args = joined.partition(" ")
        found.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, f"unterminated continuation from line {start}"
    return found


def expand(value: str, args: dict[str, str]) -> str:
    return re.sub(
        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: args.get(match[1], match[0]), value
    )


def parse(path: Path) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for item in instructions(path.read_text()):
        if item.keyword == "ARG" and not stages:
            arg, _, default = item.args.partition("=")
            global_args[arg.strip()] = default.strip()
        elif item.keyword == "FROM":
            words = item.words()
            base = expand(words[0], global_args)
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        else:
            assert stages, f"{path}:{item.line}: {item.keyword} before FROM"
            stages[-1].instructions.append(item)
    return Dockerfile(path, global_args, stages)


def env_assignments(instruction: Instruction) -> dict[str, str]:
    """ENV ``A=1 B=2`` (the key=value form)."""
    pairs = [word.split("=", 1) for word in instruction.words()]
    assert all(len(pair) == 2 for pair in pairs), instruction
    return {key: value for key, value in pairs}


def copy_sources(instruction: Instruction) -> tuple[list[str], str]:
    """(sources, destination) of a COPY from the build context (not ``--from``)."""
    flags, operands = instruction.flags_and_operands()
    assert "from" not in flags, instruction
    assert len(operands) >= 2, instruction
    return operands[:-1], operands[-1]


def context_copies(dockerfile: Dockerfile) -> list[tuple[Stage, Instruction]]:
    return [
        (stage, item)
        for stage in dockerfile.stages
        for item in stage.all("COPY") + stage.all("ADD")
        if "from" not in item.flags_and_operands()[0]
    ]


class DockerIgnore:
    """The build context's exclusions, after Docker's rules: the last matching pattern wins, a
    ``!`` pattern re-includes, a path is excluded with its excluded parent directory. ``*`` and
    ``?`` stay within one path segment, ``**`` spans any number of them."""

    def __init__(self, text: str) -> None:
        self.patterns: list[tuple[re.Pattern[str], bool]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            self.patterns.append((re.compile(self._regex(pattern)), negate))

    @staticmethod
    def _regex(pattern: str) -> str:
        out = ""
        index = 0
        while index < len(pattern):
            if pattern.startswith("**/", index):
                out, index = out + "(?:.*/)?", index + 3
            elif pattern.startswith("**", index):
                out, index = out + ".*", index + 2
            elif pattern[index] == "*":
                out, index = out + "[^/]*", index + 1
            elif pattern[index] == "?":
                out, index = out + "[^/]", index + 1
            else:
                out, index = out + re.escape(pattern[index]), index + 1
        return f"^{out}$"

    def excluded(self, relative: str) -> bool:
        parts = relative.strip("/").split("/")
        result = False
        for regex, negate in self.patterns:
            if any(regex.match("/".join(parts[:depth])) for depth in range(1, len(parts) + 1)):
                result = not negate
        return result

    def context_files(self, root: Path, source: str) -> list[Path]:
        """The files of the build context that a COPY source names (globs allowed)."""
        matches = sorted(root.glob(source)) if any(c in source for c in "*?[") else [root / source]
        files: list[Path] = []
        for match in matches:
            candidates = sorted(match.rglob("*")) if match.is_dir() else [match]
            files += [
                path
                for path in candidates
                if path.is_file() and not self.excluded(path.relative_to(root).as_posix())
            ]
        return files


def dockerignore() -> DockerIgnore:
    return DockerIgnore((ROOT / ".dockerignore").read_text())
