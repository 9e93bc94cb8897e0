"""Redis parameters in the config file are checked as CONFIG SET checks them, so a bad value is
a one-line error naming the file and line instead of a traceback at start-up."""

import pytest

from yizhan.config import ConfigFileError, load_file


@pytest.mark.parametrize("line, reason", [
    ("appendfsync sometimes", "argument(s) must be one of the following: everysec, always, no"),
    ("aof-load-truncated maybe", "argument must be 'yes' or 'no'"),
    ("appenddirname some/where", "appenddirname can't be a path, just a dirname"),
    ("maxmemory lots", "argument must be a memory value"),
])
def test_a_bad_redis_value_names_the_file_and_line(tmp_path, line, reason):
    path = tmp_path / "yizhan.conf"
    path.write_text(f"# persistence\n{line}\n")
    with pytest.raises(ConfigFileError) as info:
        load_file(path)
    assert str(info.value) == f"{path}:2: bad value for '{line.split()[0]}': {reason}"


def test_good_values_become_start_values(tmp_path):
    path = tmp_path / "yizhan.conf"
    path.write_text('aof-load-truncated no\nappenddirname my-aof\nsave ""\nsome-unknown-name 1\n')
    params = load_file(path).redis_params
    assert params["aof-load-truncated"] == "no" and params["appenddirname"] == "my-aof"
    assert params["save"] == ""
