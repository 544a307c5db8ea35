"""Business rules: the CertLogic evaluator and validator, the EU rule-test runner, and signed rule bundles.

The package's public names are its two modules' public names: each module's ``__all__`` is the one list.
"""

from healthpass.rules import bundle, certlogic
from healthpass.rules.bundle import *  # noqa: F403  # exactly bundle.__all__
from healthpass.rules.certlogic import *  # noqa: F403  # exactly certlogic.__all__

__all__ = bundle.__all__ + certlogic.__all__
