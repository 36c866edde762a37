"""``python -m aggregator.cli``: the upstream command line."""

import sys

from aggregator.cli.main import main

sys.exit(main())
