"""The interface every channel implements, and the two that need no provider."""

import logging
from dataclasses import dataclass

log = logging.getLogger("marketplace.messages")


@dataclass(frozen=True)
class Outgoing:
    key: str  # the delivery key: passed to the provider (Alibaba's OutId, WeChat's client msg id)
    kind: str
    text: str  # rendered in the recipient's language
    link: str
    phone: str = ""
    openid: str = ""
    sent_on: str = ""  # yyyymmdd of the first attempt (Alibaba's QuerySendDetails asks for it)


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""
    cost_units: int = 0
    delivered: bool = False  # in_app and log: there is nothing more to hear


class SendError(Exception):
    """The provider refused or could not be reached. `uncertain`: the request may have reached
    it (no answer in time), so ask it (`Channel.find`) before sending again."""

    def __init__(self, message: str, retryable: bool = True, uncertain: bool = False):
        super().__init__(message)
        self.retryable = retryable
        self.uncertain = uncertain


def is_timeout(failure: BaseException) -> bool:
    reason = getattr(failure, "reason", None)
    return isinstance(failure, TimeoutError) or isinstance(reason, TimeoutError)


class Channel:
    name = ""
    provider = ""

    def send(self, message: Outgoing) -> Sent:
        raise NotImplementedError

    def find(self, message: Outgoing) -> Sent | None:
        """The provider's record of a message sent with this key, or None when it has none."""
        return None


class InApp(Channel):
    name = provider = "in_app"

    def send(self, message: Outgoing) -> Sent:
        return Sent(delivered=True)  # the notification row is the message


class LogChannel(Channel):
    name = provider = "log"

    def __init__(self, for_channel: str = "log"):
        self.for_channel = for_channel

    def send(self, message: Outgoing) -> Sent:
        log.info("message %s (%s) to %s: %s %s", message.key, message.kind, self.for_channel, message.text,
                 message.link, extra={"delivery_key": message.key, "channel": self.for_channel,
                                      "kind": message.kind, "text": message.text})
        return Sent(provider_id=f"log-{message.key}", delivered=True)


def sms_parts(text: str) -> int:
    """Billed SMS parts: 70 characters in one, 67 per part when longer (the carriers' rule)."""
    return 1 if len(text) <= 70 else -(-len(text) // 67)
