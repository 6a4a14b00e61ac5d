"""Scrapy spiders (one generic spider, ``portal``; the CMS families are profiles)."""
