"""One exception type for everything a user can get wrong.

The CLI, the API and the app turn a `SmolsqlError` into one clear line; any
other exception is a bug in smolsql.
"""


class SmolsqlError(Exception):
    """A problem the user can fix: bad input, a missing file, an unknown model."""
