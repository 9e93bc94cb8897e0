"""TLS settings: RabbitMQ's ssl_options equivalents and Redis's tls-* parameters read from the
config file and the command line, the AMQPS port rule (5671 only when a certificate is set), and
the start-up refusals of an incomplete TLS setup (net/tls.py)."""

import ssl

import pytest

from yizhan.cli import build_parser, config_from_args
from yizhan.config import Config, ConfigFileError, load_file
from yizhan.net import tls
from yizhan.redis.params import Params
from yizhan.testing.certs import make_certificates


def test_amqp_ssl_options_from_the_config_file(tmp_path):
    path = tmp_path / "yizhan.conf"
    path.write_text("amqp-ssl-certfile /c/server.pem\namqp-ssl-keyfile /c/server.key\n"
                    "amqp-ssl-cacertfile /c/ca.pem\namqp-ssl-verify verify_peer\n"
                    "amqp-ssl-fail-if-no-peer-cert true\namqps-port 5999\n")
    config = load_file(path)
    assert (config.amqp_ssl_certfile, config.amqp_ssl_keyfile, config.amqp_ssl_cacertfile) == (
        "/c/server.pem", "/c/server.key", "/c/ca.pem")
    assert config.amqp_ssl_verify == "verify_peer" and config.amqp_ssl_fail_if_no_peer_cert is True
    assert config.amqps_port == 5999


@pytest.mark.parametrize("line, reason", [
    ("amqp-ssl-verify maybe", "'amqp-ssl-verify' takes verify_peer or verify_none"),
    ("amqp-ssl-fail-if-no-peer-cert yes", "'amqp-ssl-fail-if-no-peer-cert' takes true or false"),
    ("amqp-ssl-certfile", "'amqp-ssl-certfile' takes exactly one value"),
    ("tls-auth-clients maybe", "bad value for 'tls-auth-clients': argument(s) must be one of the following: no, yes, optional"),
])
def test_bad_tls_lines_name_the_file_and_line(tmp_path, line, reason):
    path = tmp_path / "yizhan.conf"
    path.write_text(line + "\n")
    with pytest.raises(ConfigFileError) as info:
        load_file(path)
    assert str(info.value) == f"{path}:1: {reason}"


def test_tls_options_on_the_command_line_become_redis_parameters():
    args = build_parser().parse_args(["serve", "--tls-port", "6380", "--tls-cert-file", "s.pem",
                                      "--tls-auth-clients", "optional", "--amqps-port", "5999"])
    config = config_from_args(args)
    assert config.redis_params["tls-port"] == "6380" and config.redis_params["tls-cert-file"] == "s.pem"
    assert config.redis_params["tls-auth-clients"] == "optional" and config.amqps_port == 5999


def test_a_bad_tls_value_on_the_command_line_is_refused():
    args = build_parser().parse_args(["serve", "--tls-auth-clients", "maybe"])
    with pytest.raises(ConfigFileError, match="--tls-auth-clients: bad value"):
        config_from_args(args)


def test_amqps_is_on_5671_only_with_a_certificate():
    assert tls.listener_port(Config(), tls.AMQPS) is None
    assert tls.listener_port(Config(amqp_ssl_certfile="c.pem", amqp_ssl_keyfile="k.pem"), tls.AMQPS) == 5671
    assert tls.listener_port(Config(amqp_ssl_certfile="c.pem", amqps_port=0), tls.AMQPS) == 0
    with pytest.raises(tls.TLSConfigError, match="amqps-port is set but amqp-ssl-certfile is not"):
        tls.listener_port(Config(amqps_port=5671), tls.AMQPS)


def test_management_https_is_on_15671_only_with_a_certificate(tmp_path):
    path = tmp_path / "yizhan.conf"
    path.write_text("management-ssl-certfile /c/s.pem\nmanagement-ssl-keyfile /c/s.key\n"
                    "management-ssl-verify verify_peer\n")
    config = load_file(path)
    assert config.management_ssl_certfile == "/c/s.pem" and config.management_ssl_verify == "verify_peer"
    assert tls.listener_port(config, tls.MANAGEMENT_HTTPS) == 15671
    assert tls.listener_port(Config(), tls.MANAGEMENT_HTTPS) is None
    with pytest.raises(tls.TLSConfigError, match="management-ssl-verify verify_peer needs management-ssl-cacertfile"):
        tls.listener_context(config, tls.MANAGEMENT_HTTPS)


def test_redis_tls_is_off_without_a_tls_port():
    assert tls.redis_context(Params({"tls-cert-file": "missing.pem"})) is None


@pytest.mark.parametrize("params, message", [
    ({}, "No tls-cert-file configured!"),
    ({"tls-cert-file": "s.pem"}, "No tls-key-file configured!"),
    ({"tls-cert-file": "s.pem", "tls-key-file": "s.key"}, "Either tls-ca-cert-file or tls-ca-cert-dir"),
    ({"tls-cert-file": "/nonexistent.pem", "tls-key-file": "s.key", "tls-auth-clients": "no"},
     "Failed to load certificate or private key /nonexistent.pem"),
])
def test_an_incomplete_redis_tls_setup_is_refused(params, message):
    with pytest.raises(tls.TLSConfigError, match=message.replace("!", "")):
        tls.redis_context(Params(dict(params, **{"tls-port": "6380"})))


def test_verify_modes_follow_tls_auth_clients(tmp_path):
    certs = make_certificates(tmp_path)
    modes = {}
    for auth in ("yes", "optional", "no"):
        context = tls.redis_context(Params({"tls-port": "6380", "tls-cert-file": certs.server_cert,
                                            "tls-key-file": certs.server_key, "tls-ca-cert-file": certs.ca,
                                            "tls-auth-clients": auth, "tls-protocols": "TLSv1.2"}))
        modes[auth] = context.verify_mode
        assert context.minimum_version == context.maximum_version == ssl.TLSVersion.TLSv1_2
    assert modes == {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "no": ssl.CERT_NONE}
