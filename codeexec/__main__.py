import sys

from codeexec.cli import main

sys.exit(main())
