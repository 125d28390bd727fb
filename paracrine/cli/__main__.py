"""``python -m paracrine.cli``: the same as the ``paracrine`` command."""

import sys

from paracrine.cli import main

sys.exit(main())
