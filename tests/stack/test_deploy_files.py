"""The deploy files hold: nginx takes the configuration (`nginx -t`), the compose file follows the
compose specification (check-jsonschema, with the schema it ships), the Kubernetes manifests
validate against the API's schemas (kubernetes-validate, strict), and each runs the process
model the runbook describes. None of them is run here: there is no Docker daemon or cluster."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploy import nginx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
COMPOSE = DEPLOY / "compose.yaml"
K8S_VERSION = "1.30.0"
MANIFESTS = sorted((DEPLOY / "k8s").rglob("*.yaml"))


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)


# --- nginx ----------------------------------------------------------------------------------


def test_the_committed_nginx_files_are_the_templates_rendered():
    for name, text in nginx.production_files().items():
        assert (DEPLOY / "nginx" / name).read_text() == text, (
            f"deploy/nginx/{name} differs from its template: run `python -m deploy.nginx`"
        )


@pytest.fixture
def certificate(tmp_path: Path) -> nginx.Tls:
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=elearn.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return nginx.Tls(str(cert), str(key))


def test_nginx_takes_the_production_configuration(tmp_path, certificate):
    """The production render, with this machine's addresses for the compose services' names
    (nginx resolves upstreams when it loads) and files in a temporary folder; every location,
    map, header and TLS setting as committed."""
    nginx.binary()  # a missing nginx fails here, saying how to install it
    folder = tmp_path / "production"
    local = nginx.local_main(folder)
    main = dataclasses.replace(
        nginx.PRODUCTION_MAIN,
        **{
            f: getattr(local, f)
            for f in ("site", "user", "pid", "error_log", "access_log", "temp_dir")
        },
    )
    assert nginx.PRODUCTION_SITE.s3 is not None
    site = dataclasses.replace(
        nginx.PRODUCTION_SITE,
        web_servers=("127.0.0.1:1", "127.0.0.1:2"),
        api_servers=("127.0.0.1:3",),
        cache_dir=str(folder / "cache"),
        tls=certificate,
        s3=dataclasses.replace(nginx.PRODUCTION_SITE.s3, upstream="127.0.0.1:4"),
    )
    conf = nginx.write(folder, main, site)
    checked = nginx.check(conf)
    assert checked.returncode == 0, checked.stderr
    text = (folder / "elearn.conf").read_text()
    assert "listen 443 ssl;" in text and "hash $elearn_sticky consistent;" in text


def test_nginx_refuses_a_broken_configuration(tmp_path):
    """The check can fail: a directive nginx does not know is refused, and says where."""
    folder = tmp_path / "broken"
    site = nginx.local_site(
        folder, port=8080, web_ports=[8001], api_ports=[8010], media_root=tmp_path
    )
    conf = nginx.write(folder, nginx.local_main(folder), site)
    (folder / "elearn.conf").write_text(
        (folder / "elearn.conf").read_text().replace("gzip off;", "gzip sometimes;")
    )
    checked = nginx.check(conf)
    assert checked.returncode != 0 and "gzip" in checked.stderr


# --- compose ----------------------------------------------------------------------------------


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    checked = _run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)]
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # and the check can fail: a misspelt key of a service is refused
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("stop_grace_period:", "stop_grace_periode:"))
    refused = _run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)]
    )
    assert refused.returncode != 0 and "stop_grace_periode" in refused.stdout


def test_the_compose_file_runs_every_process_type():
    services = _compose()["services"]
    assert {
        "postgres", "redis", "minio", "nginx", "coturn",
        "migrate", "web", "api", "worker-media", "worker", "beat",
    } <= set(services)  # fmt: skip
    web, api = services["web"], services["api"]
    assert web["command"] == api["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert web["environment"]["ELEARN_WEB_WORKERS"] == "1" and web["deploy"]["replicas"] == 2
    assert api["environment"]["ELEARN_WEB_WORKERS"] != "1"
    queues = {
        name: services[name]["command"][services[name]["command"].index("-Q") + 1]
        for name in ("worker-media", "worker")
    }
    assert queues == {"worker-media": "media", "worker": "celery"}
    assert services["beat"]["deploy"]["replicas"] == 1
    # migrations run once, before any process of the app starts
    for name in ("web", "api", "worker-media", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    mounts = services["nginx"]["volumes"]
    assert any(m.endswith("/nginx.conf:/etc/nginx/nginx.conf:ro") for m in mounts)
    assert any(m.endswith("/elearn.conf:/etc/nginx/conf.d/elearn.conf:ro") for m in mounts)


def test_coturn_takes_its_configuration_and_the_app_its_secret():
    compose = _compose()
    coturn = compose["services"]["coturn"]
    assert "./turnserver.conf:/etc/coturn/turnserver.conf:ro" in coturn["volumes"]
    assert coturn["command"][:2] == ["-c", "/etc/coturn/turnserver.conf"]
    assert "--static-auth-secret=${TURN_SECRET:-}" in coturn["command"]
    env = compose["x-app-env"]
    assert env["ELEARN_APPOINTMENT_TURN_SECRET"] == "${TURN_SECRET:-}"
    assert "ELEARN_APPOINTMENT_ICE_SERVERS" in env
    lines = {
        line.strip()
        for line in (DEPLOY / "turnserver.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"use-auth-secret", "listening-port=3478", "fingerprint", "no-cli"} <= lines
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in lines  # no relaying into the host
    assert not any(line.startswith(("static-auth-secret", "user=")) for line in lines)


def test_the_compose_file_takes_its_secrets_from_the_environment():
    """No secret is written in the file: each is required from the environment (`${X:?…}`)."""
    environment = _compose()["x-app-env"]
    assert environment["ELEARN_SECRET_KEY"].startswith("${ELEARN_SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    assert environment["S3_SECRET_KEY"].startswith("${MINIO_ROOT_PASSWORD:?")
    assert _compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )


# --- Kubernetes -------------------------------------------------------------------------------


def _resources() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_the_kubernetes_manifests_validate():
    checked = _run(
        [str(BIN / "kubernetes-validate"), "--strict", "-k", K8S_VERSION, *map(str, MANIFESTS)]
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("passed for resource") == len(_resources())


def test_kubernetes_validate_refuses_a_misspelt_field(tmp_path):
    broken = tmp_path / "web.yaml"
    broken.write_text(
        (DEPLOY / "k8s" / "web.yaml").read_text().replace("readinessProbe", "readinesProbe")
    )
    checked = _run([str(BIN / "kubernetes-validate"), "--strict", "-k", K8S_VERSION, str(broken)])
    assert checked.returncode != 0 and "readinesProbe" in checked.stdout + checked.stderr


def _by_kind(kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in _resources() if r["kind"] == kind}


def test_the_cluster_probes_scales_and_keeps_socket_io_sticky():
    deployments = _by_kind("Deployment")
    for name in ("elearn-web", "elearn-api"):
        [container] = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        # secrets from a Secret made from the environment, never written here
        assert {"secretRef": {"name": "elearn-secrets"}} in container["envFrom"]
    assert deployments["elearn-beat"]["spec"]["replicas"] == 1
    assert deployments["elearn-beat"]["spec"]["strategy"]["type"] == "Recreate"
    [autoscaler] = _by_kind("HorizontalPodAutoscaler").values()
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "elearn-api"
    ingresses = _by_kind("Ingress")
    sticky = ingresses["elearn-socketio"]
    assert sticky["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    [path] = sticky["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/socket.io/" and path["backend"]["service"]["name"] == "elearn-web"
    assert _by_kind("Secret") == {}
    assert "elearn-migrate" in _by_kind("Job")
