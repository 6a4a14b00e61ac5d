"""Provincial 集约化 platform (永州/祁阳 cluster): ``/{site}/{col}/list.shtml``,
items ``/{site}/{col}/YYYYMM/<32hex>.shtml``, pages by a 下一页 link (``list_2.shtml``)."""

from __future__ import annotations

import re

from .base import Profile


class ShtmlUuidProfile(Profile):
    name = "shtml_uuid"
    detail_pattern = re.compile(r"/(?:c?\w+/)?(?:\d{6}|\d{4}/\d{1,2}/\d{1,2})/(?:c01_\d+|[0-9a-f]{32})\.shtml$")
