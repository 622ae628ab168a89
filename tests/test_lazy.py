"""pandas on first use: the lazy module is pandas itself once touched."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_pandas_is_imported_on_first_use_and_is_then_pandas():
    out = _run(
        "import sys\n"
        "from bayes_cmo._lazy import pandas as pd\n"
        "before = 'pandas.core.frame' in sys.modules\n"
        "frame = pd.DataFrame({'a': [1, 2]})\n"
        "import pandas\n"
        "print(before, 'pandas.core.frame' in sys.modules, pandas is pd, type(pd).__name__, int(frame['a'].sum()))"
    )
    assert out == "False True True module 3"


def test_an_import_statement_elsewhere_finishes_the_import():
    out = _run(
        "import sys, bayes_cmo._lazy\n"
        "import pandas\n"
        "print(isinstance(pandas.DataFrame(), pandas.DataFrame), bayes_cmo._lazy.pandas is pandas)"
    )
    assert out == "True True"


def test_now_imports_it_at_once():
    out = _run(
        "import sys\n"
        "from bayes_cmo import _lazy\n"
        "m = _lazy.now(_lazy.pandas)\n"
        "print('pandas.core.frame' in sys.modules, m is sys.modules['pandas'])"
    )
    assert out == "True True"


def test_pandas_already_imported_is_used_as_it_is():
    out = _run("import pandas, sys\nfrom bayes_cmo._lazy import pandas as pd\nprint(pd is pandas, type(pd).__name__)")
    assert out == "True module"
