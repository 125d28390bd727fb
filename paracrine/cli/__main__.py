"""``python -m paracrine.cli``: the same as the ``paracrine`` command."""

import sys

from paracrine.cli import main

if __name__ == "__main__":  # importing this module (e.g. to list the package) runs nothing
    sys.exit(main())
