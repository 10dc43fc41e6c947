from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okx_auth_mcp.core import okx_profiles
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.login.settings import Settings
from tests.helpers import write_config

SECRET, PASSPHRASE, API_KEY = "s3cr3t-SECRET-value", "pa55-PHRASE", "ak-1234567890abcdef"


def test_a_missing_file_is_an_empty_config(isolated_env: dict[str, str]) -> None:
    cfg = okx_config.load()
    assert cfg.profiles == () and cfg.api_key_profile() is None and cfg.any_site() is None


def test_profiles_are_read_as_okx_writes_them(isolated_env: dict[str, str]) -> None:
    write_config(
        isolated_env["OKX_HOME"],
        f'default_profile = "live"\n[profiles.demo]\nsite = "eea"\ndemo = true\n'
        f'[profiles.live]\napi_key = "{API_KEY}"\nsecret_key = "{SECRET}"\npassphrase = "{PASSPHRASE}"\n'
        'site = "us"\ntimeout_ms = 5000\nunknown_key = 1\n',
    )
    cfg = okx_config.load()
    assert [p.name for p in cfg.profiles] == ["demo", "live"]
    live = cfg.api_key_profile()
    assert live is not None and live.name == "live" and live.site == "us" and live.timeout_ms == 5000
    assert cfg.any_site() == "eea"


def test_secrets_never_appear_in_repr_or_public_views(isolated_env: dict[str, str]) -> None:
    write_config(
        isolated_env["OKX_HOME"],
        f'[profiles.p]\napi_key = "{API_KEY}"\nsecret_key = "{SECRET}"\npassphrase = "{PASSPHRASE}"\n',
    )
    cfg = okx_config.load()
    for text in (repr(cfg), str(cfg.profiles[0].public())):
        assert SECRET not in text and PASSPHRASE not in text
    assert API_KEY not in str(cfg.profiles[0].public())
    assert cfg.profiles[0].public()["api_key"] == "ak-1****cdef"


def test_environment_credentials_form_the_env_profile_first(
    isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(isolated_env["OKX_HOME"], 'default_profile = "main"\n[profiles.main]\napi_key = "file-key-123456"\n')
    for name, value in (("OKX_API_KEY", API_KEY), ("OKX_SECRET_KEY", SECRET), ("OKX_PASSPHRASE", PASSPHRASE)):
        monkeypatch.setenv(name, value)
    keyed = okx_config.load().api_key_profile()
    assert keyed is not None and keyed.name == "env"


@pytest.mark.parametrize("present", [("OKX_API_KEY",), ("OKX_API_KEY", "OKX_SECRET_KEY"), ("OKX_PASSPHRASE",)])
def test_a_partial_set_of_environment_credentials_is_a_clear_error(
    present: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in present:
        monkeypatch.setenv(name, SECRET)
    with pytest.raises(okx_profiles.PartialEnvCredentials, match="set all three") as error:
        okx_config.load()
    assert SECRET not in str(error.value)


def test_a_file_that_does_not_parse_names_file_line_and_quoting_and_is_not_rewritten(
    isolated_env: dict[str, str],
) -> None:
    text = '[profiles.main]\napi_key = "abc"\npassphrase = p@ss#word\n'
    path = write_config(isolated_env["OKX_HOME"], text)
    with pytest.raises(okx_profiles.ConfigParseError) as error:
        okx_config.load()
    message = str(error.value)
    assert str(path) in message and "line 3" in message and "quoted" in message and "single quotes" in message
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('[profiles.main]\nsite = "mars"\n', "global, eea, us or tr"),
        ("[profiles.main]\ndemo = 1\n", "true or false"),
        ("[profiles.main]\napi_key = 5\n", "must be a string"),
        ('profiles = "x"\n', "table"),
        ("default_profile = 3\n", "default_profile"),
        ('[profiles]\nmain = "x"\n', "must be a table"),
    ],
)
def test_wrong_shapes_are_clear_errors(isolated_env: dict[str, str], text: str, what: str) -> None:
    write_config(isolated_env["OKX_HOME"], text)
    with pytest.raises(okx_profiles.ConfigInvalid, match=what):
        okx_config.load()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("[]=.\"'#\n abcdefgprofilesapi_keysite\\tu1")), max_size=120))
def test_fuzzed_config_files_load_or_fail_clearly_and_stay_untouched(isolated_env: dict[str, str], text: str) -> None:
    path = write_config(isolated_env["OKX_HOME"], text)
    before = path.read_bytes(), os.stat(path).st_mtime_ns
    try:
        cfg = okx_config.load()
    except okx_profiles.ConfigError as error:
        assert str(path) in str(error)
    else:
        assert all(isinstance(p, okx_profiles.Profile) for p in cfg.profiles)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before


def test_a_config_that_is_not_utf8_is_a_clear_error(isolated_env: dict[str, str]) -> None:
    path = Path(isolated_env["OKX_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe[profiles]")
    with pytest.raises(okx_profiles.ConfigParseError, match="UTF-8"):
        okx_config.load()


def test_settings_never_show_the_environments_secrets() -> None:
    settings = Settings.from_env({"OKX_SECRET_KEY": "S3CRET-in-env-77", "OKX_PASSPHRASE": "Pass-in-env-77"})
    assert "S3CRET-in-env-77" not in repr(settings) and "Pass-in-env-77" not in repr(settings)
