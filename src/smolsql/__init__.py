"""smolsql: plain-English questions to SQL with a small model that runs on a CPU."""

from smolsql.errors import SmolsqlError
from smolsql.records import Example, Prediction

__all__ = ["Example", "Prediction", "SmolsqlError", "__version__"]
__version__ = "0.1.0"
