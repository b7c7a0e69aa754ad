"""``cameo receipts …`` (keys) and ``cameo provenance …`` (C2PA sign/verify)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.clock import Clock
from app.kit.registry import provided

from . import receipts as receipts_module
from .provenance import sign_media, verify_media
from .receipts import KeyStore
from .testca import make_test_ca

receipts_cli = AppGroup("receipts", help="The platform's receipt-signing keys.")
provenance_cli = AppGroup("provenance", help="Embed usage receipts in media files as C2PA manifests.")


@receipts_cli.command("rotate-key")
def rotate_key() -> None:
    """Make a new signing key current; older keys keep verifying their receipts."""
    kid = provided(KeyStore).rotate(provided(Clock)())
    click.echo(f"new receipt key {kid} (old keys stay published for verification)")


@receipts_cli.command("keys")
def list_keys() -> None:
    """Print the published key set (JWKS)."""
    click.echo(json.dumps(provided(KeyStore).jwks(), indent=2))


def _dev_signing_material(app: Flask) -> tuple[bytes, bytes]:
    """A development-only test CA under instance/c2pa_dev/, made on first use."""
    folder = Path(app.instance_path) / "c2pa_dev"
    chain, key = folder / "chain.pem", folder / "key.pem"
    if not (chain.exists() and key.exists()):
        material = make_test_ca(datetime.now(UTC), days=365)  # c2pa checks validity on the system clock
        folder.mkdir(parents=True, exist_ok=True)
        chain.write_bytes(material.chain_pem)
        key.touch(mode=0o600)
        key.write_bytes(material.key_pem)
        (folder / "root.pem").write_bytes(material.root_pem)
        click.echo(f"using a DEVELOPMENT test certificate from {folder} (not trusted by anyone)", err=True)
    return chain.read_bytes(), key.read_bytes()


@provenance_cli.command("sign")
@click.option("--receipt", "receipt", required=True, help="The receipt token, or @FILE to read it from a file.")
@click.option("--in", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "dest", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificate chain (end-entity first).  Without it: a development test CA.",
)
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM private key.")
@click.option("--alg", default="ES256", show_default=True, type=click.Choice(["ES256", "ES384", "PS256", "ED25519"]))
def provenance_sign(receipt: str, source: Path, dest: Path, cert: Path | None, key: Path | None, alg: str) -> None:
    """Embed RECEIPT in the image as a C2PA manifest (likeness-licence + CAWG training-mining)."""
    if receipt.startswith("@"):
        receipt = Path(receipt[1:]).read_text().strip()
    checked = receipts_module.check(receipt, provided(KeyStore).public_key)
    payload = checked.payload  # a valid receipt always has one
    if not checked.valid or payload is None:
        raise click.ClickException(f"the receipt does not verify ({checked.reason}); refusing to embed it")
    if (cert is None) != (key is None):
        raise click.BadParameter("give both --cert and --key, or neither")
    chain_pem, key_pem = (cert.read_bytes(), key.read_bytes()) if cert and key else _dev_signing_material(current_app)
    sign_media(source, dest, receipt, cert_chain_pem=chain_pem, key_pem=key_pem, alg=alg)
    click.echo(f"signed {dest}: receipt {payload['receipt_id']} for licence {payload['licence_id']}")


@provenance_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def provenance_verify(file: Path) -> None:
    """Read FILE's C2PA manifest and check the embedded receipt; exit 1 when invalid."""
    result = verify_media(file, provided(KeyStore).public_key)
    if not result.has_manifest:
        raise click.ClickException(f"{file}: no C2PA manifest")
    click.echo(
        f"C2PA manifest: {result.c2pa_state}"
        + (f" (failures: {', '.join(result.c2pa_failures)})" if result.c2pa_failures else "")
    )
    if result.training_mining is not None:
        click.echo(
            "training/mining: " + ", ".join(f"{k}={v.get('use')}" for k, v in sorted(result.training_mining.items()))
        )
    if result.receipt_check is None:
        raise click.ClickException("no likeness-licence receipt in the manifest")
    payload = result.receipt_check.payload or {}
    click.echo(
        f"receipt: {result.receipt_check.reason}; receipt {payload.get('receipt_id')} "
        f"licence {payload.get('licence_id')} key {payload.get('kid')}"
    )
    if not result.ok:
        raise click.ClickException("INVALID")
    click.echo("OK: licensed use, receipt signed by the platform")
