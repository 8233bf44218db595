"""Cold-start trimming (:mod:`smsverify.lean_imports`).

Proven, each in a fresh interpreter so nothing is imported beforehand:

* only the SCF entry (``handler.py``) installs it: importing smsverify alone
  leaves ``sys.modules`` as it was (werkzeug imports the ordinary way);
* through ``handler.py``, Werkzeug's ``__init__`` (and so ``werkzeug.serving``)
  and the phonenumbers modules smsverify does not use
  are not loaded, even after answering a login through ``main_handler`` with a
  real Redis, as deployed (the local in-process store, fakeredis, loads
  ``socketserver`` itself);
* the deferred packages still behave: ``werkzeug.Client``,
  ``from werkzeug import run_simple`` and ``phonenumbers.AsYouTypeFormatter``
  resolve, by running the real ``__init__`` on first use;
* on a package made for the test: submodules import without running the
  ``__init__``, ``from pkg import submodule`` too, and the ``__init__`` runs
  exactly once, on the first access to a name it defines; a missing name is
  still an AttributeError;
* the token package imports PyJWT only when it signs a token, and
  cryptography only to load a ``TOKEN_PRIVATE_KEY``; the WeChat module loads only when configured, and ``requests`` only
  on its first exchange;
* the VMS SDK (voice codes) is never loaded by a Tencent-SMS-only deployment,
  even after it sent an SMS, and with voice codes configured only by the first
  voice call.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.support import ROOT, get_sms, login, tencent_env, voice_env

NOT_ON_THE_LOGIN_PATH = [
    # werkzeug.test is used: serverless-wsgi answers with Response.from_app (werkzeug.test.run_wsgi_app).
    "werkzeug.serving", "http.server", "socketserver",
    "phonenumbers.asyoutypeformatter", "phonenumbers.phonenumbermatcher", "phonenumbers.shortnumberinfo",
]


def run(script: str, *args: str, cwd=ROOT) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, cwd=cwd, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_login_path_loads_no_deferred_init(redis_url):
    report = run(
        """
        import json, os, sys
        os.environ.update({"SMS_PROVIDER": "console", "CODE_SECRET": "x" * 32, "REDIS_URL": sys.argv[3]})
        import handler
        answer = json.loads(handler.main_handler(json.loads(sys.argv[1]), {})["body"])["codeStr"]
        watched = json.loads(sys.argv[2])
        print(json.dumps({"answer": answer, "loaded": sorted(m for m in watched if m in sys.modules)}))
        """,
        json.dumps(login("8613800138000", "123456")), json.dumps(NOT_ON_THE_LOGIN_PATH), redis_url,
    )

    assert report == {"answer": "CodeHasExpired", "loaded": []}


def test_the_deferred_packages_still_work_the_ordinary_way():
    report = run(
        """
        import json, sys
        sys.path.insert(0, "src")
        from smsverify import lean_imports
        lean_imports.install()
        import smsverify, werkzeug, phonenumbers
        before = "werkzeug.test" in sys.modules
        from werkzeug import run_simple
        print(json.dumps({
            "before": before,
            "client": werkzeug.Client.__module__,
            "run_simple": run_simple.__module__,
            "formatter": phonenumbers.AsYouTypeFormatter.__module__,
        }))
        """
    )

    assert report == {
        "before": False, "client": "werkzeug.test", "run_simple": "werkzeug.serving",
        "formatter": "phonenumbers.asyoutypeformatter",
    }


def test_a_deferred_init_runs_once_on_first_use(tmp_path):
    package = tmp_path / "sample_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("import builtins\nbuiltins.INIT_RUNS = getattr(builtins, 'INIT_RUNS', 0) + 1\nNAME = 'from init'\n")
    (package / "part.py").write_text("VALUE = 42\n")
    (package / "other.py").write_text("VALUE = 7\n")
    report = run(
        f"""
        import builtins, json, sys
        sys.path[:0] = [{str(ROOT / "src")!r}, {str(tmp_path)!r}]
        from smsverify.lean_imports import defer_package_init
        defer_package_init("sample_pkg")
        import sample_pkg.part
        from sample_pkg import other
        runs = [getattr(builtins, "INIT_RUNS", 0)]
        name = sample_pkg.NAME
        runs.append(builtins.INIT_RUNS)
        name_again = sample_pkg.NAME
        try:
            sample_pkg.MISSING
            missing = "no error"
        except AttributeError:
            missing = "AttributeError"
        runs.append(builtins.INIT_RUNS)
        print(json.dumps({{"values": [sample_pkg.part.VALUE, other.VALUE], "runs": runs,
                           "names": [name, name_again], "missing": missing}}))
        """,
        cwd=tmp_path,
    )

    assert report == {"values": [42, 7], "runs": [0, 1, 1], "names": ["from init", "from init"], "missing": "AttributeError"}


def test_importing_smsverify_alone_changes_no_import():
    report = run(
        """
        import json, sys
        sys.path.insert(0, "src")
        import smsverify.edge.app
        import werkzeug
        print(json.dumps({"init_ran": hasattr(werkzeug, "__version__") or "run_simple" in vars(werkzeug),
                          "getattr_hook": "__getattr__" in vars(werkzeug)}))
        """
    )

    assert report == {"init_ran": True, "getattr_hook": False}


def test_install_is_safe_from_many_threads_at_once():
    report = run(
        """
        import json, sys, threading
        sys.path.insert(0, "src")
        from smsverify import lean_imports
        barrier = threading.Barrier(8)
        def go():
            barrier.wait()
            lean_imports.install()
        threads = [threading.Thread(target=go) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        import werkzeug, phonenumbers
        ids = {id(sys.modules["werkzeug"]), id(werkzeug)}
        from werkzeug.datastructures import MultiDict
        print(json.dumps({"one_module": len(ids) == 1, "client": werkzeug.Client.__module__}))
        """
    )

    assert report == {"one_module": True, "client": "werkzeug.test"}


# -- deferred imports of the token and WeChat modules ---------------------------------------------
def test_the_token_package_loads_pyjwt_only_to_sign_and_cryptography_only_for_a_private_key():
    """``import smsverify.tokens`` loads neither library; a ``TOKEN_SECRET`` configuration neither; a
    ``TOKEN_PRIVATE_KEY`` is loaded (so checked) by cryptography at start-up, PyJWT waits for the first token."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    report = run(
        """
        import json, sys
        sys.path.insert(0, "src")
        loaded = lambda: sorted({m.split(".")[0] for m in sys.modules} & {"jwt", "cryptography"})
        steps = {}
        import smsverify.tokens
        steps["import"] = loaded()
        from smsverify.tokens import TokenConfig, TokenIssuer, verify_token
        steps["names"] = loaded()
        hs256 = TokenIssuer(TokenConfig.from_env({"TOKEN_SECRET": sys.argv[2], "TOKEN_ISSUER": "i", "TOKEN_AUDIENCE": "a"}, in_scf=True))
        steps["secret config"] = loaded()
        es256 = TokenIssuer(TokenConfig.from_env({"TOKEN_PRIVATE_KEY": sys.argv[1], "TOKEN_ISSUER": "i", "TOKEN_AUDIENCE": "a"}, in_scf=True))
        steps["key config"] = loaded()
        es256.jwks()
        steps["jwks"] = loaded()
        es256.issue(phone_e164="+8613800138000", scene="login")
        steps["issue"] = loaded()
        print(json.dumps(steps))
        """,
        key, "Vq3n8Zr1-Kp7wXe2Lm9sTa4yBd6uHc0J",  # pragma: allowlist secret
    )
    assert report == {
        "import": [], "names": [], "secret config": [],
        "key config": ["cryptography"], "jwks": ["cryptography"], "issue": ["cryptography", "jwt"],
    }


def loaded_after_start(env: dict[str, str]) -> list[str]:
    return run(
        "import json, sys\n"
        "from smsverify.edge.handler import create_handler\n"
        f"create_handler({env!r})\n"
        "print(json.dumps(sorted(m for m in ('smsverify.integrations.wechat', 'requests') if m in sys.modules)))\n"
    )


def test_the_wechat_module_loads_only_when_configured_and_requests_only_on_first_exchange():
    base = {"CODE_SECRET": "code-secret-for-tests-only-7Hq2Vd9Kx4Lm", "SMS_PROVIDER": "console"}  # pragma: allowlist secret
    assert loaded_after_start(base) == []
    wechat = {"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "wechat-app-secret-for-tests"}  # pragma: allowlist secret
    assert loaded_after_start({**base, **wechat}) == ["smsverify.integrations.wechat"]


# -- the VMS SDK (voice codes) ---------------------------------------------------------------------
def test_the_vms_sdk_loads_only_on_the_first_voice_call(redis_url, sms_api):
    sms_only = tencent_env(redis_url, sms_api)
    with_voice = {**sms_only, **voice_env(sms_api)}
    report = run(
        """
        import json, sys
        from smsverify.settings.config import Settings
        from smsverify.edge.handler import create_handler
        from smsverify.senders import build_voice_sender
        from smsverify.senders.base import SmsMessage
        sms_only, with_voice, event = (json.loads(arg) for arg in sys.argv[1:4])
        vms = lambda: sorted(m for m in sys.modules if m.startswith("tencentcloud.vms"))
        handler = create_handler(sms_only)
        answer = json.loads(handler(event, {})["body"])["codeStr"]
        steps = {"sms_only_after_an_sms": vms(), "sms_sdk": "tencentcloud.sms.v20210111.sms_client" in sys.modules}
        create_handler(with_voice)
        sender = build_voice_sender(Settings.from_env(with_voice))
        steps["voice_configured"] = vms()
        sender.send(SmsMessage(phone="+8613900139000", code="4829", ttl_minutes=5), 2.0)
        steps["after_a_voice_call"] = "tencentcloud.vms.v20200902.vms_client" in sys.modules
        print(json.dumps({"answer": answer, **steps}))
        """,
        json.dumps(sms_only), json.dumps(with_voice), json.dumps(get_sms()),
    )

    assert report == {"answer": "Ok", "sms_only_after_an_sms": [], "sms_sdk": True, "voice_configured": [],
                      "after_a_voice_call": True}
    assert [call["phone"] for call in sms_api.voice_calls] == ["+8613900139000"]


ALIYUN_SDK = ("alibabacloud_dysmsapi20170525", "alibabacloud_tea_openapi", "darabonba", "aiohttp")


def test_the_alibaba_cloud_sdk_loads_only_on_an_aliyun_send(redis_url, sms_api):
    """A login of an aliyun deployment, and a Tencent deployment's getSms, never import the Alibaba Cloud SDK."""
    script = """
        import json, os, sys
        os.environ.update(json.loads(sys.argv[1]))
        import handler
        answer = json.loads(handler.main_handler(json.loads(sys.argv[2]), {})["body"])["codeStr"]
        print(json.dumps({"answer": answer, "loaded": sorted(m for m in json.loads(sys.argv[3]) if m in sys.modules)}))
        """
    base = {"CODE_SECRET": "x" * 32, "REDIS_URL": redis_url, "NO_PROXY": "127.0.0.1"}
    aliyun = {**base, "SMS_PROVIDER": "aliyun", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tLean",
              "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "lean-secret", "ALIYUN_SMS_SIGN_NAME": "测试签名",  # pragma: allowlist secret
              "ALIYUN_SMS_TEMPLATE_CODE": "SMS_1", "ALIYUN_SMS_ENDPOINT": "http://127.0.0.1:9"}
    tencent = {**base, "SMS_PROVIDER": "tencent", "SMS_SDKAPPID": "1400000000", "SMS_SIGN": "测试签名",
               "SMS_TEMPLATE_ID": "100001", "SMS_API_ENDPOINT": sms_api.url,
               "TENCENTCLOUD_SECRETID": sms_api.secret_id, "TENCENTCLOUD_SECRETKEY": sms_api.secret_key,
               "TENCENTCLOUD_SESSIONTOKEN": sms_api.token}
    watched = json.dumps(ALIYUN_SDK)

    login_report = run(script, json.dumps(aliyun), json.dumps(login("8613800138000", "123456")), watched)
    tencent_report = run(script, json.dumps(tencent), json.dumps(get_sms("8613800138000")), watched)
    send_report = run(script, json.dumps(aliyun), json.dumps(get_sms("8613900139000")), watched)

    assert login_report == {"answer": "CodeHasExpired", "loaded": []}
    assert tencent_report == {"answer": "Ok", "loaded": []}
    # The control: an aliyun getSms does load it (port 9 refuses: the send fails, after the import).
    assert send_report == {"answer": "SmsSendFailed", "loaded": sorted(ALIYUN_SDK)}
