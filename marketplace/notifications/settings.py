"""Operator settings of messages (channels, providers, caps), from environment variables with
safe defaults: with none set, SMS and WeChat go to the `log` channel (the text in the log) and
nothing leaves the machine. Applied to app.config by create_app; services read them through
`marketplace.settings.settings().messages`.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


def _pairs(text: str) -> dict:
    """ "request=SMS_1001,job=SMS_1002" -> {"request": "SMS_1001", "job": "SMS_1002"}"""
    pairs = (part.split("=", 1) for part in text.split(",") if "=" in part)
    return {key.strip(): value.strip() for key, value in pairs}


def from_environment(production: bool) -> dict:
    env = os.environ.get
    return {
        # sms: "log" (development) or "aliyun" (Alibaba Cloud SMS, dysmsapi); wechat: "log" or
        # "wechat" (Official Account template messages).
        "SMS_PROVIDER": env("SMS_PROVIDER", "log"),
        "SMS_API_URL": env("SMS_API_URL", "https://dysmsapi.aliyuncs.com/"),
        "SMS_ACCESS_KEY_ID": env("SMS_ACCESS_KEY_ID", ""),
        "SMS_ACCESS_KEY_SECRET": env("SMS_ACCESS_KEY_SECRET", ""),
        "SMS_SIGN_NAME": env("SMS_SIGN_NAME", "北苑街道"),
        # The provider's template id per message kind; each template has one variable, ${content}.
        "SMS_TEMPLATES": _pairs(env("SMS_TEMPLATES", "default=SMS_0000")),
        "SMS_PER_PERSON_PER_DAY": int(env("SMS_PER_PERSON_PER_DAY", "10")),
        "SMS_PER_DAY": int(env("SMS_PER_DAY", "5000")),
        "WECHAT_PROVIDER": env("WECHAT_PROVIDER", "log"),
        "WECHAT_API_URL": env("WECHAT_API_URL", "https://api.weixin.qq.com"),
        "WECHAT_APP_ID": env("WECHAT_APP_ID", ""),
        "WECHAT_APP_SECRET": env("WECHAT_APP_SECRET", ""),
        "WECHAT_TOKEN": env("WECHAT_TOKEN", ""),  # the server token WeChat signs its pushes with
        "WECHAT_TEMPLATES": _pairs(env("WECHAT_TEMPLATES", "default=")),
        # Every message also written to the log (development: see what would be sent).
        "MESSAGE_LOG_CHANNEL": env("MESSAGE_LOG_CHANNEL", "0" if production else "1") in ("1", "true", "yes"),
        "MESSAGE_ACK_HOURS": int(env("MESSAGE_ACK_HOURS", "24")),
        "MESSAGE_RETRIES": int(env("MESSAGE_RETRIES", "3")),
        "MESSAGE_RETRY_SECONDS": int(env("MESSAGE_RETRY_SECONDS", "30")),  # doubled per attempt
        "MESSAGE_TIMEOUT_SECONDS": float(env("MESSAGE_TIMEOUT_SECONDS", "15")),
        # A delivery left "sending" or "queued" this long (its consumer died) is taken up again.
        "MESSAGE_STUCK_SECONDS": int(env("MESSAGE_STUCK_SECONDS", "300")),
    }


def apply_defaults(app, production: bool) -> None:
    for key, value in from_environment(production).items():
        app.config.setdefault(key, value)


@dataclass(frozen=True)
class MessageSettings:
    sms_provider: str = "log"
    sms_api_url: str = ""
    sms_access_key_id: str = ""
    sms_access_key_secret: str = ""
    sms_sign_name: str = ""
    sms_templates: dict = field(default_factory=dict)
    sms_per_person_per_day: int = 10
    sms_per_day: int = 5000
    wechat_provider: str = "log"
    wechat_api_url: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_token: str = ""
    wechat_templates: dict = field(default_factory=dict)
    log_channel: bool = True
    ack_hours: int = 24
    retries: int = 3
    retry_seconds: int = 30
    timeout_seconds: float = 15.0
    stuck_seconds: int = 300

    @classmethod
    def from_config(cls, config: Mapping) -> "MessageSettings":
        return cls(
            sms_provider=config["SMS_PROVIDER"], sms_api_url=config["SMS_API_URL"],
            sms_access_key_id=config["SMS_ACCESS_KEY_ID"], sms_access_key_secret=config["SMS_ACCESS_KEY_SECRET"],
            sms_sign_name=config["SMS_SIGN_NAME"], sms_templates=dict(config["SMS_TEMPLATES"]),
            sms_per_person_per_day=config["SMS_PER_PERSON_PER_DAY"], sms_per_day=config["SMS_PER_DAY"],
            wechat_provider=config["WECHAT_PROVIDER"], wechat_api_url=config["WECHAT_API_URL"],
            wechat_app_id=config["WECHAT_APP_ID"], wechat_app_secret=config["WECHAT_APP_SECRET"],
            wechat_token=config["WECHAT_TOKEN"], wechat_templates=dict(config["WECHAT_TEMPLATES"]),
            log_channel=config["MESSAGE_LOG_CHANNEL"], ack_hours=config["MESSAGE_ACK_HOURS"],
            retries=config["MESSAGE_RETRIES"], retry_seconds=config["MESSAGE_RETRY_SECONDS"],
            timeout_seconds=config["MESSAGE_TIMEOUT_SECONDS"], stuck_seconds=config["MESSAGE_STUCK_SECONDS"],
        )
