"""Settings: flags > environment > sites.conf > defaults, and clear errors for bad values."""

from __future__ import annotations

import os
import typing

import msgspec
import pytest

from benchtest import ConfigError, Settings, load_settings
from benchtest.cli import _parser
from benchtest.paging import PAGINATORS
from benchtest.settings import (
    BY_NAME,
    DECLARED,
    GROUPS,
    Declared,
    parse_assertions,
    parse_headers,
    show,
)
from scripts.generate_settings import DOC, END, START, TERRAFORM, markdown_table, terraform

URL = "https://ledger.example/transactions/{page}.json"


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "sites.conf"
    path.write_text(
        "[default]\nurl = https://file.example/t/{page}.json\nconcurrency = 3\nretries = 1\n"
        "[other]\nurl = https://other.example/\n"
    )
    return str(path)


def test_defaults_use_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}) == Settings()
    assert Settings().is_sample


def value(settings: Settings, name: str) -> object:
    return getattr(getattr(settings, BY_NAME[name].group), name)


def test_precedence_flags_over_environment_over_file_over_defaults(conf):
    env = {"BENCH_CONCURRENCY": "5", "BENCH_TIMEOUT": "2.5"}
    s = load_settings(overrides={"concurrency": 7, "url": None}, env=env, config_file=conf)
    assert s.fetch.concurrency == 7  # flag
    assert s.fetch.timeout == 2.5  # environment
    assert s.fetch.url == "https://file.example/t/{page}.json"  # file
    assert s.fetch.retries == 1  # file
    assert s.fetch.deadline == Settings().fetch.deadline  # default
    assert s.origins["concurrency"] == "option"
    assert s.origins["timeout"] == "BENCH_TIMEOUT"
    assert s.origins["retries"] == "config file [default]"
    assert load_settings(env={"BENCH_API_URL": URL}, config_file=conf).fetch.url == URL


def test_a_site_section_is_chosen_by_name(conf):
    s = load_settings(env={}, config_file=conf, site="other")
    assert s.fetch.url == "https://other.example/"


def test_sites_conf_in_the_working_directory_is_read(conf, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).fetch.concurrency == 3


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sample", "sample"),
        (
            " https://a.example/transactions/{page}.json ",
            "https://a.example/transactions/{page}.json",
        ),
        ("https://a.example/transactions/", "https://a.example/transactions/{page}.json"),
        ("http://127.0.0.1:8080/t/{page}", "http://127.0.0.1:8080/t/{page}"),
    ],
)
def test_urls_are_normalized(given, expected):
    """Stripped when loaded; a page-number base ending in '/' gets {page}.json (paging)."""
    from benchtest.paging import paginator

    loaded = load_settings(overrides={"url": given}, env={}, config_file=None)
    assert loaded.fetch.url == given.strip()
    if not loaded.is_sample:
        assert paginator(loaded.fetch.url, loaded).template == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "ftp://a.example/{page}"}, r"url: must be 'sample' or an http\(s\) URL"),
        ({"concurrency": 0}, r"concurrency: must be between 1 and 64"),
        ({"max_pages": 0}, r"max_pages: must be between 1 and 1000000 \(got 0\)"),
        ({"concurrency": "many"}, r"concurrency: expected a whole number in ASCII digits"),
        ({"timeout": "nan"}, r"timeout: expected a number in ASCII digits \(got 'nan'\)"),
        ({"timeout": float("nan")}, r"timeout: must be between 0.1 and 600 \(got nan\)"),
        ({"timeout": "inf"}, r"timeout: expected a number in ASCII digits"),
        ({"timeout": "1e3"}, r"timeout: expected a number in ASCII digits"),
        ({"concurrency": "1_0"}, r"concurrency: expected a whole number in ASCII digits"),
        ({"concurrency": "\u0661\u0660"}, r"concurrency: expected a whole number in ASCII"),
        ({"retries": "\uff13"}, r"retries: expected a whole number in ASCII digits"),
        ({"retries": 2.5}, r"retries: expected a whole number"),
        ({"deadline": True}, r"deadline: expected a number"),
        ({"active_days_only": "maybe"}, r"active_days_only: expected true or false"),
        ({"colour": "blue"}, r"unknown setting: colour"),
    ],
)
def test_bad_settings_are_configuration_errors(overrides, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=overrides, env={})


def test_bad_environment_values_name_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^BENCH_RETRIES: retries: must be between 0 and 20"):
        load_settings(env={"BENCH_RETRIES": "99"})


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("1", True), ("off", False), ("No", False)]
)
def test_boolean_environment_values(text, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(env={"BENCH_EXCLUDE_DUPLICATES": text})
    assert loaded.report.exclude_duplicates is value


def test_config_file_problems_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found"):
        load_settings(env={}, config_file=str(tmp_path / "missing.conf"))
    bad = tmp_path / "bad.conf"
    bad.write_text("[default]\nspeed = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\): speed"):
        load_settings(env={}, config_file=str(bad))
    with pytest.raises(ConfigError, match=r"no \[nope\] section"):
        load_settings(env={}, config_file=str(bad), site="nope")


def example(setting: Declared) -> object:
    """A valid value for ``setting`` that is not its default."""
    if setting.kind is bool:
        return True
    if setting.choices:
        return setting.choices[-1]
    if setting.kind is str:
        examples = {"url": URL, "time_zone": "Europe/Paris", "currency": "EUR"}
        examples |= {"sign_values": "Credit=+,Debit=-", "skip_values": "pending"}
        return examples.get(setting.name, "X-Api-Key")
    if setting.name == "headers":
        return parse_headers("xero-tenant-id=0a1b,Stripe-Version=2024-06-20")
    if setting.kind is tuple:
        return parse_assertions("2013-12-22=18377.16")
    assert setting.bounds is not None
    low, high = setting.bounds
    return setting.kind(high if low == setting.default else low)


def without(settings: Settings, name: str) -> Settings:
    """``settings`` with setting ``name`` back at its default."""
    group = BY_NAME[name].group
    restored = msgspec.structs.replace(getattr(settings, group), **{name: BY_NAME[name].default})
    return Settings(**{**{g: getattr(settings, g) for g in GROUPS}, group: restored})


@pytest.mark.parametrize("setting", DECLARED, ids=lambda s: s.name)
def test_every_setting_is_a_flag_a_variable_and_a_config_file_key(setting, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wanted = example(setting)
    text = show(wanted)
    args = _parser().parse_args([setting.flag] if setting.kind is bool else [setting.flag, text])
    conf = tmp_path / "site.conf"
    conf.write_text(f"[default]\n{setting.name} = {text}\n")
    loaded = {
        "flag": load_settings(overrides={s.name: getattr(args, s.name) for s in DECLARED}, env={}),
        "environment": load_settings(env={setting.env: text}),
        "config file": load_settings(env={}, config_file=str(conf)),
    }
    for where, settings in loaded.items():
        assert value(settings, setting.name) == wanted, where
        assert without(settings, setting.name) == Settings()


@pytest.mark.parametrize("setting", DECLARED, ids=lambda s: s.name)
def test_every_setting_is_declared_with_a_real_type_a_default_and_an_environment_name(setting):
    assert setting.kind in (str, int, float, bool, tuple)
    assert isinstance(setting.default, setting.kind)
    assert value(Settings(), setting.name) == setting.default
    assert setting.env.startswith("BENCH_")
    assert (setting.bounds is None) == (setting.kind in (str, bool, tuple))
    assert setting.help
    assert setting.expect is not None


def test_names_flags_and_variables_are_unique():
    for key in ("name", "flag", "env"):
        values = [getattr(s, key) for s in DECLARED]
        assert len(set(values)) == len(values) == len(BY_NAME), key


def test_each_paging_style_is_declared_once_and_has_one_paginator():
    (paging,) = (s for s in DECLARED if s.name == "paging")
    assert paging.choices is not None
    assert set(paging.choices) == set(PAGINATORS)


def test_flags_not_given_leave_the_environment_and_file_in_charge():
    args = _parser().parse_args([])
    assert [getattr(args, s.name) for s in DECLARED] == [None] * len(DECLARED)


def test_help_shows_each_flag_with_its_default_bounds_and_variable_in_its_group():
    help = _parser().format_help()
    text = " ".join(help.split())
    for s in DECLARED:
        limits = "" if s.bounds is None else f"; {show(s.bounds[0])}-{show(s.bounds[1])}"
        assert f"(default {show(s.default)}{limits}) [{s.env}]" in text, s.name
    groups = [help.index(f"{group} settings:") for group in GROUPS]
    assert groups == sorted(groups)
    for s in DECLARED:  # each flag in its own group's part of the help
        after = [g for g in GROUPS if help.index(f"{g} settings:") < help.index(f"  {s.flag}")]
        assert after[-1] == s.group, s.name


def test_the_declarations_are_msgspec_types():
    """Bounds and choices are checked by msgspec, from the one declaration."""
    for group, struct in GROUPS.items():
        hints = typing.get_type_hints(struct, include_extras=True)
        for s in (s for s in DECLARED if s.group == group):
            assert typing.get_origin(hints[s.name]) is typing.Annotated
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"concurrency": 65}, GROUPS["fetch"])


def test_the_settings_table_and_terraform_variables_match_the_declarations():
    doc = DOC.read_text(encoding="utf-8")
    table = doc.partition(START)[2].partition(END)[0]
    assert table.strip() == markdown_table().strip(), "run: python scripts/generate_settings.py"
    generated = TERRAFORM.read_text(encoding="utf-8")
    assert generated == terraform(), "run: python scripts/generate_settings.py"
    for s in DECLARED:  # every setting reaches the function, by the map or a variable of its own
        assert f'"{s.name}"' in generated or s.env in generated, s.name


def test_a_bad_url_names_its_origin_and_hides_credentials(tmp_path, monkeypatch):
    from benchtest.paging import paginator

    monkeypatch.chdir(tmp_path)
    loaded = load_settings(env={"BENCH_API_URL": "https://me:secret@a.example/transactions"})
    with pytest.raises(ConfigError) as caught:
        paginator(loaded.fetch.url, loaded)
    exc = caught.value
    assert (exc.origin, exc.field, exc.url) == (
        "BENCH_API_URL",
        "url",
        "https://a.example/transactions",
    )
    assert str(exc) == (
        "BENCH_API_URL: url: must contain '{page}' or end with '/', "
        "got 'https://a.example/transactions'"
    )


def _fifo(folder):
    path = folder / "sites.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.conf", r"^config file not found: '.*missing\.conf'$"),
        (lambda d: d, r"^config file '.*': not a regular file$"),
        (_fifo, r"^config file '.*': not a regular file$"),  # refused at once, never waited on
        (lambda d: _write(d, b"[default]\nretries = 3\n\x00\x01\x02"), r": binary, not an INI"),
        (lambda d: _write(d, b"[default]\nurl = caf\xe9\n"), r": not UTF-8 text \(byte 19\)$"),
        (lambda d: _write(d, b"retries = 3\n"), r": File contains no section headers"),
        (lambda d: _write(d, b"#" * (1 << 20) + b"\n"), r": larger than 1,048,576 bytes$"),
    ],
    ids=["missing", "directory", "fifo", "binary", "not-utf8", "not-ini", "huge"],
)
@pytest.mark.parametrize("named_by", ["argument", "BENCH_CONFIG"])
def test_a_named_config_file_that_cannot_be_used_is_a_configuration_error(
    make, message, named_by, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    path = str(make(tmp_path))
    named = {"config_file": path} if named_by == "argument" else {}
    env = {"BENCH_CONFIG": path} if named_by == "BENCH_CONFIG" else {}
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(env=env, **named)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def _write(directory, data: bytes):
    path = directory / "site.conf"
    path.write_bytes(data)
    return path


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_config_file_is_a_configuration_error(tmp_path):
    path = _write(tmp_path, b"[default]\nretries = 3\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"^config file '.*': cannot read it: Permission denied$"):
        load_settings(env={}, config_file=str(path))


def test_a_broken_sites_conf_in_the_working_directory_is_not_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sites.conf").write_bytes(b"[default]\nurl = \xff\n")
    with pytest.raises(ConfigError, match=r"^config file 'sites.conf': not UTF-8 text"):
        load_settings(env={})


@pytest.mark.parametrize("blank", [" ", "\t", "\n"])
def test_a_blank_url_in_the_environment_is_an_error_not_the_sample(blank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^BENCH_API_URL: url: must be 'sample' or an http"):
        load_settings(env={"BENCH_API_URL": blank})


def test_an_empty_environment_variable_means_unset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={"BENCH_API_URL": "", "BENCH_RETRIES": ""}) == Settings()


def load_from(origin: str, name: str, text: str, directory) -> Settings:
    """Settings with ``name`` set to ``text`` by a flag, its variable or a config file."""
    if origin == "flag":
        args = _parser().parse_args([f"--{name}={text}"])
        return load_settings(overrides={name: getattr(args, name)}, env={})
    if origin == "environment":
        return load_settings(env={f"BENCH_{name.upper()}": text})
    conf = directory / "site.conf"
    conf.write_text(f"[default]\n{name} = {text}\n", encoding="utf-8")
    return load_settings(env={}, config_file=str(conf))


@pytest.mark.parametrize("text", ["1_0", "\u0661\u0660", "\uff11", "0x10", "+ 1", "1.", "1e1"])
@pytest.mark.parametrize("origin", ["flag", "environment", "config file"])
def test_counts_take_ascii_digits_only_from_every_origin(text, origin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"retries: expected a whole number in ASCII digits"):
        load_from(origin, "retries", text, tmp_path)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1_0.5", "\u0661.5", "5e1"])
@pytest.mark.parametrize("origin", ["flag", "environment", "config file"])
def test_seconds_take_plain_ascii_decimals_only(text, origin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"timeout: expected a number in ASCII digits"):
        load_from(origin, "timeout", text, tmp_path)


@pytest.mark.parametrize(("text", "expected"), [(" 7 ", 7), ("007", 7), ("0.5", 0.5), (".5", 0.5)])
def test_plain_numbers_still_parse(text, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "retries" if isinstance(expected, int) else "backoff"
    assert value(load_settings(env={f"BENCH_{name.upper()}": text}), name) == expected
