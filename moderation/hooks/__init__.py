"""Built-in moderation hooks, one module each, each with ``from_options(options, name)``.

rate_limit, contact_details, links, blocked_terms and crisis are pure policy on the
message and the injected clock; webhook is the only one that does IO.
"""
