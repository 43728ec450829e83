"""The public API is exactly bindings/python/api.txt (one name per line, sorted).

The contract is ``wa_flows_crypto.__all__``: what ``from wa_flows_crypto import *`` gives and
what the docs promise. This test fails on a name in api.txt the package lacks, on a name in
``__all__`` that api.txt lacks, and on a public (no leading underscore) class, function or
constant defined by the package that is in neither: add it to both, or give it an underscore.
Imported modules and typing names are not the package's own and are not listed; the
``wa_flows_crypto.pywa`` submodule is documented on its own."""
import ast
import types
from pathlib import Path

import wa_flows_crypto as wfc

HERE = Path(__file__).resolve().parents[1]
LISTED = (HERE / "api.txt").read_text().splitlines()


def test_api_txt_is_sorted_and_one_name_per_line():
    assert LISTED == sorted(set(LISTED)) and all(name and name.strip() == name for name in LISTED)


def test_all_is_exactly_api_txt():
    missing = set(LISTED) - set(wfc.__all__)
    unexpected = set(wfc.__all__) - set(LISTED)
    assert not missing, f"in api.txt but not in __all__: {sorted(missing)}"
    assert not unexpected, f"in __all__ but not in api.txt: {sorted(unexpected)}"
    assert len(wfc.__all__) == len(set(wfc.__all__))
    for name in LISTED:
        assert hasattr(wfc, name), f"api.txt lists {name}, which the package lacks"


def test_no_public_name_outside_the_list():
    own = set()
    for name, value in vars(wfc).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if getattr(value, "__module__", None) == wfc.__name__ or isinstance(value, (str, int)):
            own.add(name)
    assert own - set(LISTED) == set(), f"public but not in api.txt: {sorted(own - set(LISTED))}"


def test_the_stubs_declare_every_listed_name():
    tree = ast.parse((Path(wfc.__file__).parent / "__init__.pyi").read_text())
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.Assign):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
    assert set(LISTED) - declared == set(), f"not in __init__.pyi: {sorted(set(LISTED) - declared)}"
