"""Secrets fit for production: not the published demo values, and long enough.

`smsgw serve` and `smsgw check-config` refuse a configuration that fails these checks;
`smsgw demo` alone runs on the demo secrets of config.toml.
"""

from __future__ import annotations

from smsgw.config_settings import AppConfig

# Secrets of the published demo configuration (config.toml): anyone can read them.
DEMO_SECRETS = frozenset(
    {
        "demo-token-change-me",
        *(f"{op}-demo-secret-change-me" for op in ("mts", "megafon", "beeline", "t2", "kcell")),
    }
)
DEMO_MARKER = "change-me"
MIN_SECRET_BYTES = 16


def production_secret_problems(config: AppConfig) -> list[str]:
    """What makes `config` unfit to serve real traffic: each problem names its key.

    `smsgw serve` and `smsgw check-config` refuse a configuration with any; only
    `smsgw demo` runs on the published demo secrets.
    """
    # an empty api_token is no token: the operations API then refuses everything
    secrets: list[tuple[str, str]] = (
        [("http.api_token", config.http.api_token)] if config.http.api_token else []
    )
    secrets += [(f"charging.{op}.secret", s.secret) for op, s in config.charging.items()]
    secrets += [
        (f"links[{index}].secret", link.secret)
        for index, link in enumerate(config.links)
        if link.kind == "kannel"
    ]
    if config.driver.enabled:  # a channel that is off signs nothing
        secrets.append(("driver.secret", config.driver.secret))
    return [f"{key}: {reason}" for key, value in secrets if (reason := _weakness(value))]


def _weakness(secret: str) -> str | None:
    if secret in DEMO_SECRETS or DEMO_MARKER in secret.lower():
        return "is the published demo value; set a secret of your own"
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"must be at least {MIN_SECRET_BYTES} bytes"
    return None
