"""Who may do what: accounts, their grants, their credentials, and the principal a request acts as.

- :mod:`.principal` — :class:`~.principal.Principal` (a user with their role per project) and how
  one is found from a session, a personal token or the legacy single token, in one query each.
- :mod:`.users` — adding, listing, disabling and enabling users, passwords, grants, the first admin.
- :mod:`.credentials` — personal API tokens and web sessions (random values stored as hashes).
- :mod:`.passwords` — argon2id hashing and the password rules.
- :mod:`.signin` — a sign-in with a name and a password: throttled per user and per address, audited.
"""
