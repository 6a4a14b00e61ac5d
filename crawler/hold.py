"""Report sightings held back until their sources are in.

A report page names its parts and attachments; the crawl fetches those after
the page. The sighting is passed on to the archive only once this crawl has an
outcome (a capture or a problem) for each part and attachment it is fetching,
so a recorded sighting is always ready to parse, while the crawl goes on
(``archive.follow``). Sources the crawl does not fetch again (archived recently
and still fresh) are not waited for. An outcome filed under another URL than
the one listed (a timeout after a redirect) keeps its sighting until the crawl
ends, when everything still held is passed on.
"""

from __future__ import annotations

from .items import ReportFound


class ReportHold:
    def __init__(self, state, revalidate_days: float):
        self.state = state
        self.revalidate_days = revalidate_days
        self.done: set[str] = set()  # URLs this crawl has an outcome for
        self.waiting: dict[str, list[int]] = {}  # URL → held sightings waiting for it
        self.held: dict[int, tuple[ReportFound, set[str]]] = {}

    def _fetched_again(self, url: str) -> bool:
        """Whether this crawl fetches ``url`` (the spider skips what is archived and fresh)."""
        return not self.state.fresh(self.state.get(url), self.revalidate_days)

    def hold(self, item: ReportFound) -> list[ReportFound]:
        """The sightings ready now: this one, when it waits for nothing."""
        needed = [*item.parts, *(a["url"] for a in item.attachments)]
        awaited = {u for u in needed if u not in self.done and self._fetched_again(u)}
        if not awaited:
            return [item]
        self.held[id(item)] = (item, awaited)
        for url in awaited:
            self.waiting.setdefault(url, []).append(id(item))
        return []

    def outcome(self, *urls: str | None) -> list[ReportFound]:
        """An outcome (capture or problem) for these URLs; the sightings it completes."""
        ready = []
        for url in urls:
            if not url or url in self.done:
                continue
            self.done.add(url)
            for key in self.waiting.pop(url, []):
                item, awaited = self.held[key]
                awaited.discard(url)
                if not awaited:
                    ready.append(self.held.pop(key)[0])
        return ready

    def rest(self) -> list[ReportFound]:
        """The crawl is over: every sighting still held."""
        rest = [item for item, _ in self.held.values()]
        self.held.clear()
        self.waiting.clear()
        return rest
