"""Alert digests at the size of a province or the nation: how many messages each channel
kind needs, how full they are, how long planning takes, and how long the robot's rate
limit makes the sending.

    python bench/alerts.py [--findings 20000] [--counties 1000]

Findings are written straight into ``compliance`` (a bench, not a test of the check):
mostly 缺报 with some 迟报 and 勾稽不符, spread over counties and their townships.
Each channel is planned as a dry run (nothing is sent, nothing recorded).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.alert_limits import LIMITS, ROBOT_MESSAGES_PER_RUN
from archive.alert_transport import measure
from archive.alerts import AlertConfig, EmailChannel, WebhookChannel, alert
from archive.schema import open_archive


def fill(db, findings: int, counties: int) -> None:
    rng = random.Random(20)
    rows = []
    for i in range(findings):
        county = f"{11 + i % 31:02d}{(i // 31) % 20 + 1:02d}{(i // 620) % max(1, counties // 620) + 1:02d}"
        region = county if i % 4 else f"{county}{i % 30 + 1:03d}000"
        kind = rng.choices(("missing", "late", "inconsistent"), (8, 1, 1))[0]
        detail = {
            "missing": "期限 2025-01-31 已过 14 天宽限期，未找到年报；门户列表已读取",
            "late": f"发布日期 2025-02-{rng.randint(1, 28):02d}，晚于期限 2025-01-31 {rng.randint(1, 28)} 天",
            "inconsistent": "未通过：requests.balance、requests.row_total",
        }[kind]
        rows.append(
            {
                "key": f"{kind}:a{i}:2024",
                "kind": kind,
                "agency_key": f"a{i}",
                "agency_name": f"第{i}号机关（{county}）",
                "region": region,
                "level": "department" if i % 4 else "township",
                "year": 2024,
                "due": "2025-01-31",
                "detail": detail,
                "confidence": "high",
                "evidence": None if kind == "missing" else f"https://www.example.gov.cn/xxgk/{i}.html",
                "state": f"s{i}",
                "first_seen": "t0",
                "last_seen": "t0",
            }
        )
    db["compliance"].insert_all(rows, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=20000)
    parser.add_argument("--counties", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_archive(Path(tmp) / "archive.db")
        fill(db, args.findings, args.counties)
        regions = db.execute("select count(distinct substr(region, 1, 6)) from compliance").fetchone()[0]
        print(f"{args.findings} findings in {regions} counties")
        print(f"{'kind':<9} {'messages':>8} {'largest':>8} {'limit':>8} {'mean fill':>9} {'plan s':>7} {'at the rate limit':>17}")
        for kind in ("wecom", "dingtalk", "feishu", "email"):
            channel = (
                EmailChannel("127.0.0.1", 25, "a@b.cn", ("c@d.cn",), "none", name=kind)
                if kind == "email"
                else WebhookChannel("http://127.0.0.1:9/x", kind, name=kind)
            )
            config = AlertConfig([channel], archive_url="https://nianbao.example.gov.cn")
            started = time.perf_counter()
            result = alert(db, config, "t1", 2024, dry_run=True)[kind]
            seconds = time.perf_counter() - started
            if kind == "email":  # every message is measured whole when planned; here only their number
                print(f"{kind:<9} {len(result.preview):>8} {'':>8} {LIMITS[kind].max_bytes:>8} {'':>9} {seconds:>7.2f}")
                continue
            sizes = [measure(kind, False, "年报核查提醒：缺报 99999，迟报 99999", text, []) for text in result.preview]
            minutes = max(len(sizes) / count * span for count, span in LIMITS[kind].windows) / 60
            print(
                f"{kind:<9} {len(sizes):>8} {max(sizes):>8} {LIMITS[kind].max_bytes:>8} "
                f"{sum(sizes) / len(sizes) / LIMITS[kind].max_bytes:>8.0%} {seconds:>7.2f} {minutes:>13.1f} min"
            )
        print(f"(a robot gets at most {ROBOT_MESSAGES_PER_RUN} messages per run; the rest follow on the next runs)")


if __name__ == "__main__":
    main()
