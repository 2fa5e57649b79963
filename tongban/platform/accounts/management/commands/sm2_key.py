"""``tongban manage sm2_key``: a software stand-in for a UKey's management tool, for
development and test systems (a production key stays inside the UKey).

    tongban manage sm2_key new key.pem          # write a private key, print its public key
    tongban manage sm2_key sign key.pem "<challenge text>"   # print the SM2 signature (hex)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.crypto import sm2


class Command(BaseCommand):
    help = "Make an SM2 key pair or sign a login challenge with it (a stand-in for a UKey)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["new", "sign"])
        parser.add_argument("key_file")
        parser.add_argument("text", nargs="?", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["key_file"])
        if options["action"] == "new":
            if path.exists():
                raise CommandError(f"{path} exists: not overwritten")
            key = sm2.generate_private_key_pem()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key)
            self.stdout.write(sm2.public_key_pem(key).decode("ascii"))
            return
        if not options["text"]:
            raise CommandError("sign needs the challenge text")
        try:
            key = path.read_bytes()
            signature = sm2.sign(key, options["text"].encode("utf-8"))
        except (OSError, ValueError, TypeError) as error:
            raise CommandError(f"cannot sign with {path}: {error}") from error
        self.stdout.write(signature.hex())
