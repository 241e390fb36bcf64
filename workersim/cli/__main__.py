"""``python -m workersim.cli``: the ``workersim`` command."""

import sys

from . import main

sys.exit(main())
