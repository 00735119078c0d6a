"""KEY=VALUE override values while a deploy waits: sealed (Fernet) in the store, never plain.

With DEPLOYBOT_SECRET_KEY the seal lasts: any replica, or this one after a restart, opens it.
Without it each process seals with a key of its own that dies with it, so only a deploy that
starts at once may carry overrides (bot/usecases/deploy.py refuses the others).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.redact import Redactor

PREFIX = "fernet:"
MAKE_ONE = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class Unreadable(Exception):
    """A sealed value this process cannot open; `str()` is a sentence for a person."""


def check_keys(text: str) -> str:
    """DEPLOYBOT_SECRET_KEY: Fernet keys, comma-separated (the first seals; all open)."""
    for number, key in enumerate(text.split(","), 1):
        try:
            Fernet(key.strip())
        except ValueError:
            which = f"key #{number} " if "," in text else ""
            raise ValueError(
                f"{which}is not a Fernet key (32 bytes in URL-safe base64); make one with: "
                f"{MAKE_ONE}"
            ) from None
    return text


class Sealer:
    def __init__(self, keys: str | None = None, *, redact: Redactor | None = None) -> None:
        self.lasting = keys is not None  # the same keys on every replica and after a restart
        own = [Fernet(Fernet.generate_key())]
        self._fernet = MultiFernet([Fernet(k.strip()) for k in keys.split(",")] if keys else own)
        self._redact = redact

    def seal(self, env: Mapping[str, str]) -> dict[str, str]:
        self._learn(env)
        return {key: PREFIX + self._fernet.encrypt(v.encode()).decode() for key, v in env.items()}

    def open(self, env: Mapping[str, str]) -> dict[str, str]:
        opened = {key: self._open(value) for key, value in env.items()}
        self._learn(opened)
        return opened

    def _open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value  # kept by a deploybot before values were sealed
        try:
            return self._fernet.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise Unreadable(
                "its KEY=VALUE overrides cannot be read here (sealed with another "
                "DEPLOYBOT_SECRET_KEY, or by a deploybot without one that has stopped): "
                "nothing was triggered; deploy again"
            ) from None

    def _learn(self, env: Mapping[str, str]) -> None:
        """Every value this process handles is masked in what it says and logs from now on."""
        if self._redact is not None:
            self._redact.learn(env.values())
