"""nianbao archive: extraction, parsing, rules, storage and reporting."""

__version__ = "0.1.0"
