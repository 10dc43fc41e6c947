"""The one writer of OKX's config file (``edges.okx_config_writer``), on real files under tmp_path: what it keeps,
how it writes, and what it refuses with the file unchanged. OKX's real CLI reads what it wrote in
tests/test_real_okx_cli.py."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from okx_auth_mcp.core.okx_config_edit import ConfigChanged, InvalidProfile, NewProfile, NoSuchProfile, ProfileExists
from okx_auth_mcp.core.okx_profiles import ConfigError, ConfigParseError
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.okx_config_writer import config_digest, remove_profile, save_profile

SECRET = "S3CRET-9f8e7d6c5b4a3210"
PASS = "Pass-phrase-01"


def profile(name: str = "okx-prod", site: SiteId = "eea", /, **fields: str) -> NewProfile:
    values = {"api_key": "ak-0123456789", "secret_key": SECRET, "passphrase": PASS, **fields}
    return NewProfile(name, site, demo=False, **values)


@pytest.fixture
def home(isolated_env: dict[str, str]) -> Path:
    return Path(isolated_env["OKX_HOME"])


def read(home: Path) -> dict[str, object]:
    return tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))


def test_a_new_file_in_a_new_directory_is_0600_in_0700_and_reads_back(home: Path) -> None:
    written = save_profile(os.environ, profile())
    assert written.path == home / "config.toml" and written.backup is None and not written.replaced
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(written.path.stat().st_mode) == 0o600
    assert read(home)["profiles"] == {
        "okx-prod": {
            "api_key": "ak-0123456789",
            "secret_key": SECRET,
            "passphrase": PASS,
            "demo": False,
            "site": "eea",
            "base_url": "https://eea.okx.com",
        }
    }
    loaded = okx_config.load(os.environ).api_key_profile()
    assert loaded is not None and (loaded.name, loaded.site, loaded.secret_key) == ("okx-prod", "eea", SECRET)


def test_a_global_profile_has_no_base_url(home: Path) -> None:
    save_profile(os.environ, profile("main", "global"))
    assert "base_url" not in read(home)["profiles"]["main"]  # type: ignore[index]


def test_everything_else_in_the_file_is_kept(home: Path) -> None:
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(
        'default_profile = "demo"\nfuture_key = [1, 2]\n[profiles.demo]\nsite = "us"\ndemo = true\nextra = "x"\n'
    )
    save_profile(os.environ, profile("okx-prod", "tr"))
    document = read(home)
    assert document["default_profile"] == "demo" and document["future_key"] == [1, 2]
    assert document["profiles"]["demo"] == {"site": "us", "demo": True, "extra": "x"}  # type: ignore[index]
    assert document["profiles"]["okx-prod"]["base_url"] == "https://tr.okx.com"  # type: ignore[index]


def test_a_file_with_comments_is_copied_once_before_its_first_rewrite(home: Path) -> None:
    home.mkdir(mode=0o700)
    original = '# my settings\n[profiles.demo]\nsite = "us"  # the US site\n'
    (home / "config.toml").write_text(original)
    first = save_profile(os.environ, profile("a"))
    assert first.backup == home / "config.toml.bak"
    assert first.backup.read_text() == original and stat.S_IMODE(first.backup.stat().st_mode) == 0o600
    second = save_profile(os.environ, profile("b"))
    assert second.backup is None and first.backup.read_text() == original  # the first copy is never overwritten


def test_an_existing_profile_is_replaced_only_when_asked(home: Path) -> None:
    save_profile(os.environ, profile())
    before = (home / "config.toml").read_bytes()
    with pytest.raises(ProfileExists):
        save_profile(os.environ, profile(passphrase="Another-pass-1"))
    assert (home / "config.toml").read_bytes() == before
    assert save_profile(os.environ, profile(passphrase="Another-pass-1"), replace=True).replaced
    assert read(home)["profiles"]["okx-prod"]["passphrase"] == "Another-pass-1"  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"name": "a b"}, "profile name"),
        ({"name": 'x"]\n[evil'}, "profile name"),
        ({"name": ""}, "profile name"),
        ({"api_key": ""}, "api_key"),
        ({"secret_key": "x" * (10 * 1024 * 1024)}, "secret_key"),
        ({"secret_key": "sécret-key"}, "secret_key"),
        ({"passphrase": "short"}, "passphrase"),
        ({"passphrase": "p" * 33}, "passphrase"),
        ({"api_key": " ak-with-space"}, "api_key"),
        ({"secret_key": "line\nbreak"}, "secret_key"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_the_file_is_unchanged(
    home: Path, changes: dict[str, str], named: str
) -> None:
    save_profile(os.environ, profile("kept"))
    before = (home / "config.toml").read_bytes()
    name = changes.pop("name", "okx-prod")
    with pytest.raises(InvalidProfile) as refused:
        save_profile(os.environ, profile(name, **changes))
    assert named in str(refused.value)
    for value in changes.values():
        assert not value or value not in str(refused.value)
    assert (home / "config.toml").read_bytes() == before


def test_a_file_that_is_not_toml_is_never_overwritten(home: Path) -> None:
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[profiles.a]\napi_key = "unterminated\n')
    before = (home / "config.toml").read_bytes()
    with pytest.raises(ConfigParseError, match="line 2"):
        save_profile(os.environ, profile())
    assert (home / "config.toml").read_bytes() == before and not (home / "config.toml.bak").exists()


def test_a_symlinked_file_has_its_target_written_and_stays_a_link(home: Path, tmp_path: Path) -> None:
    home.mkdir(mode=0o700)
    elsewhere = tmp_path / "dotfiles"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "okx.toml").write_text('[profiles.demo]\nsite = "us"\n')
    (elsewhere / "okx.toml").chmod(0o600)
    (home / "config.toml").symlink_to(elsewhere / "okx.toml")
    written = save_profile(os.environ, profile())
    assert written.path == (elsewhere / "okx.toml").resolve()
    assert (home / "config.toml").is_symlink()
    assert "okx-prod" in read(home)["profiles"]  # type: ignore[operator]


def test_a_file_others_can_write_is_refused(home: Path) -> None:
    save_profile(os.environ, profile("kept"))
    (home / "config.toml").chmod(0o666)
    before = (home / "config.toml").read_bytes()
    with pytest.raises(ConfigError, match="chmod"):
        save_profile(os.environ, profile())
    assert (home / "config.toml").read_bytes() == before


def test_make_default_names_the_new_profile_as_okx_wizard_does(home: Path) -> None:
    save_profile(os.environ, profile("old"), make_default=True)
    save_profile(os.environ, profile("new"))
    assert read(home)["default_profile"] == "old"
    save_profile(os.environ, profile("new", passphrase="Another-pass-1"), replace=True, make_default=True)
    assert read(home)["default_profile"] == "new"
    loaded = okx_config.load(os.environ).api_key_profile()
    assert loaded is not None and loaded.name == "new"


def test_a_removal_bound_to_a_digest_is_refused_once_the_file_changed(home: Path) -> None:
    save_profile(os.environ, profile("a"))
    confirmed = config_digest(os.environ)
    assert confirmed == config_digest(os.environ) and len(confirmed) == 64
    save_profile(os.environ, profile("b"))
    before = (home / "config.toml").read_bytes()
    with pytest.raises(ConfigChanged, match="changed after the user confirmed"):
        remove_profile(os.environ, "a", expected_digest=confirmed)
    assert (home / "config.toml").read_bytes() == before
    assert not list(home.glob("config.toml.bak-*"))
    remove_profile(os.environ, "a", expected_digest=config_digest(os.environ))
    profiles = read(home)["profiles"]
    assert isinstance(profiles, dict) and set(profiles) == {"b"}


def test_the_digest_of_no_file_is_stable_and_differs_from_any_file(home: Path) -> None:
    assert config_digest(os.environ) == "none"
    save_profile(os.environ, profile())
    assert config_digest(os.environ) != "none"


def test_a_removal_takes_the_block_and_its_default_and_keeps_a_timestamped_copy(home: Path) -> None:
    save_profile(os.environ, profile("a"))
    save_profile(os.environ, profile("b"))
    path = home / "config.toml"
    path.write_text('default_profile = "a"\n' + path.read_text())
    before = path.read_text()
    written = remove_profile(os.environ, "a")
    assert written.backup is not None and written.backup.name.startswith("config.toml.bak-")
    assert written.backup.read_text() == before and stat.S_IMODE(written.backup.stat().st_mode) == 0o600
    document = read(home)
    profiles = document["profiles"]
    assert "default_profile" not in document and isinstance(profiles, dict) and set(profiles) == {"b"}
    with pytest.raises(NoSuchProfile):
        remove_profile(os.environ, "a")


def test_a_change_made_while_writing_is_kept_and_one_that_never_stops_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program (OKX's wizard, an editor) writes the file between our read and our write: the edit is
    done once more on what the file is now; a file that changes every time is refused, left as it is."""
    import tomli_w

    save_profile(os.environ, profile("first"))
    path = home / "config.toml"
    real_dumps = tomli_w.dumps
    changes = iter(["theirs", "again", "and-again"])
    pending = [1]  # how many of the next edits someone else overtakes

    def someone_else_writes(document: dict[str, Any]) -> str:
        data = real_dumps(document)
        if pending[0] > 0:
            pending[0] -= 1
            path.write_text(path.read_text() + f'\n[profiles.{next(changes)}]\nsite = "us"\n')
        return data

    monkeypatch.setattr(tomli_w, "dumps", someone_else_writes)  # the writer's serialiser, at its every call
    save_profile(os.environ, profile("ours"))
    assert names(home) == {"first", "theirs", "ours"}

    pending[0] = 2
    with pytest.raises(ConfigError, match="kept changing"):
        save_profile(os.environ, profile("never"))
    assert names(home) == {"first", "theirs", "ours", "again", "and-again"}  # theirs kept; ours not written


def names(home: Path) -> set[str]:
    profiles = read(home)["profiles"]
    assert isinstance(profiles, dict)
    return set(profiles)


def test_backups_never_replace_one_another(home: Path) -> None:
    save_profile(os.environ, profile("a"))
    save_profile(os.environ, profile("b"))
    save_profile(os.environ, profile("c"))
    first = remove_profile(os.environ, "a").backup
    second = remove_profile(os.environ, "b").backup  # the same second, most likely
    assert first is not None and second is not None and first != second
    assert "[profiles.a]" in first.read_text() and "[profiles.b]" in second.read_text()


def test_comments_added_after_a_rewrite_are_kept_in_a_copy_of_their_own(home: Path) -> None:
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text("# first notes\n")
    first = save_profile(os.environ, profile("a")).backup
    assert first == home / "config.toml.bak"
    untouched = save_profile(os.environ, profile("b"))
    assert untouched.backup is None  # the file is as this writer wrote it: a rewrite loses nothing
    path = home / "config.toml"
    path.write_text("# later notes\n" + path.read_text())
    later = save_profile(os.environ, profile("c")).backup
    assert later is not None and later != first and later.read_text().startswith("# later notes")
    assert first.read_text() == "# first notes\n"


def test_a_replace_keeps_the_key_it_replaces_in_a_copy(home: Path) -> None:
    save_profile(os.environ, profile())
    replaced = save_profile(os.environ, profile(passphrase="Another-pass-1"), replace=True)
    assert replaced.replaced and replaced.backup is not None and PASS in replaced.backup.read_text()
    assert stat.S_IMODE(replaced.backup.stat().st_mode) == 0o600


def test_the_lock_file_is_0600_whatever_the_umask(home: Path) -> None:
    old = os.umask(0o022)
    try:
        save_profile(os.environ, profile())
    finally:
        os.umask(old)
    assert stat.S_IMODE((home / "config.toml.lock").stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["directory", "huge"])
def test_a_config_file_that_is_no_regular_file_or_too_large_is_refused_in_its_own_words(home: Path, kind: str) -> None:
    home.mkdir(mode=0o700)
    path = home / "config.toml"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"#" * (2 * 1024 * 1024))
    with pytest.raises(ConfigError) as refused:
        save_profile(os.environ, profile())
    assert "it was not changed" in str(refused.value) and "delete" not in str(refused.value)


def test_a_directory_others_can_change_is_refused_in_the_config_files_words_before_any_question(home: Path) -> None:
    home.mkdir()
    home.chmod(0o777)
    for attempt in (lambda: config_digest(os.environ), lambda: save_profile(os.environ, profile())):
        with pytest.raises(ConfigError) as refused:
            attempt()
        assert "can be changed by other users (mode 777)" in str(refused.value)
        assert "state directory" not in str(refused.value)
    assert not (home / "config.toml").exists()
