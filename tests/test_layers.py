"""The three packages keep their direction: dialogs and knowledge run without Flask, Redis or SQLAlchemy."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'flask', 'redis', 'sqlalchemy', 'werkzeug', 'bot'}:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import dialogs.consult, dialogs.engine, dialogs.text, knowledge.service, knowledge.hall
print('ok')
"""


def test_dialogs_and_knowledge_import_without_flask_redis_sqlalchemy_or_bot():
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
