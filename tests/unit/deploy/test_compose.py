"""deploy/docker-compose.yml: valid against the Compose Specification, and the stack it promises."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.unit.deploy.dockerfiles import COMPOSE_FILE, DEPLOY, ENV_EXAMPLE, ROOT

SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
SECRETS = ("ECG_JWT_SECRET", "ECG_ADMIN_PASSWORD")


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"].startswith("https://json-schema.org/draft-07/")
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_copy_names_its_source_and_license() -> None:
    note = (SCHEMA.parent / "README.md").read_text()
    assert "compose-spec/compose-spec" in note
    assert "Apache License 2.0" in note


def test_the_stack_has_the_four_services_and_named_volumes() -> None:
    document = compose()
    assert set(document["services"]) == {"mongo", "rabbitmq", "gateway", "analyzer"}
    assert service("mongo")["image"] == "mongo:7"
    assert service("rabbitmq")["image"] == "rabbitmq:3.13-management"
    assert "mongo-data:/data/db" in service("mongo")["volumes"]
    assert "rabbitmq-data:/var/lib/rabbitmq" in service("rabbitmq")["volumes"]
    assert set(document["volumes"]) == {"mongo-data", "rabbitmq-data"}
    assert service("analyzer")["deploy"]["replicas"] == 2
    assert any(str(port).endswith(":8000") for port in service("gateway")["ports"])
    for name in document["services"]:
        assert service(name).get("restart") in {"on-failure", "unless-stopped", "always"}, name


def test_the_databases_have_meaningful_healthchecks() -> None:
    mongo = service("mongo")["healthcheck"]["test"]
    assert mongo[:2] == ["CMD", "mongosh"]
    assert "ping" in mongo[-1]
    rabbit = service("rabbitmq")["healthcheck"]["test"]
    assert rabbit[:2] == ["CMD", "rabbitmq-diagnostics"]
    assert rabbit[-1] in {"ping", "check_port_connectivity"}


def test_services_start_in_dependency_order_on_health() -> None:
    gateway = service("gateway")["depends_on"]
    analyzer = service("analyzer")["depends_on"]
    assert gateway == {
        "mongo": {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
    }
    assert analyzer == {"rabbitmq": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", ["gateway", "analyzer"])
def test_each_service_image_is_built_from_the_repository(name: str) -> None:
    build = service(name)["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT, "the Dockerfiles COPY paths relative to the repository root"
    assert (context / build["dockerfile"]).is_file()
    assert build["dockerfile"] == f"deploy/{name}.Dockerfile"


@pytest.mark.parametrize("name", ["gateway", "analyzer"])
def test_the_services_read_their_settings_from_the_env_file(name: str) -> None:
    assert service(name)["env_file"] == "${DEPLOY_ENV_FILE:-.env}"
    # The default, relative to the compose file's directory, is deploy/.env: git ignores it.
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_the_gateway_runs_in_production_and_refuses_to_start_without_its_secrets() -> None:
    environment = service("gateway")["environment"]
    assert environment["ECG_ENV"] == "production"
    for name in SECRETS:
        # `${NAME:?message}`: compose refuses to start while the variable is empty or unset.
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]*{name}[^}}]*\}}", environment[name]), name


def test_the_broker_user_is_not_guest_and_every_infrastructure_secret_is_required() -> None:
    rabbit = service("rabbitmq")["environment"]
    mongo = service("mongo")["environment"]
    for name, value in {**rabbit, **mongo}.items():
        assert value.startswith(f"${{{name}:?"), name
    example = ENV_EXAMPLE.read_text()
    assert re.search(r"^RABBITMQ_DEFAULT_USER=(\S+)$", example, flags=re.MULTILINE)
    assert "RABBITMQ_DEFAULT_USER=guest" not in example
    assert "@rabbitmq:5672/" in example
    assert "guest:guest" not in example


def test_every_required_compose_variable_is_in_the_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    optional = set(re.findall(r"\$\{([A-Z0-9_]+):-", text))
    assert required == {
        *SECRETS,
        "RABBITMQ_DEFAULT_USER",
        "RABBITMQ_DEFAULT_PASS",
        "MONGO_INITDB_ROOT_USERNAME",
        "MONGO_INITDB_ROOT_PASSWORD",
    }
    example = ENV_EXAMPLE.read_text()
    for name in required:
        assert re.search(rf"^{name}=", example, flags=re.MULTILINE), name
    # The variables with a default are documented for the operator.
    readme = (DEPLOY / "README.md").read_text()
    for name in optional:
        assert name in readme, name


def test_the_make_targets_exist_and_fail_clearly_without_a_docker_engine() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = makefile.split(".PHONY:")[1].split("\n\n")[0]
    for target in ("docker-build", "docker-run", "docker-down"):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
        assert target in phony, target
        # DOCKER=false: `false info` fails just as `docker info` does without an engine.
        result = subprocess.run(
            ["make", "--no-print-directory", target, "DOCKER=false"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert f"make {target}: no Docker engine reachable" in result.stderr, result.stderr


@pytest.mark.parametrize("target", ["docker-run", "docker-down"])
def test_the_stack_targets_want_the_env_file_first(target: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", target, "DOCKER=true", f"DEPLOY_ENV={tmp_path}/.env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cp deploy/.env.example" in result.stderr, result.stderr
