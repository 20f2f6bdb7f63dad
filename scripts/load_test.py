"""30 viewers at once while 100,000 tickets are imported: see governance/load.py.

    python scripts/load_test.py [--sessions 30] [--rounds 3] [--import-rows 100000]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.load import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
