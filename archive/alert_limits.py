"""What each alert channel kind accepts: the size of one message, how many messages
in a window, and which answers mean "too fast, wait", "this robot takes nothing
from us" (bad token, signature, keyword or IP) or "this one message is refused".

The figures are the robots' documented limits; where none is documented the
value is our own conservative choice, said so next to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindLimits:
    max_bytes: int  # one message, as the receiver counts it (see ``measured``)
    measured: str  # "content": UTF-8 bytes of the message text; "body": the whole JSON request body
    windows: tuple[tuple[int, float], ...]  # at most N messages in any S seconds
    backoff: tuple[float, ...]  # seconds waited before each new try of a message refused as too fast
    retry_codes: frozenset[int] = frozenset()  # too fast or busy: wait, then send the same message again
    fatal_codes: frozenset[int] = frozenset()  # nothing else will pass this run: stop the channel
    markdown: bool = False  # messages are markdown (else plain text)
    per_run: int | None = None  # messages sent to one channel in one run; the rest wait for the next run


# A group chat is not served by more than 100 messages of one digest at once (5 minutes at 20 a
# minute): our choice. The rest of a large digest follows on the next runs; route robots to the
# offices that own the findings and send wide scopes by email.
ROBOT_MESSAGES_PER_RUN = 100


LIMITS: dict[str, KindLimits] = {
    # WeCom (企业微信) group robot, https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明):
    # "markdown 内容，最长不超过 4096 个字节，必须是 utf8 编码" (text: 2048) and
    # "每个机器人发送的消息不能超过 20 条/分钟". Answers: 40058 "markdown.content exceed max length 4096" (seen in
    # dromara/domain-admin#82); 45009 "api freq out of limit" and -1 系统繁忙 ("建议稍候重试", 全局错误码,
    # https://developer.work.weixin.qq.com/document/path/90313); 93000 "invalid webhook url" (a wrong key).
    # No wait is documented after 45009: the window is one minute, so we wait 15 s, then 60 s.
    "wecom": KindLimits(
        4096,
        "content",
        ((20, 60.0),),
        (15.0, 60.0),
        frozenset({45009, -1}),
        frozenset({93000}),
        markdown=True,
        per_run=ROBOT_MESSAGES_PER_RUN,
    ),
    # DingTalk (钉钉) custom robot, https://open.dingtalk.com/document/group/custom-robot-access:
    # "每个机器人每分钟最多发送 20 条消息到群里，如果超过 20 条，会限流 10 分钟" → 130101 "send too
    # fast, exceed 20 times per minute"; a request body over 20000 bytes → 460101 "message too long,
    # exceed 20000 bytes" (timonwong/prometheus-webhook-dingtalk#30); 310000 for a signature, keyword or
    # IP the robot does not accept ("sign not match", "keywords not in content"); 300005 "token is not
    # exist". After 130101 we wait one minute, then the documented 10 minutes.
    "dingtalk": KindLimits(
        20000,
        "body",
        ((20, 60.0),),
        (60.0, 600.0),
        frozenset({130101}),
        frozenset({310000, 300005}),
        markdown=True,
        per_run=ROBOT_MESSAGES_PER_RUN,
    ),
    # Feishu (飞书) custom bot, https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
    # (自定义机器人使用指南): "单租户单机器人 100 次/分钟，5 次/秒" (11232 when limited) and "请求体的
    # 数据大小不能超过 20 KB" (9499 Bad Request). We count 20 KB as 20,000 bytes, the stricter reading.
    # 19021 sign match fail or timestamp not within one hour, 19022 Ip Not Allowed, 19024 Key Words Not
    # Found. No wait is documented after 11232: 1 s, 5 s, then 30 s.
    "feishu": KindLimits(
        20000,
        "body",
        ((100, 60.0), (5, 1.0)),
        (1.0, 5.0, 30.0),
        frozenset({11232}),
        frozenset({19021, 19022, 19024}),
        per_run=ROBOT_MESSAGES_PER_RUN,
    ),
    # A generic JSON webhook (our own format) has no documented limits: 1 MB per message and no pacing
    # are our choice (lower ``max_bytes`` in the config for a smaller receiver); HTTP 429 is waited for.
    "generic": KindLimits(1_000_000, "body", (), (5.0, 30.0)),
    # The log: no limit beyond keeping one log record readable (our choice).
    "log": KindLimits(1_000_000, "content", (), ()),
    # Email: Postfix's default message_size_limit is 10,240,000 bytes including the envelope
    # (https://www.postfix.org/postconf.5.html#message_size_limit); 10,000,000 leaves room for the
    # envelope and the relay's own headers. A smaller SIZE advertised by the server is respected too.
    "email": KindLimits(10_000_000, "body", (), ()),
}

# HTTP answers that mean "too fast" for every kind (Feishu's gateway answers 429 too)
RETRY_HTTP = frozenset({429})
# HTTP answers after which nothing else will pass: the URL or its token is wrong
FATAL_HTTP = frozenset({401, 403, 404, 410})
