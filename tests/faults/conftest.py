"""The fault suite imports its helpers (history, support) as top-level modules, like tests/integration."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
