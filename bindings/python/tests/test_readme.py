"""The README's "Data API 4.0" and "Rotating keys and secrets" snippets, run as written."""
import re
from pathlib import Path

import pytest

from conftest import Sealed
import wa_flows_crypto as wfc

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def snippets(section):
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


@pytest.fixture()
def keys(tmp_path, monkeypatch):
    new, old = wfc.FlowPrivateKey.generate(), wfc.FlowPrivateKey.generate()
    (tmp_path / "private.pem").write_text(new.private_key_pem())
    (tmp_path / "previous.pem").write_text(old.private_key_pem())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_SECRET", "new secret")
    monkeypatch.setenv("PREVIOUS_APP_SECRET", "old secret")
    return new, old


def run(code, namespace=None):
    namespace = {} if namespace is None else namespace
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    return namespace


def v4(token, secret="new secret"):
    return {"version": "4.0", "action": "data_exchange", "screen": "A", "data": {}, "flow_token": token,
            "flow_token_signature": wfc.sign_flow_token(token, secret)}


def test_data_api_4(keys):
    new, _ = keys
    endpoint_code, check_code = snippets("Data API 4.0")
    ns = run(endpoint_code)
    sealed = Sealed(new.public_key_pem(), v4("a token we issued"))
    status, body = ns["handle"](sealed.body, wfc.sign(sealed.body, "new secret"))
    assert status == 200 and sealed.open(body) == '{"screen": "DONE", "data": {}}'
    sealed = Sealed(new.public_key_pem(), v4("another token"))
    status, body = ns["handle"](sealed.body, wfc.sign(sealed.body, "new secret"))
    assert status == 427 and sealed.open(body) == '{"error_msg":"This link has expired"}'
    sealed = Sealed(new.public_key_pem(), v4("a token we issued", secret="forged"))
    assert ns["handle"](sealed.body, wfc.sign(sealed.body, "new secret")) == (427, "invalid_flow_token_signature")
    assert ns["handle"](sealed.body, None) == (432, "invalid_signature")
    sealed = Sealed(new.public_key_pem(), {"version": "3.0", "action": "ping"})
    status, body = ns["handle"](sealed.body, wfc.sign(sealed.body, "new secret"))
    assert status == 200 and sealed.open(body) == wfc.PING_RESPONSE

    run(check_code, ns)
    sealed = Sealed(new.public_key_pem(), v4("t"))
    assert ns["check"](sealed.body, "new secret") == "verified"
    with pytest.raises(wfc.FlowCryptoError) as info:
        ns["check"](sealed.body, "old secret")
    assert info.value.http_status == 427


def test_rotating_keys_and_secrets(keys, capsys):
    new, old = keys
    (code,) = snippets("Rotating keys and secrets")
    ns = run(code)
    for key, secret, index in ((new, "new secret", 0), (old, "old secret", 1)):
        sealed = Sealed(key.public_key_pem(), {"version": "3.0", "action": "ping"})
        header = wfc.sign(sealed.body, secret)
        assert ns["signed"](sealed.body, header)
        status, body = ns["handle"](sealed.body, header)
        assert status == 200 and sealed.open(body) == wfc.PING_RESPONSE
        assert ("previous key" in capsys.readouterr().out) is bool(index)
    assert not ns["signed"](b"x", wfc.sign(b"x", "neither"))
