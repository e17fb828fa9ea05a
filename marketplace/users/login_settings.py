"""The figures of the login limits and of one-time codes, as plain values (read through
`marketplace.settings.settings().login_limits`). The defaults and why they are what they are:
README, "Login limits".
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass


def from_environment() -> dict:
    env = os.environ.get
    return {
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env("LOGIN_FAILURE_WINDOW_SECONDS", "900")),
        "LOGIN_FAILURES_PER_NUMBER_AND_ADDRESS": int(env("LOGIN_FAILURES_PER_NUMBER_AND_ADDRESS", "5")),
        "LOGIN_FAILURES_PER_ADDRESS": int(env("LOGIN_FAILURES_PER_ADDRESS", "50")),
        "LOGIN_FAILURES_PER_NUMBER_BEFORE_DELAY": int(env("LOGIN_FAILURES_PER_NUMBER_BEFORE_DELAY", "5")),
        "LOGIN_DELAY_MAX_SECONDS": float(env("LOGIN_DELAY_MAX_SECONDS", "4")),
        # Where the failure totals are kept: Redis shares them across workers and hosts; empty
        # means RATELIMIT_STORAGE_URI (memory:// counts per process: one worker only).
        "LOGIN_LIMITS_STORAGE_URI": env("LOGIN_LIMITS_STORAGE_URI", ""),
        "RECOVERY_CODES_PER_NUMBER": env("RECOVERY_CODES_PER_NUMBER", "3 per hour"),
        "RECOVERY_CODES_PER_ADDRESS": env("RECOVERY_CODES_PER_ADDRESS", "10 per hour"),
    }


@dataclass(frozen=True)
class LoginLimitSettings:
    enabled: bool = True
    storage_uri: str = "memory://"
    key_prefix: str = "marketplace"
    partition: str = ""  # memory:// storages are kept apart per app (its instance folder)
    window_seconds: int = 900
    per_number_and_address: int = 5
    per_address: int = 50
    per_number_before_delay: int = 5
    delay_max_seconds: float = 4.0

    @classmethod
    def from_config(cls, config: Mapping) -> "LoginLimitSettings":
        return cls(
            enabled=bool(config.get("RATELIMIT_ENABLED", True)),
            storage_uri=str(config.get("LOGIN_LIMITS_STORAGE_URI") or config.get("RATELIMIT_STORAGE_URI")
                            or "memory://"),
            key_prefix=str(config.get("RATELIMIT_KEY_PREFIX") or "marketplace"),
            partition=str(config.get("INSTANCE_PATH") or ""),
            window_seconds=max(1, int(config.get("LOGIN_FAILURE_WINDOW_SECONDS", 900))),
            per_number_and_address=max(1, int(config.get("LOGIN_FAILURES_PER_NUMBER_AND_ADDRESS", 5))),
            per_address=max(1, int(config.get("LOGIN_FAILURES_PER_ADDRESS", 50))),
            per_number_before_delay=max(1, int(config.get("LOGIN_FAILURES_PER_NUMBER_BEFORE_DELAY", 5))),
            delay_max_seconds=max(0.0, float(config.get("LOGIN_DELAY_MAX_SECONDS", 4.0))),
        )
