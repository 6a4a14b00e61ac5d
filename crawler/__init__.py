"""nianbao crawler: Scrapy spiders for government portals, and mock portals to test them."""
