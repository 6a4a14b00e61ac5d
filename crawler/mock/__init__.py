"""Mock government portals (real HTTP on 127.0.0.1) and the documents they serve."""
