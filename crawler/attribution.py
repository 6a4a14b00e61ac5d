"""Which configured agency a report belongs to.

Evidence in order of trust: the agency named in the title, the page's
发布机构 / ContentSource metadata, then the portal's owner (a title with no
agency on an agency's own portal). Names are matched on their full name and
aliases, first among the agencies the portal lists (its owner's subtree), then
everywhere; a short form such as 县住建局 only makes sense within a portal.
A name no configured agency carries is kept as found, with no id, so a user
can see which agency to add.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from archive.normalize import nfkc

from .config import Agency, Portal

_PUBLISHER_OFFICE = re.compile(r"(?:人民政府)?办公(?:室|厅)$|信息中心$|政务公开办$|大数据")


def name_key(text: str) -> str:
    return re.sub(r"[\s()（）【】\[\]<>《》·•,，、.。]", "", nfkc(text))


@dataclass(frozen=True)
class Attribution:
    agency_id: str | None
    agency_name: str | None
    source: str | None  # "title", "metadata", "owner" or None


class AgencyIndex:
    def __init__(self, agencies: dict[str, Agency]):
        self.agencies = agencies
        self._by_key: dict[str, set[str]] = defaultdict(set)
        self._children: dict[str, list[str]] = defaultdict(list)
        for agency in agencies.values():
            for name in (agency.name, *agency.aliases):
                self._by_key[name_key(name)].add(agency.id)
            if agency.parent:
                self._children[agency.parent].append(agency.id)
        # longest names first, so 某某县住房和城乡建设局 wins over 某某县
        self._keys_by_length = sorted(self._by_key, key=len, reverse=True)

    def scope(self, portal: Portal) -> set[str]:
        roots = portal.agencies or (portal.owner,)
        out: set[str] = set()
        stack = list(roots)
        while stack:
            agency_id = stack.pop()
            if agency_id not in out:
                out.add(agency_id)
                stack += self._children.get(agency_id, [])
        return out

    def resolve(self, text: str | None, scope: set[str]) -> Agency | None:
        """The agency ``text`` names: exact name or alias, else the longest one it contains."""
        if not text:
            return None
        key = name_key(text)
        for pool in (scope, None):
            ids = self._by_key.get(key, set())
            ids = ids & pool if pool is not None else ids
            if len(ids) == 1:
                return self.agencies[next(iter(ids))]
        for pool in (scope, None):
            for candidate in self._keys_by_length:
                if len(candidate) < 3 or candidate not in key:
                    continue
                ids = self._by_key[candidate] & pool if pool is not None else self._by_key[candidate]
                if len(ids) == 1 and _names_whole_body(key, candidate):
                    return self.agencies[next(iter(ids))]
        return None

    def attribute(self, title_agency: str | None, publishers: list[str], portal: Portal) -> Attribution:
        scope = self.scope(portal)
        if title_agency:
            found = self.resolve(title_agency, scope)
            if found:
                return Attribution(found.id, found.name, "title")
        for publisher in publishers:
            if title_agency or _PUBLISHER_OFFICE.search(name_key(publisher)):
                continue  # the office that posts a column's reports is not their author
            found = self.resolve(publisher, scope)
            if found:
                return Attribution(found.id, found.name, "metadata")
        if title_agency:
            return Attribution(None, title_agency, "title")
        for publisher in publishers:
            if not _PUBLISHER_OFFICE.search(name_key(publisher)):
                return Attribution(None, publisher.strip(), "metadata")
        owner = self.agencies[portal.owner]
        return Attribution(owner.id, owner.name, "owner")


def _names_whole_body(key: str, candidate: str) -> bool:
    """'某某县住建局' inside '某某县住建局机关' names it; '某某县' inside '某某县住建局' does not."""
    rest = key.replace(candidate, "", 1)
    return not re.search(r"[局委办厅院馆所站队镇乡街道处室中心会部]", rest)
