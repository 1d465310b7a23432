"""A user review of packaging: the library installed without its extras, or beside an old one.

Every script whose outputs are pictures refuses to run without matplotlib before it reads
its data, naming the extra; the run is not done (nor MNIST fetched) only to fail at its end.
A missing optional package is called missing, and an installed but unusable one is not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, save_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

NEEDS_MATPLOTLIB = 'error: this script draws its results with matplotlib, which comes with the scripts extra: pip install -e ".[scripts]"\n'


def run_without_matplotlib(script: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``script`` run as ``__main__`` in a child in which ``import matplotlib`` fails, as when
    it is not installed. The child inherits this test's empty ``FUNCTIONAL_NN_DATA``: no MNIST."""
    code = (
        f"import runpy, sys; sys.modules['matplotlib'] = None; sys.argv = [{script!r}, *{argv!r}]; "
        f"sys.path.insert(0, {str(SCRIPTS)!r}); "
        f"runpy.run_path({str(SCRIPTS / script)!r}, run_name='__main__')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("script", ["inspect_network.py", "augmentation_report.py"])
def test_a_picture_script_without_matplotlib_refuses_before_reading_its_data(
    script: str, tmp_path: Path, rng: np.random.Generator
) -> None:
    if script == "inspect_network.py":
        save_parameters(tmp_path / "params.npz", initialize_parameters([784, 4, 10], rng), metadata={"activations": ["relu", "softmax"]})
        argv = [str(tmp_path)]
    else:
        argv = ["--out", str(tmp_path / "augmentation.png")]
    done = run_without_matplotlib(script, argv)
    # before: the MNIST test set was looked for first (and, with a cache, the network run on it)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", NEEDS_MATPLOTLIB)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["params.npz"] if script == "inspect_network.py" else [])


def import_sklearn_module_hiding(hidden: str) -> str:
    """The ``ImportError`` message of ``import functional_nn.sklearn`` in a child in which
    ``import <hidden>`` fails."""
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "try:\n    import functional_nn.sklearn\nexcept ImportError as error:\n    print(error)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout


def test_an_installed_but_unusable_scikit_learn_is_not_called_not_installed() -> None:
    # scikit-learn installed, but without a module functional_nn.sklearn imports: as 1.5, which
    # lacks validate_data ("cannot import name 'validate_data'"), or a broken install
    message = import_sklearn_module_hiding("sklearn.utils.validation")
    assert message.startswith("functional_nn.sklearn needs scikit-learn 1.6 or later; importing the installed one failed (")
    assert "sklearn.utils.validation" in message and "not installed" not in message
    assert message.endswith('): pip install -e ".[sklearn]"\n')
    # and not installed at all: said so
    assert import_sklearn_module_hiding("sklearn") == (
        'functional_nn.sklearn needs scikit-learn, which is not installed: pip install -e ".[sklearn]"\n'
    )


def test_warm_up_without_numba_says_to_install_it_not_to_reinstall_it() -> None:
    # Numba not installed (hidden before functional_nn looks for it): warm_up, which takes no
    # kernel= argument, was told "importing it failed (...): reinstall it, or pass kernel="numpy""
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "from functional_nn import fused\n"
        "try:\n    fused.warm_up()\nexcept ImportError as error:\n    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout == 'the fused kernels need Numba: pip install -e ".[fast]"\n'
