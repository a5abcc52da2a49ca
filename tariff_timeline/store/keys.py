"""Keyed integrity: an Ed25519 key pair, kept outside the database, that signs chain heads.

The private key signs each head an append writes; the public key lets `verify` prove that no
one without the private key recomputed the links or appended a forged event. Keys are PEM
files; the private one is written readable by its owner only and never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tariff_timeline.domain.errors import InvalidInput

ENV_SIGNING_KEY = "TARIFFS_SIGNING_KEY"
"""The environment variable naming the private key file that signs chain heads on append."""
ENV_PUBLIC_KEY = "TARIFFS_PUBLIC_KEY"
"""The environment variable naming the public key file that `verify` checks heads with."""


@dataclass(frozen=True)
class HeadSigner:
    """Signs chain heads with a private Ed25519 key."""

    key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        """The signature of a head's message."""
        return self.key.sign(message)


@dataclass(frozen=True)
class HeadVerifier:
    """Checks chain-head signatures against a public Ed25519 key."""

    key: Ed25519PublicKey

    def __call__(self, message: bytes, signature: bytes) -> bool:
        """Whether the signature is the key holder's signature of the message."""
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def generate_keys(private_path: Path, public_path: Path) -> None:
    """Write a new key pair; refuse to overwrite an existing file."""
    for path, field in ((private_path, "private_key"), (public_path, "public_key")):
        if path.exists():
            raise InvalidInput(f"{path} exists; choose another path or remove it first",
                               field=field)
        if not path.parent.is_dir():
            raise InvalidInput(f"the directory {path.parent} does not exist", field=field)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    # Created readable by the owner only, before any byte of the key is written.
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private_pem)
    public_path.write_bytes(public_pem)


def _read(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the key file {path} ({exc.strerror})",
                           field=field) from exc


def load_signer(path: Path) -> HeadSigner:
    """The signer of a private key file."""
    try:
        key = serialization.load_pem_private_key(_read(path, "signing_key"), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not an unencrypted PEM private key",
                           field="signing_key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{path} is not an Ed25519 key", field="signing_key")
    return HeadSigner(key)


def load_verifier(path: Path) -> HeadVerifier:
    """The signature check of a public key file."""
    try:
        key = serialization.load_pem_public_key(_read(path, "public_key"))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} is not a PEM public key", field="public_key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{path} is not an Ed25519 key", field="public_key")
    return HeadVerifier(key)
