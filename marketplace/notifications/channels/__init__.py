"""Channels as plug-ins: every way a message reaches a person is an adapter behind one interface,
`Channel.send(Outgoing) -> Sent`, chosen by the settings (`channel_for`).

- `in_app` — the notification itself (always; nothing to send);
- `log` — the text written to the log (development, and SMS/WeChat when no provider is set);
- `sms` — Alibaba Cloud SMS (`aliyun.AliyunSms`, its documented RPC API with signature v1);
- `wechat` — Official Account template messages (`wechat.WeChatTemplates`).

A channel raises `SendError` (retryable or not) when the provider refuses or cannot be reached;
`find(message)` asks the provider whether it already has a message with our delivery key (after
a consumer died mid-send), so nothing is sent twice.
"""

from marketplace.notifications.channels.aliyun import AliyunSms
from marketplace.notifications.channels.base import Channel, InApp, LogChannel, Outgoing, SendError, Sent, sms_parts
from marketplace.notifications.channels.wechat import WeChatTemplates

__all__ = ["Channel", "InApp", "LogChannel", "Outgoing", "SendError", "Sent", "sms_parts", "channel_for"]


def channel_for(name: str, messages) -> Channel:
    """The adapter for a channel under these MessageSettings."""
    if name == "in_app":
        return InApp()
    if name == "sms" and messages.sms_provider == "aliyun":
        return AliyunSms(messages)
    if name == "wechat" and messages.wechat_provider == "wechat":
        return WeChatTemplates(messages)
    if name in ("sms", "wechat", "log"):
        return LogChannel(name)
    raise ValueError(f"unknown channel {name!r}")
