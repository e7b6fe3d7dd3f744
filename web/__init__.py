"""The coordinators' back office and the collectivities' portal: an ASGI app (Starlette),
server-rendered Jinja2 pages, HTMX for the parts that refresh, every asset served locally."""
